"""OptimisedThetaForecaster: the method written out scalar by scalar (its line refitted by
np.polyfit at every step, its level and trend weight found by a numerical optimiser), what it
does on series whose forecast is known, and what every local model guarantees (units, row
order, chunking, backtests, files); and its place in panel_forecaster."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

import forecast
from forecast import OptimisedThetaForecaster, ThetaForecaster
from forecast.data.seasonality import seasonal_components
from forecast.forecasters import optimised_theta as module
from forecast.presets import PANEL_PARTNER, PANEL_PARTNER_NO_SEASON, panel_partner

LONG = {"id_col": "unique_id", "time_col": "ds"}


def _line(values: np.ndarray) -> tuple[float, float]:
    """Intercept and slope of the least-squares line through ``values`` on times 1, 2, ..."""
    if len(values) == 1:
        return float(values[0]), 0.0
    slope, intercept = np.polyfit(np.arange(1, len(values) + 1), values, 1)
    return float(intercept), float(slope)


def _run(x: np.ndarray, alpha: float, lstar: float, c: float, horizon: int, lines=None):
    """Sum of squared one-step errors from the fourth value on, and the forecasts.

    ``lines[i]``: the line through ``x[:i]`` (:func:`_line`), given when the same series is
    run at many coefficients (the line does not depend on them)."""
    lines = lines or [None] + [_line(x[:i]) for i in range(1, len(x))]
    level = alpha * x[0] + (1 - alpha) * lstar
    sse = 0.0

    def one_step(i: int, line: tuple[float, float], level: float) -> float:
        a, b = line
        return level + c * (a * (1 - alpha) ** i + b * (1 - (1 - alpha) ** (i + 1)) / alpha)

    for i in range(1, len(x)):
        yhat = one_step(i, lines[i], level)
        if i >= 3:
            sse += (x[i] - yhat) ** 2
        level = alpha * x[i] + (1 - alpha) * level
    values = list(x)
    for k in range(horizon):
        i = len(x) + k
        yhat = one_step(i, _line(np.array(values)), level)
        values.append(yhat)
        level = alpha * yhat + (1 - alpha) * level
    return sse, np.array(values[len(x) :])


def reference(y: np.ndarray, horizon: int, m: int = 1) -> tuple[np.ndarray, float, float, float]:
    """Forecasts, ``alpha``, ``theta`` and the sum of squared errors of the method for one
    series: NaN is a missing value, skipped. ``l*`` and ``c`` by L-BFGS-B at each ``alpha``."""
    y = np.asarray(y, dtype=np.float64)
    seen = ~np.isnan(y)
    start = int(np.flatnonzero(seen)[0])
    kind, components = "none", np.zeros(1)
    if m >= 2 and seen[start:].all():
        kind, components = seasonal_components(y[start:], m)
    past = components[np.arange(len(y) - start) % len(components)]
    x = y[start:].copy()
    x = x / past if kind == "multiplicative" else x - past if kind == "additive" else x
    x = x[~np.isnan(x)]
    scale = np.abs(x).max() or 1.0  # the model sees the history divided by its largest value
    x = x / scale
    best = (np.inf, 0.0, 0.0, 0.0)
    lines = [None] + [_line(x[:i]) for i in range(1, len(x))]
    for alpha in module.ALPHAS:
        fit = optimize.minimize(
            lambda p, a=alpha: _run(x, a, p[0], p[1], 0, lines)[0],
            x0=[x[0], 0.5],
            bounds=[(None, None), (0.0, 1.0)],
            method="L-BFGS-B",
            options={"ftol": 1e-15, "gtol": 1e-12},
        )
        if fit.fun < best[0]:
            best = (fit.fun, float(alpha), *fit.x)
    sse, alpha, lstar, c = best
    point = _run(x, alpha, lstar, c, horizon)[1] * scale
    future = components[(len(y) - start + np.arange(horizon)) % len(components)]
    if kind == "multiplicative":
        point = point * future
    elif kind == "additive":
        point = point + future
    return point, alpha, 1.0 / max(1.0 - c, 1e-12), sse * scale**2


def _one(y: np.ndarray, sid: str = "a") -> pd.DataFrame:
    times = pd.date_range("2020-01-01", periods=len(y), freq="MS")
    return pd.DataFrame({"unique_id": sid, "ds": times, "y": y})


def _series(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=np.float64)
    return [
        20 + 0.8 * t + rng.normal(0, 2, n),  # a trend: theta above 2
        50 + np.cumsum(rng.normal(0, 1, n)),  # a random walk
        30 + 5 * np.sin(t / 4) + rng.normal(0, 0.5, n),  # a level that wanders back
        100 - 0.5 * t + rng.normal(0, 3, n),  # falling
    ][seed % 4]


@pytest.mark.parametrize("seed", range(8))
def test_forecasts_equal_the_method_written_out(seed):
    y = _series(seed, 18 + 5 * seed)
    model = OptimisedThetaForecaster(horizon=6, freq="MS", **LONG).fit(_one(y))
    expected, alpha, theta, _ = reference(y, 6)
    # The optimiser may end a hair from the exact minimum: compare in its tolerance.
    np.testing.assert_allclose(model.predict()["y"], expected, rtol=1e-5)
    assert model.alpha_[0, 0] == pytest.approx(alpha)
    assert model.theta_[0, 0] == pytest.approx(theta, rel=1e-3)


def test_its_fit_is_the_best_over_the_grid():
    # Where two alphas fit almost equally the optimiser may pick the other: what must hold is
    # that no alpha of the grid, with its best level and theta, fits better than the one
    # chosen, and that the sum of squares the normal equations give is the method's.
    for seed in (0, 1):
        y = _series(seed, 40)
        x = y[None, :] / np.abs(y).max()
        seen = np.ones(x.shape, dtype=bool)
        sums, _ = module._cross_products(x, seen, module._lines(x, seen), module.ALPHAS)
        shift, c, sse = (value[0] for value in module._solved(sums))
        for g in (0, 40, int(sse.argmin()), len(module.ALPHAS) - 1):
            written_out = _run(x[0], module.ALPHAS[g], x[0, 0] + shift[g], c[g], 0)[0]
            assert sse[g] == pytest.approx(written_out, rel=1e-9)
        assert sse.min() * np.abs(y).max() ** 2 <= reference(y, 1)[3] * (1 + 1e-7)


def test_a_seasonal_series_is_adjusted_first():
    t = np.arange(72, dtype=np.float64)
    rng = np.random.default_rng(1)
    y = (40 + 0.5 * t) * (1 + 0.3 * np.sin(2 * np.pi * t / 12)) + rng.normal(0, 0.5, 72)
    model = OptimisedThetaForecaster(season_length=12, horizon=12, freq="MS", **LONG)
    expected = reference(y, 12, 12)[0]
    np.testing.assert_allclose(model.fit(_one(y)).predict()["y"], expected, rtol=1e-5)


def test_a_straight_line_is_forecast_on_it():
    # Theta's fixed theta = 2 halves the slope; fitted, the trend is followed.
    y = 10.0 + 2.0 * np.arange(40)
    line = 10.0 + 2.0 * np.arange(40, 46)
    model = OptimisedThetaForecaster(horizon=6, freq="MS", **LONG).fit(_one(y))
    np.testing.assert_allclose(model.predict()["y"], line, rtol=1e-6)
    assert model.theta_[0, 0] > 100
    classical = ThetaForecaster(horizon=6, freq="MS", **LONG).fit(_one(y)).predict()["y"]
    assert np.abs(classical - line).max() > 0.5  # what the fit buys on such a series


def test_a_flat_series_is_forecast_flat():
    model = OptimisedThetaForecaster(horizon=5, freq="MS", **LONG).fit(_one(np.full(20, 7.0)))
    np.testing.assert_allclose(model.predict()["y"], 7.0, rtol=1e-12)
    assert model.theta_[0, 0] == 1.0  # any theta fits a flat line: no trend is reported
    assert np.isfinite(model.alpha_).all()
    assert np.isfinite(model.theta_).all()


@pytest.mark.parametrize("length", [2, 3, 4, 5])
def test_short_histories_get_the_classical_theta_method(length):
    y = np.array([5.0, 6.0, 8.0, 7.0, 9.0])[:length]
    model = OptimisedThetaForecaster(horizon=3, freq="MS", **LONG).fit(_one(y))
    classical = ThetaForecaster(horizon=3, freq="MS", **LONG).fit(_one(y))
    np.testing.assert_allclose(model.predict()["y"], classical.predict()["y"], rtol=1e-12)
    assert model.theta_[0, 0] == 2.0
    assert model.alpha_[0, 0] == classical.alpha_[0, 0]


@pytest.mark.parametrize("length", [6, 7])
def test_six_values_are_enough_for_the_fit(length):
    y = np.array([5.0, 6.0, 8.0, 7.0, 9.0, 10.5, 12.0])[:length]
    model = OptimisedThetaForecaster(horizon=3, freq="MS", **LONG).fit(_one(y))
    expected, alpha, theta, _ = reference(y, 3)
    assert model.alpha_[0, 0] == pytest.approx(alpha)
    np.testing.assert_allclose(model.predict()["y"], expected, rtol=1e-5)
    assert model.theta_[0, 0] != 2.0
    assert model.theta_[0, 0] == pytest.approx(theta, rel=1e-3)


def test_missing_values_are_skipped():
    y = _series(0, 30)
    gaps = y.copy()
    gaps[[5, 11, 12, 20]] = np.nan
    model = OptimisedThetaForecaster(horizon=4, freq="MS", missing="mask", **LONG)
    got = model.fit(_one(gaps)).predict()["y"]
    np.testing.assert_allclose(got, reference(gaps, 4)[0], rtol=1e-5)
    # ... the observed values read as neighbours: as the series without the gaps
    compact = OptimisedThetaForecaster(horizon=4, freq="MS", **LONG).fit(_one(y[~np.isnan(gaps)]))
    np.testing.assert_allclose(got.to_numpy(), compact.predict()["y"].to_numpy(), rtol=1e-12)


def test_series_with_gaps_fitted_together_are_fitted_as_alone(monkeypatch):
    # Rows of one block start at different times and miss values at different steps: each
    # must be smoothed and scored only where it holds a value.
    frames = []
    for k in range(5):
        y = _series(k, 26 + 3 * k)
        y[[4 + k, 10, 11 + 2 * k][: 1 + k % 3]] = np.nan
        frames.append(_one(y, f"s{k}"))
    df = pd.concat(frames, ignore_index=True)
    model = OptimisedThetaForecaster(horizon=4, freq="MS", missing="mask", **LONG)
    together = model.fit(df).predict()
    monkeypatch.setattr(module, "_GRID_CELLS", 1)  # one history per block
    for k, frame in enumerate(frames):
        alone = model.fit(frame).predict()
        got = together.loc[together["unique_id"] == f"s{k}", "y"].to_numpy()
        np.testing.assert_allclose(got, alone["y"].to_numpy(), rtol=1e-12)
        np.testing.assert_allclose(got, reference(frame["y"].to_numpy(), 4)[0], rtol=1e-5)


def test_trends_are_forecast_better_than_by_the_classical_method():
    # Fifty trending series without a season: the fitted theta's point, at any rate.
    rng = np.random.default_rng(5)
    frames, actual = [], []
    for k in range(50):
        n = int(rng.integers(20, 40))
        t = np.arange(n + 6, dtype=np.float64)
        y = 50 + rng.uniform(0.5, 3) * t + rng.normal(0, 2, n + 6)
        frames.append(_one(y[:n], f"s{k}"))
        actual.append(y[n:])
    df = pd.concat(frames, ignore_index=True)
    errors = {}
    for cls in (OptimisedThetaForecaster, ThetaForecaster):
        fc = cls(horizon=6, freq="MS", **LONG).fit(df).predict()
        got = np.stack([fc.loc[fc["unique_id"] == f"s{k}", "y"] for k in range(50)])
        errors[cls] = np.abs(got - np.array(actual)).mean()
    assert errors[OptimisedThetaForecaster] < 0.6 * errors[ThetaForecaster]


def test_panel_forecaster_takes_it_in_place_of_theta_without_a_season():
    assert panel_partner(1) == PANEL_PARTNER_NO_SEASON == "optimised-theta+damped-trend+ets"
    assert panel_partner(4) == panel_partner(12) == PANEL_PARTNER == "theta+damped-trend+ets"
    for season, cls in ((1, OptimisedThetaForecaster), (12, ThetaForecaster)):
        model = forecast.presets.panel_forecaster(season, 6, **LONG)
        first = model.partner.forecaster.forecaster
        assert type(first) is cls
        assert first.season_length == season


@pytest.mark.parametrize(("observed", "gap"), [(30, 1), (30, 6), (5, 3)])
def test_a_trailing_gap_is_forecast_from_the_cutoff_as_the_observed_history_gap_steps_on(
    observed, gap
):
    # The forecast h steps after the last row is the method's gap + h steps after the last
    # observation (the dynamic forecasts run on over the gap): not its h steps after it. A
    # series with 5 observed values takes the classical method's path.
    y = _series(0, observed + gap)
    y[observed:] = np.nan
    df = pd.concat([_one(y, "gappy"), _one(_series(1, 24), "whole")], ignore_index=True)
    model = OptimisedThetaForecaster(horizon=4, freq="MS", missing="mask", **LONG)
    fc = model.fit(df).predict()
    again = model.predict(df)
    longer = OptimisedThetaForecaster(horizon=gap + 4, freq="MS", **LONG)
    for sid, frame, skip in (
        ("gappy", _one(y[:observed], "gappy"), gap),
        ("whole", _one(_series(1, 24), "whole"), 0),
    ):
        got = fc.loc[fc["unique_id"] == sid]
        expected = longer.fit(frame).predict()["y"].to_numpy()[skip : skip + 4]
        np.testing.assert_allclose(got["y"], expected, rtol=1e-12)
        np.testing.assert_allclose(again.loc[again["unique_id"] == sid, "y"], got["y"])
        cutoff = df.loc[df["unique_id"] == sid, "ds"].max()
        assert got["ds"].tolist() == list(pd.date_range(cutoff, periods=5, freq="MS")[1:])
