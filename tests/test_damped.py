"""The damped trend: what its definition says, per series, from every origin, with any layout;
and panel_forecaster, the network combined with it and Theta."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from conftest import make_long_frame
from test_theta import LONG, panel

import forecast
from forecast import (
    CombinedForecaster,
    DampedTrendForecaster,
    InvalidParameterError,
    MissingHistoryError,
    RNNForecaster,
    ThetaForecaster,
)
from forecast.backtest import backtest
from forecast.data.seasonality import seasonal_indices
from forecast.forecasters import _local_smoothing as local_smoothing
from forecast.forecasters import damped as damped_module
from forecast.presets import panel_forecaster, panel_params


def reference(y: np.ndarray, horizon: int, m: int) -> np.ndarray:
    """The method written out for one series with no missing value, scalar by scalar."""
    y = np.asarray(y, dtype=np.float64)
    n = len(y)
    idx = seasonal_indices(y, m) if m >= 2 else np.ones(1)
    x = y / idx[np.arange(n) % len(idx)]
    k = min(n, 10)
    slope, intercept = np.polyfit(np.arange(k), x[:k], 1)
    best = (np.inf, 0.0, 0.0, 0.0)
    grid = itertools.product(damped_module.ALPHAS, damped_module.BETAS, damped_module.PHIS)
    for alpha, beta, phi in grid:
        level, trend, total = intercept - slope, slope, 0.0  # the line one step before x[0]
        for value in x:
            error = value - (level + phi * trend)
            total += error * error
            level, trend = level + phi * trend + alpha * error, phi * trend + alpha * beta * error
        if total < best[0]:
            best = (total, level, trend, phi)
    _, level, trend, phi = best
    h = np.arange(1, horizon + 1)
    point = level + np.cumsum(phi**h) * trend
    return point * idx[(n + h - 1) % len(idx)]


@pytest.mark.parametrize("season", [1, 12])
def test_forecasts_equal_the_method_written_out(season):
    df = panel()
    model = DampedTrendForecaster(season_length=season, horizon=8, **LONG)
    fc = model.fit(df).predict()
    for sid, g in df.groupby("unique_id"):
        got = fc.loc[fc["unique_id"] == sid, "y"].to_numpy()
        np.testing.assert_allclose(got, reference(g["y"].to_numpy(), 8, season), rtol=1e-8)
    assert model.smoothing_.shape == (6, 1, 3)


def test_a_flat_series_stays_flat_and_a_trend_is_followed_damped():
    t = np.arange(60, dtype=np.float64)
    times = pd.date_range("2020-01-01", periods=60, freq="MS")
    df = pd.concat(
        [
            pd.DataFrame({"unique_id": "flat", "ds": times, "y": 7.0}),
            pd.DataFrame({"unique_id": "line", "ds": times, "y": 10.0 + 2.0 * t}),
        ]
    )
    fc = DampedTrendForecaster(horizon=12, **LONG).fit(df).predict()
    np.testing.assert_allclose(fc.loc[fc["unique_id"] == "flat", "y"], 7.0)
    line = fc.loc[fc["unique_id"] == "line", "y"].to_numpy()
    # Each step adds phi^h of the slope (2): the forecast rises, by less than the line does.
    steps = np.diff(np.r_[10.0 + 2.0 * 59, line])
    assert (steps > 0).all()
    assert (steps < 2.0 + 1e-9).all()
    assert (np.diff(steps) <= 1e-9).all()


def test_predict_from_any_history_refits_on_it_unseen_series_too():
    df = panel()
    model = DampedTrendForecaster(season_length=12, horizon=5, **LONG)
    model.fit(df[df["unique_id"] != "s2"])
    early = df.groupby("unique_id").head(40)
    fc = model.predict(early)
    for sid, g in early.groupby("unique_id"):
        got = fc.loc[fc["unique_id"] == sid, "y"].to_numpy()
        np.testing.assert_allclose(got, reference(g["y"].to_numpy(), 5, 12), rtol=1e-8)


def test_backtest_without_refit_equals_refitting_at_every_origin():
    df = panel()
    df = df[df["unique_id"] != "s5"]  # flat: MASE is undefined on it
    model = DampedTrendForecaster(season_length=12, horizon=4, **LONG)
    once = backtest(model, df, n_windows=3, step=4, refit=False).forecasts
    every = backtest(model, df, n_windows=3, step=4, refit=True).forecasts
    pd.testing.assert_frame_equal(once, every)


def test_row_order_and_chunking_do_not_change_a_forecast(monkeypatch):
    df = panel(seed=1, n_series=9)
    model = DampedTrendForecaster(season_length=12, horizon=6, **LONG)
    expected = model.fit(df).predict(df)
    shuffled = df.sample(frac=1.0, random_state=0)
    monkeypatch.setattr(local_smoothing, "_CHUNK_CELLS", 100)  # one or two origins a chunk
    monkeypatch.setattr(damped_module, "_GRID_CELLS", 1)  # one history per grid block
    with pytest.warns(UserWarning, match="not in increasing order"):
        got = model.fit(shuffled).predict(shuffled)
    pd.testing.assert_frame_equal(got, expected)


def test_a_missing_value_moves_the_state_on_by_its_own_forecast():
    df = make_long_frame()
    complete = DampedTrendForecaster(horizon=3, missing="mask", **LONG).fit(df).predict()
    unmasked = DampedTrendForecaster(horizon=3, **LONG).fit(df).predict()
    pd.testing.assert_frame_equal(complete, unmasked)
    gappy = df.copy()
    gap = gappy.index[20]
    gappy.loc[gap, "y"] = np.nan
    fc = DampedTrendForecaster(horizon=3, missing="mask", **LONG).fit(gappy).predict()
    assert np.isfinite(fc["y"]).all()
    sid = gappy.loc[gap, "unique_id"]
    series = gappy.loc[gappy["unique_id"] == sid, "y"].to_numpy()
    missing_at = int(np.flatnonzero(np.isnan(series))[0])
    # The same recursion, written out with a zero error at the missing step.
    x = series
    k = [i for i in range(len(x)) if not np.isnan(x[i])][:10]
    slope, intercept = np.polyfit(k, x[k], 1)
    best = (np.inf, 0.0, 0.0, 0.0)
    grid = itertools.product(damped_module.ALPHAS, damped_module.BETAS, damped_module.PHIS)
    for alpha, beta, phi in grid:
        level, trend, total = intercept - slope, slope, 0.0
        for i, value in enumerate(x):
            error = 0.0 if i == missing_at else value - (level + phi * trend)
            total += error * error
            level, trend = level + phi * trend + alpha * error, phi * trend + alpha * beta * error
        if total < best[0]:
            best = (total, level, trend, phi)
    _, level, trend, phi = best
    expected = level + np.cumsum(phi ** np.arange(1, 4)) * trend
    np.testing.assert_allclose(fc.loc[fc["unique_id"] == sid, "y"], expected, rtol=1e-8)


def test_a_history_without_two_observations_is_an_error_naming_the_series():
    df = make_long_frame()
    sid = df["unique_id"].iloc[-1]
    df.loc[(df["unique_id"] == sid) & (df.index != df.index[-1]), "y"] = np.nan
    with pytest.raises(MissingHistoryError, match=rf"DampedTrendForecaster needs two .* '{sid}'"):
        DampedTrendForecaster(horizon=3, missing="mask", **LONG).fit(df)


def test_saved_and_loaded_it_forecasts_the_same(tmp_path):
    df = panel()
    model = DampedTrendForecaster(season_length=12, horizon=6, **LONG).fit(df)
    model.save(tmp_path / "damped.safetensors")
    loaded = forecast.load(tmp_path / "damped.safetensors")
    np.testing.assert_array_equal(loaded.smoothing_, model.smoothing_)
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())
    pd.testing.assert_frame_equal(loaded.predict(df), model.predict(df))


def test_the_command_line_knows_it():
    from forecast.cli.params import resolve_cli_estimator

    for name in ("dampedtrend", "damped-trend", "DampedTrendForecaster"):
        assert resolve_cli_estimator(name) is DampedTrendForecaster


# ---------------------------------------------------------------------------- panel_forecaster

FAST_NETWORK = {"trainer_kwargs": {"max_steps": 5}, "progress_bar": False, "random_state": 0}


def test_panel_forecaster_is_half_the_network_and_a_quarter_of_each_local_model():
    df = panel(seed=2, n_series=8)
    df = df[df["unique_id"] != "s7"]  # flat
    lengths = df.groupby("unique_id").size().to_numpy()
    model = panel_forecaster(12, 6, lengths, **LONG, target="y", freq="MS", **FAST_NETWORK)
    fc = model.fit(df).predict()
    params = panel_params(12, 6, lengths) | {"cell": "lstm", "target": "y", "freq": "MS"}
    network = RNNForecaster(**params | LONG | FAST_NETWORK)
    local = {"season_length": 12, "horizon": 6, "target": "y", "freq": "MS", **LONG}
    parts = [
        network.fit(df).predict(),
        ThetaForecaster(**local).fit(df).predict(),
        DampedTrendForecaster(**local).fit(df).predict(),
    ]
    expected = 0.5 * parts[0]["y"] + 0.25 * parts[1]["y"] + 0.25 * parts[2]["y"]
    np.testing.assert_allclose(fc["y"].to_numpy(), expected.to_numpy(), rtol=1e-6)
    assert np.isfinite(fc["y"]).all()


def test_panel_forecaster_passes_the_data_parameters_to_every_member():
    model = panel_forecaster(4, 8, cell="gru", missing="mask", hidden_size=16, **LONG)
    assert isinstance(model, CombinedForecaster)
    assert model.partner_weight == 0.5
    network, local = model.forecaster, model.partner
    assert (network.cell, network.hidden_size, network.seq_len) == ("gru", 16, 8)
    for member in (local.forecaster, local.partner):
        assert (member.season_length, member.horizon, member.missing) == (4, 8, "mask")
        assert (member.id_col, member.time_col) == ("unique_id", "ds")
    assert model.missing == "mask"


def test_panel_forecaster_refuses_what_the_combination_cannot_serve():
    df = panel()
    model = panel_forecaster(12, 6, quantiles=[0.1, 0.9], **LONG, **FAST_NETWORK)
    with pytest.raises(InvalidParameterError, match="quantiles"):
        model.fit(df)
