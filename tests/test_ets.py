"""ETSForecaster: the method written out scalar by scalar, the model it chooses on series whose
right model is known, and what every local model guarantees (layout, chunking, units,
backtests, files); and statistical_partner's combinations with it."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import make_smoothing_panel as panel

import forecast
from forecast import (
    CombinedForecaster,
    DampedTrendForecaster,
    ETSForecaster,
    InvalidParameterError,
    ThetaForecaster,
)
from forecast.data.seasonality import seasonal_components
from forecast.forecasters import damped as damped_module
from forecast.forecasters import ets as ets_module
from forecast.presets import PANEL_PARTNER, PANEL_PARTNER_NO_SEASON, PARTNERS, statistical_partner

LONG = {"id_col": "unique_id", "time_col": "ds"}


def reference(y: np.ndarray, horizon: int, m: int = 1) -> tuple[np.ndarray, str]:
    """The method for one series, scalar by scalar: forecasts and the chosen model's name
    (``"AN"``, ``"MAd"``...). NaN is a missing value (a zero error)."""
    y = np.asarray(y, dtype=np.float64)
    length = len(y)
    seen = ~np.isnan(y)
    start = int(np.flatnonzero(seen)[0])
    kind, components = "none", np.zeros(1)
    if m >= 2 and seen[start:].all():  # divided by the indices, or less the offsets
        kind, components = seasonal_components(y[start:], m)
    x = y.copy()
    past = components[np.arange(length - start) % len(components)]
    if kind == "multiplicative":
        x[start:] = y[start:] / past
    elif kind == "additive":
        x[start:] = y[start:] - past
    first = np.flatnonzero(seen)[:10]
    slope, intercept = np.polyfit(first, x[first], 1) if len(first) > 1 else (0.0, x[first[0]])
    n = int(seen.sum())
    positive = bool((x[seen] > 0).all())
    alphas, betas, phis = damped_module.ALPHAS, damped_module.BETAS, damped_module.PHIS
    forms = {
        "N": (3, [(a, 0.0, 0.0) for a in alphas]),
        "A": (5, [(a, b, 1.0) for a, b in itertools.product(alphas, betas)]),
        "Ad": (6, list(itertools.product(alphas, betas, phis))),
    }
    chosen, best_aicc, ses = None, math.inf, (math.inf, None)
    for form, (k, points) in forms.items():
        for error in ("A", "M"):
            best = (math.inf, None)
            for alpha, beta, phi in points:
                level, trend = intercept + slope * (first[0] - 1), slope
                sse = relative = logs = 0.0
                bad = False
                for i in range(first[0], length):
                    predicted = level + phi * trend
                    e = x[i] - predicted if seen[i] else 0.0
                    if seen[i]:
                        sse += e * e
                        if predicted <= 0:
                            bad = True
                        else:
                            relative += (e / predicted) ** 2
                            logs += math.log(predicted)
                    level, trend = predicted + alpha * e, phi * trend + alpha * beta * e
                if error == "A":
                    nll = n * math.log(max(sse, 1e-300) / n)
                    if form == "N" and sse < ses[0]:
                        ses = (sse, (level, trend, phi))
                else:
                    nll = math.inf if bad or not positive else (
                        n * math.log(max(relative, 1e-300) / n) + 2 * logs
                    )  # fmt: skip
                if nll < best[0]:
                    best = (nll, (level, trend, phi))
            if n - k - 1 <= 0 or best[1] is None:
                continue
            aicc = best[0] + 2 * k + 2 * k * (k + 1) / (n - k - 1)
            if aicc < best_aicc:
                best_aicc, chosen = aicc, (error + form, best[1])
    if chosen is None:  # too short for every model: simple exponential smoothing
        chosen = ("AN", ses[1])
    name, (level, trend, phi) = chosen
    h = np.arange(1, horizon + 1)
    point = level + np.cumsum(phi**h) * trend
    future = components[(length - start + h - 1) % len(components)]
    if kind == "multiplicative":
        point = point * future
    elif kind == "additive":
        point = point + future
    return point, name


def _one(y: np.ndarray, sid: str = "a") -> pd.DataFrame:
    times = pd.date_range("2020-01-01", periods=len(y), freq="MS")
    return pd.DataFrame({"unique_id": sid, "ds": times, "y": y})


def _name(model: ETSForecaster, series: int = 0, target: int = 0) -> str:
    phi = model.smoothing_[series, target, 2]
    error = "M" if model.multiplicative_error_[series, target] else "A"
    return error + ("N" if phi == 0 else "A" if phi == 1 else "Ad")


@pytest.mark.parametrize("season", [1, 12])
def test_forecasts_and_the_chosen_model_equal_the_method_written_out(season):
    df = panel(seed=3)
    model = ETSForecaster(season_length=season, horizon=8, **LONG)
    fc = model.fit(df).predict()
    names = set()
    for i, (sid, g) in enumerate(df.groupby("unique_id")):
        expected, name = reference(g["y"].to_numpy(), 8, season)
        got = fc.loc[fc["unique_id"] == sid, "y"].to_numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-8)
        if sid != "s5":  # flat: every model fits it exactly, and the tie is rounding's to break
            assert _name(model, i) == name
            names.add(name)
    assert len(names) > 1  # the panel does not get one model throughout
    assert model.smoothing_.shape == (6, 1, 3)
    assert model.multiplicative_error_.shape == (6, 1)


def test_the_model_follows_the_data():
    rng = np.random.default_rng(0)
    t = np.arange(80, dtype=np.float64)
    series = {
        "level": 100.0 + rng.normal(scale=1.0, size=80),  # noise around a level
        "line": 10.0 + 2.0 * t + rng.normal(scale=0.5, size=80),  # a straight trend
        "crossing": np.cumsum(rng.normal(size=80)) - 5.0 + 0.2 * t - 3.0,  # crosses 0
    }
    df = pd.concat([_one(y, sid) for sid, y in series.items()], ignore_index=True)
    model = ETSForecaster(horizon=6, **LONG).fit(df)
    order = list(model.series_ids_)
    assert _name(model, order.index("level"))[1:] == "N"
    assert _name(model, order.index("line"))[1:] in ("A", "Ad")
    assert (series["crossing"] <= 0).any()
    assert (series["crossing"] > 0).any()
    assert model.multiplicative_error_[order.index("crossing"), 0] == 0.0
    fc = model.predict()
    line = fc.loc[fc["unique_id"] == "line", "y"].to_numpy()
    assert (np.diff(line) > 1.0).all()  # rises as the line does
    level = fc.loc[fc["unique_id"] == "level", "y"].to_numpy()
    np.testing.assert_allclose(level, level[0])  # flat without a trend
    assert abs(level[0] - 100.0) < 2.0


@pytest.mark.parametrize("length", [2, 3, 4, 5, 7, 8])
def test_short_histories_get_only_the_models_they_can_support(length):
    y = np.array([5.0, 6.0, 8.0, 7.0, 9.0, 10.0, 9.5, 11.0])[:length]
    model = ETSForecaster(horizon=3, freq="MS", **LONG).fit(_one(y))
    expected, name = reference(y, 3)
    np.testing.assert_allclose(model.predict()["y"], expected, rtol=1e-10)
    assert _name(model) == name
    if length <= 4:  # AICc needs n > k + 1: nothing fits, so simple exponential smoothing
        assert name == "AN"
    if length < 7:  # Holt's trend has k = 5
        assert name[1:] == "N"


@pytest.mark.parametrize("season", [1, 12])
def test_missing_values_are_zero_errors_and_do_not_count(season):
    df = panel(seed=3)
    rng = np.random.default_rng(0)
    df = df.assign(y=np.where(rng.random(len(df)) < 0.15, np.nan, df["y"]))
    df.loc[df.groupby("unique_id").head(1).index, "y"] = df["y"].median()  # observed starts
    model = ETSForecaster(season_length=season, horizon=4, missing="mask", **LONG)
    fc = model.fit(df).predict()
    assert np.isfinite(fc["y"]).all()
    for i, (sid, g) in enumerate(df.groupby("unique_id")):
        expected, name = reference(g["y"].to_numpy(), 4, season)
        np.testing.assert_allclose(fc.loc[fc["unique_id"] == sid, "y"], expected, rtol=1e-8)
        if sid != "s5":  # flat (see above)
            assert _name(model, i) == name


def test_many_histories_at_once_equal_the_method_one_by_one():
    # Padded, right-aligned rows of many lengths: random walks, growth with multiplicative
    # noise, series that cross 0 and positive ones that dip near it, some with gaps.
    rng = np.random.default_rng(7)
    rows = []
    for k in range(60):
        n = int(rng.integers(2, 45))
        t = np.arange(n)
        y = [
            50 + np.cumsum(rng.normal(size=n)),
            10 * np.exp(0.05 * t + rng.normal(scale=0.1, size=n)),
            np.cumsum(rng.normal(size=n)) + 3 * rng.normal(),
            np.abs(10 + np.cumsum(rng.normal(scale=3, size=n))) + 0.05,
        ][k % 4]
        if n > 8 and k % 3 == 0:
            y[rng.choice(np.arange(1, n - 1), size=2, replace=False)] = np.nan
        rows.append(y)
    width = max(map(len, rows))
    x = np.zeros((len(rows), width))
    seen = np.zeros(x.shape, dtype=bool)
    for i, y in enumerate(rows):
        x[i, width - len(y) :] = np.nan_to_num(y)
        seen[i, width - len(y) :] = ~np.isnan(y)
    forecasts, chosen = ets_module.ets_forecasts(x, seen, 5)
    multiplicative_padded = 0
    for i, y in enumerate(rows):
        expected, name = reference(y, 5)
        np.testing.assert_allclose(forecasts[i], expected, rtol=1e-7, atol=1e-9)
        phi = chosen[i, 2]
        got = ("M" if chosen[i, 3] else "A") + ("N" if phi == 0 else "A" if phi == 1 else "Ad")
        assert got == name, (i, y)
        multiplicative_padded += got[0] == "M" and len(y) < width
    assert multiplicative_padded >= 5  # the multiplicative error is chosen on padded rows


@pytest.mark.parametrize(
    ("y", "why"),
    [
        # growth with multiplicative noise and one value below 0: without the rule that a
        # multiplicative error needs a positive history, MAN would be chosen here
        (
            [9.246, 9.881, 7.663, 15.219, 14.501, 12.229, 15.16, 14.802, 13.729, 18.16, -0.5,
             16.498, 16.18, 20.508, 19.84, 22.974, 20.318, 23.846, 21.515, 29.336, 27.96,
             30.029, 31.95, 27.139, 37.34, 47.517, 28.698, 29.76, 32.358, 48.366, 45.691,
             55.387, 55.199, 53.741, 57.122],
            "a value <= 0",
        ),
        # positive, near 0: the best multiplicative fit (MAN) forecasts a value <= 0 one step
        # ahead, where its likelihood is undefined; simple smoothing is chosen instead
        (
            [5.811, 3.306, 4.654, 5.453, 3.183, 3.217, 3.933, 1.211, 5.009, 4.809, 1.501, 2.098,
             1.534, 3.031, 0.599, 0.509, 0.455, 5.207, 3.648, 1.098, 4.05, 12.873],
            "a one-step forecast <= 0",
        ),
    ],
)  # fmt: skip
def test_a_multiplicative_error_needs_positive_values_and_forecasts(y, why):
    model = ETSForecaster(horizon=4, freq="MS", **LONG).fit(_one(np.array(y)))
    expected, name = reference(np.array(y), 4)
    assert model.multiplicative_error_[0, 0] == 0.0, why
    assert _name(model) == name
    np.testing.assert_allclose(model.predict()["y"], expected, rtol=1e-8)


@pytest.mark.parametrize("transform", ["log", "log1p", "boxcox"])
def test_on_a_log_scale_the_error_is_additive(transform):
    # Growth with multiplicative noise: its logs are > 0 (the data's units put them there,
    # log y > 0 for y > 1), and a multiplicative error was chosen on them; relative to a
    # log's distance from 0 an error means nothing.
    rng = np.random.default_rng(1)
    t = np.arange(40, dtype=np.float64)
    y = 20 * np.exp(0.03 * t + np.cumsum(rng.normal(0, 0.05, 40)))
    model = ETSForecaster(horizon=3, freq="MS", target_transform=transform, **LONG)
    assert model.fit(_one(y)).multiplicative_error_[0, 0] == 0.0


def test_a_seasonal_series_with_zeros_is_adjusted_additively():
    t = np.arange(72, dtype=np.float64)
    rng = np.random.default_rng(1)
    y = np.maximum(0.0, 10 * np.sin(2 * np.pi * t / 12) + 0.05 * t + rng.normal(0, 0.5, 72))
    assert (y == 0).sum() > 20  # no sales for a third of each year
    assert seasonal_components(y, 12)[0] == "additive"
    model = ETSForecaster(season_length=12, horizon=12, freq="MS", **LONG).fit(_one(y))
    expected, name = reference(y, 12, 12)
    np.testing.assert_allclose(model.predict()["y"], expected, rtol=1e-8)
    assert _name(model) == name


# ------------------------------------------------------------------- statistical_partner


def test_every_partner_is_the_equal_mean_of_the_models_it_names():
    df = panel(seed=4)
    local = {"season_length": 12, "horizon": 5, **LONG}
    single = {
        "theta": ThetaForecaster(**local).fit(df).predict()["y"].to_numpy(),
        "damped-trend": DampedTrendForecaster(**local).fit(df).predict()["y"].to_numpy(),
        "ets": ETSForecaster(**local).fit(df).predict()["y"].to_numpy(),
        "optimised-theta": forecast.OptimisedThetaForecaster(**local)
        .fit(df)
        .predict()["y"]
        .to_numpy(),
    }
    network = forecast.LSTMForecaster(seq_len=12, **local)
    assert PANEL_PARTNER in PARTNERS
    assert PANEL_PARTNER_NO_SEASON in PARTNERS
    for kind in PARTNERS:
        names = kind.split("+")
        partner = statistical_partner(network, kind)
        assert isinstance(partner, CombinedForecaster) == (len(names) > 1)
        got = partner.fit(df).predict()["y"].to_numpy()
        expected = np.mean([single[name] for name in names], axis=0)
        np.testing.assert_allclose(got, expected, rtol=1e-10)
    with pytest.raises(InvalidParameterError, match="theta\\+damped-trend\\+ets"):
        statistical_partner(network, "ets+theta")


def test_a_huge_range_within_one_series_is_served_without_a_warning():
    y = np.r_[np.full(20, 1e-200), np.ones(20)]  # a tiny forecast, then a large error
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fc = ETSForecaster(horizon=6, freq="MS", **LONG).fit(_one(y)).predict()
    assert np.isfinite(fc["y"]).all()
    with np.errstate(over="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the scalar reference overflows, as it may
        expected = reference(y, 6)[0]
    np.testing.assert_allclose(fc["y"], expected, rtol=1e-8)
