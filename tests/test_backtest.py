"""Backtests cut where they say, score what they forecast, and cannot see past a cutoff."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import FAST, make_long_frame, make_sine_frame
from sklearn.base import clone

from forecast import (
    DampedTrendForecaster,
    DataError,
    DriftForecaster,
    ETSForecaster,
    InvalidParameterError,
    NaiveForecaster,
    OptimisedThetaForecaster,
    RNNForecaster,
    SeasonalNaiveForecaster,
    ThetaForecaster,
)
from forecast.data.panel import to_panel
from forecast.datasets import load_air_passengers
from forecast.evaluation.backtest import _forecast_windows, backtest
from forecast.evaluation.folds import make_folds
from forecast.metrics import mae, mase, rmse, smape

LONG = {"id_col": "unique_id", "time_col": "ds"}


def test_windows_cutoffs_and_forecasts_of_a_wide_series():
    df = load_air_passengers()
    y = df["passengers"]
    res = backtest(
        SeasonalNaiveForecaster(season_length=12, horizon=12), df, n_windows=3, season_length=12
    )
    fc = res.forecasts
    assert list(fc.columns) == [
        "window",
        "cutoff",
        "month",
        "step",
        "target",
        "actual",
        "forecast",
    ]
    assert len(fc) == 3 * 12
    cutoffs = fc.groupby("window")["cutoff"].first()
    assert list(cutoffs) == [y.index[-37], y.index[-25], y.index[-13]]  # step = horizon
    ahead = [c + pd.DateOffset(months=k) for c, k in zip(fc["cutoff"], fc["step"], strict=True)]
    assert list(fc["month"]) == ahead
    np.testing.assert_array_equal(fc["actual"], y.loc[fc["month"]].to_numpy())
    # Seasonal naive: the value 12 months before the forecast month.
    before = fc["month"] - pd.DateOffset(months=12)
    np.testing.assert_array_equal(fc["forecast"], y.loc[before].to_numpy())
    assert (fc["target"] == "passengers").all()


def test_metrics_per_window_follow_the_definitions():
    df = load_air_passengers()
    res = backtest(
        NaiveForecaster(horizon=6),
        df,
        n_windows=2,
        step=3,
        metrics=["mae", "rmse", "smape", "mase", "mape"],
        season_length=12,
    )
    assert list(res.metrics.columns) == [
        "window",
        "cutoff",
        "target",
        "mae",
        "rmse",
        "smape",
        "mase",
        "mape",
    ]
    for w, group in res.forecasts.groupby("window"):
        row = res.metrics.iloc[w]
        assert row["cutoff"] == group["cutoff"].iloc[0]
        assert row["mae"] == pytest.approx(mae(group["actual"], group["forecast"]))
        assert row["rmse"] == pytest.approx(rmse(group["actual"], group["forecast"]))
        assert row["smape"] == pytest.approx(smape(group["actual"], group["forecast"]))
        history = df.loc[: row["cutoff"], "passengers"]
        assert row["mase"] == pytest.approx(
            mase(group["actual"], group["forecast"], history, season_length=12)
        )
    # Overlapping windows: step 3 < horizon 6.
    assert res.metrics["cutoff"].diff().iloc[1] == pd.Timedelta(days=92)  # Jul -> Oct
    summary = res.summary()
    assert list(summary.index) == ["passengers"]
    assert summary.loc["passengers", "mae"] == pytest.approx(res.metrics["mae"].mean())


def test_panel_cutoffs_count_from_each_series_own_end():
    frame = make_long_frame()  # a, b, c: different lengths and end dates
    res = backtest(NaiveForecaster(horizon=2, **LONG), frame, n_windows=3, step=4)
    assert len(res.forecasts) == 3 * 3 * 2
    assert len(res.metrics) == 3 * 3
    assert list(res.metrics.columns[:4]) == ["unique_id", "window", "cutoff", "target"]
    for (sid, w), group in res.forecasts.groupby(["unique_id", "window"]):
        times = frame.loc[frame["unique_id"] == sid, "ds"].reset_index(drop=True)
        position = len(times) - 2 - (2 - w) * 4 - 1  # the cutoff row of this series
        assert (group["cutoff"] == times[position]).all()
        assert list(group["ds"]) == list(times[position + 1 : position + 3])
        last = frame.loc[(frame["unique_id"] == sid) & (frame["ds"] == times[position]), "y"]
        assert (group["forecast"] == last.iloc[0]).all()


def test_multiindex_and_multiple_targets():
    frame = make_long_frame().set_index(["unique_id", "ds"])
    res = backtest(NaiveForecaster(), frame, n_windows=2)
    assert set(res.forecasts["unique_id"]) == {"a", "b", "c"}
    wide = backtest(NaiveForecaster(horizon=2), make_sine_frame(), n_windows=2)
    assert list(wide.summary().index) == ["y", "x"]
    assert len(wide.forecasts) == 2 * 2 * 2


@pytest.mark.parametrize(
    ("refit", "fitted_at"),
    [(True, [0, 1, 2, 3, 4]), (False, [0]), (2, [0, 2, 4]), (3, [0, 3])],
)
def test_refit_schedule(refit, fitted_at):
    frame = make_long_frame()
    res = backtest(NaiveForecaster(**LONG), frame, n_windows=5, refit=refit)
    models = res.models
    assert len(models) == 5
    assert [w for w in range(5) if w == 0 or models[w] is not models[w - 1]] == fitted_at
    # Every model was fitted at the cutoff of the first window it served.
    for w in fitted_at:
        first = res.metrics[res.metrics["window"] == w]
        assert list(models[w].cutoffs_) == list(first["cutoff"])


def test_without_refit_later_windows_forecast_from_their_own_history():
    df = load_air_passengers()
    res = backtest(DriftForecaster(horizon=3), df, n_windows=4, refit=False)
    model = res.models[0]
    for _, group in res.forecasts.groupby("window"):
        history = df.loc[: group["cutoff"].iloc[0]]
        np.testing.assert_allclose(group["forecast"], model.predict(history)["passengers"])


def test_sliding_window_fits_on_window_length_rows():
    df = load_air_passengers()
    y = df["passengers"]
    res = backtest(DriftForecaster(horizon=2), df, n_windows=3, window="sliding", window_length=24)
    for w, model in enumerate(res.models):
        cutoff = res.metrics["cutoff"].iloc[w]
        window = y.loc[:cutoff].iloc[-24:]
        assert model.training_start_[0] == window.index[0]
        np.testing.assert_allclose(model.slope_[0, 0], (window.iloc[-1] - window.iloc[0]) / 23)
    # Default length: what the first window had, kept for every window.
    default = backtest(DriftForecaster(horizon=2), df, n_windows=3, window="sliding")
    starts = [m.training_start_[0] for m in default.models]
    assert starts == [y.index[0], y.index[2], y.index[4]]


@pytest.mark.parametrize(
    "make",
    [ThetaForecaster, DampedTrendForecaster, ETSForecaster, OptimisedThetaForecaster],
)
@pytest.mark.parametrize("refit", [True, False])
def test_a_sliding_window_forecasts_from_that_window_only(make, refit):
    # The local models re-estimate on the history they are given: a sliding backtest must
    # give them the window, not everything before the cutoff (it gave the expanding
    # window's forecasts, silently).
    rng = np.random.default_rng(0)
    df = pd.concat(
        [  # up for most of the history, then down: a window sees another trend
            pd.DataFrame(
                {
                    "unique_id": sid,
                    "ds": pd.date_range("2020-01-01", periods=n, freq="MS"),
                    "y": 50
                    + np.minimum(np.arange(n), n - 25) * 0.8
                    - np.maximum(np.arange(n) - (n - 25), 0) * 1.5
                    + rng.normal(0, 0.5, n),
                }
            )
            for sid, n in {"a": 60, "b": 48, "c": 72}.items()
        ],
        ignore_index=True,
    )
    window, horizon = 24, 3
    res = backtest(
        make(horizon=horizon, **LONG), df, n_windows=2, window="sliding",
        window_length=window, refit=refit,
    )  # fmt: skip
    expanding = backtest(make(horizon=horizon, **LONG), df, n_windows=2, refit=refit)
    assert not np.allclose(res.forecasts["forecast"], expanding.forecasts["forecast"])
    for w in range(2):
        got = res.forecasts[res.forecasts["window"] == w].sort_values(["unique_id", "ds"])
        ahead = 2 * horizon - w * horizon  # rows after each series' cutoff, up to its end
        history = pd.concat(
            [g.iloc[: len(g) - ahead].iloc[-window:] for _, g in df.groupby("unique_id")]
        )
        model = res.models[w] if not refit else make(horizon=horizon, **LONG).fit(history)
        expected = model.predict(history).sort_values(["unique_id", "ds"])
        np.testing.assert_allclose(got["forecast"], expected["y"], rtol=1e-12)


def test_the_users_estimator_is_not_modified():
    unfitted = NaiveForecaster(horizon=2)
    params = unfitted.get_params()
    res = backtest(unfitted, load_air_passengers(), n_windows=2)
    assert unfitted.get_params() == params
    assert not hasattr(unfitted, "last_values_")
    assert all(m is not unfitted for m in res.models)
    fitted = NaiveForecaster(horizon=2).fit(make_sine_frame())
    before = fitted.last_values_.copy()
    backtest(fitted, load_air_passengers(), n_windows=2)
    np.testing.assert_array_equal(fitted.last_values_, before)
    assert fitted.target_names_ == ["y", "x"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_windows": 0}, "'n_windows' parameter of backtest must be an int >= 1. Got 0"),
        ({"step": 0}, "'step' parameter of backtest must be an int >= 1 or None. Got 0"),
        ({"refit": 0}, "'refit' parameter of backtest must be an int >= 1. Got 0"),
        ({"refit": "yes"}, "'refit' parameter of backtest must be an int >= 1. Got 'yes'"),
        ({"window": "rolling"}, "'window' parameter of backtest must be one of"),
        ({"window_length": 5}, "'window_length' parameter of backtest only applies to"),
        ({"metrics": "mae"}, "'metrics' parameter of backtest must be a non-empty list"),
        ({"metrics": ["mse"]}, "'metrics' parameter of backtest must be one of .* Got 'mse'"),
        ({"season_length": 0}, "'season_length' parameter of backtest must be an int >= 1"),
    ],
)
def test_parameter_errors(kwargs, message):
    with pytest.raises(InvalidParameterError, match=message):
        backtest(NaiveForecaster(), make_sine_frame(), **kwargs)


def test_the_estimator_is_checked():
    with pytest.raises(InvalidParameterError, match="'horizon' parameter of NaiveForecaster"):
        backtest(NaiveForecaster(horizon=0), make_sine_frame())
    with pytest.raises(InvalidParameterError, match="'estimator' parameter of backtest must be"):
        backtest("naive", make_sine_frame())


def test_data_errors_name_the_series():
    frame = make_long_frame()
    with pytest.raises(DataError, match=r"series 'b' has 48, but n_windows=10 .* last 49 rows"):
        backtest(NaiveForecaster(horizon=4, **LONG), frame, n_windows=10, step=5)
    with pytest.raises(DataError, match=r"window_length=50 .* series 'b' has 45 row\(s\)"):
        backtest(NaiveForecaster(**LONG), frame, n_windows=3, window="sliding", window_length=50)
    zeros = make_sine_frame().assign(y=0.0)
    with pytest.raises(DataError, match=r"MAPE divides .* the series at window 0 .* has 0"):
        backtest(NaiveForecaster(target="y"), zeros, metrics=["mape"])
    with pytest.raises(DataError, match=r"MASE is undefined for target 'y' of the series"):
        backtest(NaiveForecaster(target="y"), zeros)


# ---------------------------------------------------------------------------- recurrent model


def _rnn(**kwargs):
    return RNNForecaster(seq_len=8, horizon=3, validation_size=0.1, **FAST, **kwargs)


def _with_covariates(frame: pd.DataFrame) -> pd.DataFrame:
    """A known-future calendar column and a static level per series."""
    month = frame["ds"].dt.month
    level = frame["unique_id"].map({"a": 1.0, "b": 2.0, "c": 3.0})
    return frame.assign(month_sin=np.sin(2 * np.pi * month / 12), level=level)


@pytest.mark.parametrize(
    "estimator", ["rnn", "rnn_covariates", "drift", "seasonal", "naive_multiindex"]
)
def test_batched_forecasts_equal_a_loop_of_predict(estimator):
    frame = make_long_frame()
    ids = LONG
    if estimator == "rnn_covariates":
        frame = _with_covariates(frame)
    if estimator == "naive_multiindex":
        frame, ids = frame.set_index(["unique_id", "ds"]), {}
    model = {
        "rnn": _rnn(scaler="standard", **LONG),
        "rnn_covariates": _rnn(future_covariates="month_sin", static_covariates="level", **LONG),
        "drift": DriftForecaster(horizon=3, **LONG),
        "seasonal": SeasonalNaiveForecaster(season_length=12, horizon=3, **LONG),
        "naive_multiindex": NaiveForecaster(horizon=3),
    }[estimator]
    panel, layout = to_panel(
        frame,
        **ids,
        future=model.get_params().get("future_covariates"),
        static=model.get_params().get("static_covariates"),
        dtype=np.float64,
    )
    folds = make_folds(panel, n_windows=6, step=2, horizon=3, window_length=None, sliding=False)
    model.fit(frame.groupby(level=0).head(40) if not ids else frame.groupby("unique_id").head(40))
    batched = _forecast_windows(model, frame, panel, layout, folds, range(6))
    looped = _forecast_windows(model, frame, panel, layout, folds, range(6), batched=False)
    assert batched.shape == (6, 3, 3, 1)
    np.testing.assert_allclose(batched, looped, rtol=1e-5)


def test_known_future_covariates_are_read_but_targets_after_the_cutoff_are_not():
    frame = _with_covariates(make_long_frame())
    model = _rnn(future_covariates="month_sin", static_covariates="level", **LONG)
    clean = backtest(model, frame, n_windows=2, refit=False)
    last = clean.metrics[clean.metrics["window"] == 1].set_index("unique_id")["cutoff"]
    poisoned = frame.copy()
    poisoned.loc[poisoned["ds"] > poisoned["unique_id"].map(last), "y"] = 1e6
    res = backtest(model, poisoned, n_windows=2, refit=False)
    np.testing.assert_array_equal(res.forecasts["forecast"], clean.forecasts["forecast"])
    assert model.fit(frame).score(frame) <= 0


def _poison_after(frame: pd.DataFrame, cutoffs: pd.DataFrame, layout: str) -> pd.DataFrame:
    """Every value after each series' cutoff replaced by 1e6."""
    poisoned = frame.copy()
    if layout == "wide":
        poisoned.loc[poisoned.index > cutoffs["cutoff"].iloc[0]] = 1e6
        return poisoned
    cutoff = poisoned["unique_id"].map(cutoffs.set_index("unique_id")["cutoff"])
    poisoned.loc[poisoned["ds"] > cutoff, "y"] = 1e6
    return poisoned


