"""Property-based checks of the public API: never a silent wrong forecast (issue 18).

hypothesis generates panels with extreme magnitudes (1e-30 ... 1e30), constant and
near-constant series, tz-aware indexes across daylight-saving changes, odd dtypes and ids,
wide and long layouts, and random valid parameters. Whatever it generates, a fit and
predict either raise a :class:`~forecast.ForecastError`, or return finite forecasts on the
right future dates; and the same rows in another order give the same outcome, bitwise.

Examples per run: ``BASELINE_EXAMPLES`` + ``NETWORK_EXAMPLES`` (both printed in the test
ids' docstrings below, and quoted in the issue's closing note).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from forecast import (
    DriftForecaster,
    ForecastError,
    GRUForecaster,
    LSTMForecaster,
    NaiveForecaster,
    RNNForecaster,
    SeasonalNaiveForecaster,
)

BASELINE_EXAMPLES = 150
NETWORK_EXAMPLES = 60

# Starts a few steps before a daylight-saving change in Berlin or New York (or nowhere).
STARTS = ["2021-03-20", "2021-10-24", "2022-03-06", "2022-10-30", "2020-01-01"]
FREQS = ["D", "h", "MS", "W-SUN", "B"]


@dataclass
class Case:
    frame: pd.DataFrame
    long: bool
    freq: str
    n_series: int


def _values(draw: Any, n: int) -> np.ndarray:
    magnitude = 10.0 ** draw(st.integers(-30, 30))
    shape = draw(st.sampled_from(["sine", "constant", "near_constant", "walk", "zeros"]))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    if shape == "sine":
        base = 2 + np.sin(t / 3 + rng.uniform(0, 6))
    elif shape == "constant":
        base = np.full(n, rng.uniform(-3, 3))
    elif shape == "near_constant":  # wiggles a millionth of the level
        base = 1 + 1e-6 * rng.standard_normal(n)
    elif shape == "walk":
        base = np.cumsum(rng.standard_normal(n))
    else:
        base = np.zeros(n)
    return magnitude * base


@st.composite
def cases(draw: Any) -> Case:
    freq = draw(st.sampled_from(FREQS))
    tz = draw(st.sampled_from([None, "Europe/Berlin", "America/New_York"]))
    start = draw(st.sampled_from(STARTS))
    long = draw(st.booleans())
    n_series = draw(st.integers(1, 4)) if long else 1
    id_kind = draw(st.sampled_from(["str", "int", "mixed"]))
    dtype = draw(st.sampled_from(["float64", "float32", "int64"]))
    parts = []
    for i in range(n_series):
        n = draw(st.integers(4, 30))
        offset = draw(st.integers(0, 5))
        times = pd.date_range(start, periods=n + offset, freq=freq, tz=tz)[offset:]
        y = _values(draw, n)
        if dtype == "int64":
            y = np.clip(np.round(y), -(2**53), 2**53).astype(np.int64)
        else:
            y = y.astype(dtype)
        sid: Any = {"str": f"s{i}", "int": 10 - i, "mixed": (f"s{i}" if i % 2 else i)}[id_kind]
        parts.append(pd.DataFrame({"unique_id": sid, "ds": times, "y": y}))
    frame = pd.concat(parts, ignore_index=True)
    if id_kind == "mixed":
        frame["unique_id"] = frame["unique_id"].astype(object)
    if not long:
        frame = frame.drop(columns="unique_id").set_index("ds")
    return Case(frame, long, freq, n_series)


def _outcome(make: Any, case: Case, frame: pd.DataFrame) -> pd.DataFrame | str:
    """The forecast, or the name of the ForecastError raised (anything else fails the test)."""
    with warnings.catch_warnings():
        # Shuffled rows are sorted back with a warning; near-constant data may warn too.
        warnings.simplefilter("ignore")
        try:
            return make().fit(frame).predict()
        except ForecastError as exc:
            return type(exc).__name__


def _check(make: Any, case: Case, horizon: int, seed: int) -> None:
    frame = case.frame
    result = _outcome(make, case, frame)
    shuffled = frame.sample(frac=1.0, random_state=seed)
    again = _outcome(make, case, shuffled)
    # `pytest --hypothesis-show-statistics` shows how the examples ended.
    event(f"raised {result}" if isinstance(result, str) else "forecast")
    if isinstance(result, str):
        assert again == result
        return
    assert not isinstance(again, str), again
    pd.testing.assert_frame_equal(again, result)  # the same model, whatever the row order
    values = result.drop(columns=["unique_id", "ds"], errors="ignore").to_numpy(dtype=float)
    assert np.isfinite(values).all()
    if case.long:
        for sid, rows in frame.groupby("unique_id", sort=False):
            last = rows["ds"].max()
            expected = pd.date_range(last, periods=horizon + 1, freq=case.freq)[1:]
            got = result.loc[result["unique_id"] == sid, "ds"]
            assert list(got) == list(expected), (sid, list(got), list(expected))
    else:
        expected = pd.date_range(frame.index.max(), periods=horizon + 1, freq=case.freq)[1:]
        assert list(result.index) == list(expected)


def _long_params(case: Case) -> dict[str, Any]:
    return {"id_col": "unique_id", "time_col": "ds"} if case.long else {}


@settings(
    max_examples=BASELINE_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    case=cases(),
    kind=st.sampled_from(["naive", "seasonal", "drift"]),
    horizon=st.integers(1, 4),
    season=st.integers(1, 4),
    seed=st.integers(0, 1000),
)
def test_baselines_give_finite_forecasts_or_a_forecast_error(case, kind, horizon, season, seed):
    params = {"horizon": horizon, "freq": case.freq, **_long_params(case)}
    classes = {"naive": NaiveForecaster, "drift": DriftForecaster}

    def make() -> Any:
        if kind == "seasonal":
            return SeasonalNaiveForecaster(season_length=season, **params)
        return classes[kind](**params)

    _check(make, case, horizon, seed)


@pytest.mark.slow
@settings(
    max_examples=NETWORK_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    case=cases(),
    cls=st.sampled_from([RNNForecaster, LSTMForecaster, GRUForecaster]),
    horizon=st.integers(1, 3),
    seq_len=st.integers(1, 6),
    scaler=st.sampled_from(["standard", "minmax", "window", "window_level", None]),
    quantiles=st.sampled_from([None, [0.1, 0.5, 0.9]]),
    seed=st.integers(0, 1000),
)
def test_networks_give_finite_forecasts_or_a_forecast_error(
    case, cls, horizon, seq_len, scaler, quantiles, seed
):
    def make() -> Any:
        return cls(
            horizon=horizon,
            seq_len=seq_len,
            scaler=scaler,
            quantiles=quantiles,
            freq=case.freq,
            hidden_size=4,
            max_epochs=1,
            batch_size=64,
            validation_size=0,
            progress_bar=False,
            random_state=seed,
            **_long_params(case),
        )

    _check(make, case, horizon, seed)