@pytest.fixture(scope="module")
def clean_backtests():
    cache: dict = {}

    def get(layout: str, refit: bool):
        if (layout, refit) not in cache:
            frame = make_sine_frame(n=80) if layout == "wide" else make_long_frame()
            model = _rnn(**(LONG if layout == "long" else {}))
            cache[layout, refit] = frame, backtest(model, frame, n_windows=2, refit=refit)
        return cache[layout, refit]

    return get


@pytest.mark.parametrize("layout", ["wide", "long"])
@pytest.mark.parametrize("refit", [True, False])
@pytest.mark.parametrize("window", [0, 1])
def test_no_leakage_values_after_a_cutoff_change_nothing_at_it(
    layout, refit, window, clean_backtests
):
    frame, clean = clean_backtests(layout, refit)
    cutoffs = clean.metrics[clean.metrics["window"] == window]
    poisoned = _poison_after(frame, cutoffs, layout)
    model = clean.models[0]
    res = backtest(clone(model), poisoned, n_windows=2, refit=refit)
    for w in range(window + 1):  # windows at or before the poisoned cutoff: bit for bit
        pd.testing.assert_frame_equal(
            res.forecasts.loc[res.forecasts["window"] == w, "forecast"].to_frame(),
            clean.forecasts.loc[clean.forecasts["window"] == w, "forecast"].to_frame(),
            check_exact=True,
        )
    if window == 0:  # the later window reads the poison, so the test can see a leak
        later = res.forecasts.loc[res.forecasts["window"] == 1, "forecast"].to_numpy()
        assert not np.allclose(
            later, clean.forecasts.loc[clean.forecasts["window"] == 1, "forecast"]
        )


def test_unsorted_rows_are_said_once_per_backtest_not_once_per_refit():
    import warnings

    shuffled = make_long_frame().sample(frac=1.0, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        backtest(NaiveForecaster(horizon=2, **LONG), shuffled, n_windows=4, refit=True)
    said = [w for w in caught if "not in increasing order" in str(w.message)]
    assert len(said) == 1
