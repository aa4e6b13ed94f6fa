"""The damped trend: what its definition says, per series, from every origin, with any layout;
and panel_forecaster, the network combined with it, Theta and ETS."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from conftest import make_long_frame
from conftest import make_smoothing_panel as panel

import forecast
from forecast import (
    CombinedForecaster,
    DampedTrendForecaster,
    ETSForecaster,
    InvalidParameterError,
    MissingHistoryError,
    OptimisedThetaForecaster,
    RNNForecaster,
    ThetaForecaster,
)
from forecast.data.seasonality import seasonal_indices
from forecast.forecasters import damped as damped_module
from forecast.presets import panel_forecaster, panel_params

LONG = {"id_col": "unique_id", "time_col": "ds"}


def reference(y: np.ndarray, horizon: int, m: int = 1) -> np.ndarray:
    """The method written out for one series, scalar by scalar. NaN is a missing value: a
    zero error; leading ones shorten the series, any later one stops the de-seasonalising."""
    y = np.asarray(y, dtype=np.float64)
    n = len(y)
    seen = ~np.isnan(y)
    start = int(np.flatnonzero(seen)[0])
    idx = seasonal_indices(y[start:], m) if m >= 2 and seen[start:].all() else np.ones(1)
    x = y.copy()
    x[start:] = y[start:] / idx[np.arange(n - start) % len(idx)]
    first = np.flatnonzero(seen)[:10]
    slope, intercept = np.polyfit(first, x[first], 1)
    best = (np.inf, 0.0, 0.0, 0.0)
    grid = itertools.product(damped_module.ALPHAS, damped_module.BETAS, damped_module.PHIS)
    for alpha, beta, phi in grid:
        # the line's value one step before the first observation, then every step after it
        level, trend, total = intercept + slope * (first[0] - 1), slope, 0.0
        for i in range(first[0], n):
            error = x[i] - (level + phi * trend) if seen[i] else 0.0
            total += error * error
            level, trend = level + phi * trend + alpha * error, phi * trend + alpha * beta * error
        if total < best[0]:
            best = (total, level, trend, phi)
    _, level, trend, phi = best
    h = np.arange(1, horizon + 1)
    point = level + np.cumsum(phi**h) * trend
    return point * idx[(n - start + h - 1) % len(idx)]


def _one(y: np.ndarray, **kwargs) -> pd.DataFrame:
    times = pd.date_range("2020-01-01", periods=len(y), freq="MS")
    return pd.DataFrame({"unique_id": "a", "ds": times, "y": y}).assign(**kwargs)


@pytest.mark.parametrize("season", [1, 12])
def test_forecasts_equal_the_method_written_out(season):
    df = panel()
    model = DampedTrendForecaster(season_length=season, horizon=8, **LONG)
    fc = model.fit(df).predict()
    for sid, g in df.groupby("unique_id"):
        got = fc.loc[fc["unique_id"] == sid, "y"].to_numpy()
        np.testing.assert_allclose(got, reference(g["y"].to_numpy(), 8, season), rtol=1e-8)
    assert model.smoothing_.shape == (6, 1, 3)


def test_one_grid_point_computed_by_hand(monkeypatch):
    # alpha 0.5, beta 0.5, phi 0.5 on 1, 3, 4: the starting line through (0, 1), (1, 3),
    # (2, 4) has slope 1.5 and the value 7/6 at t = 0, so -1/3 one step before it.
    for name in ("ALPHAS", "BETAS", "PHIS"):
        monkeypatch.setattr(damped_module, name, (0.5,))
    level, trend = -1 / 3, 1.5
    for y in (1.0, 3.0, 4.0):
        error = y - (level + 0.5 * trend)
        level, trend = level + 0.5 * trend + 0.5 * error, 0.5 * trend + 0.25 * error
    expected = [level + 0.5 * trend, level + 0.75 * trend]
    fc = DampedTrendForecaster(horizon=2, **LONG).fit(_one([1.0, 3.0, 4.0])).predict()
    np.testing.assert_allclose(fc["y"], expected, rtol=1e-12)
    # Worked on paper: after 1, 3, 4 the level is 3.266276 and the trend 0.821289.
    np.testing.assert_allclose(expected, [3.676920573, 3.882242839], rtol=1e-9)


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


@pytest.mark.parametrize("scale", [1e-200, 1e-6, 1e6, 1e160])
def test_the_units_of_the_data_do_not_change_the_method(scale):
    df = panel()
    df = df[df["unique_id"] == "s0"]
    model = DampedTrendForecaster(season_length=12, horizon=6, **LONG)
    unit = model.fit(df).predict()["y"].to_numpy()
    scaled = model.fit(df.assign(y=df["y"] * scale))
    np.testing.assert_allclose(scaled.predict()["y"] / scale, unit, rtol=1e-9)
    theta = ThetaForecaster(season_length=12, horizon=6, **LONG)
    unit = theta.fit(df).predict()["y"].to_numpy()
    np.testing.assert_allclose(
        theta.fit(df.assign(y=df["y"] * scale)).predict()["y"] / scale, unit, rtol=1e-6
    )


def test_two_values_are_enough_and_one_is_an_error_naming_the_series():
    fc = DampedTrendForecaster(horizon=3, freq="MS", **LONG).fit(_one([5.0, 6.0])).predict()
    np.testing.assert_allclose(fc["y"], reference(np.array([5.0, 6.0]), 3), rtol=1e-10)
    df = make_long_frame()
    sid = df["unique_id"].iloc[-1]
    df.loc[(df["unique_id"] == sid) & (df.index != df.index[-1]), "y"] = np.nan
    with pytest.raises(MissingHistoryError, match=rf"DampedTrendForecaster needs two .* '{sid}'"):
        DampedTrendForecaster(horizon=3, missing="mask", **LONG).fit(df)


@pytest.mark.parametrize(
    "missing_at",
    [[0, 1], [3, 7], [20], [58, 59], list(range(25, 40))],
    ids=["leading", "within-the-first-ten", "one", "trailing", "a-long-gap"],
)
@pytest.mark.parametrize("season", [1, 12])
def test_a_missing_value_is_a_zero_error_and_a_later_one_leaves_the_season_alone(
    missing_at, season
):
    y = panel()
    y = y.loc[y["unique_id"] == "s0", "y"].to_numpy()[:60].copy()
    y[missing_at] = np.nan
    model = DampedTrendForecaster(season_length=season, horizon=4, missing="mask", **LONG)
    fc = model.fit(_one(y)).predict()
    assert np.isfinite(fc["y"]).all()
    np.testing.assert_allclose(fc["y"], reference(y, 4, season), rtol=1e-8)


def test_complete_data_gives_the_same_forecasts_masked_or_not():
    df = make_long_frame()
    masked = DampedTrendForecaster(horizon=3, missing="mask", **LONG).fit(df).predict()
    pd.testing.assert_frame_equal(
        masked, DampedTrendForecaster(horizon=3, **LONG).fit(df).predict()
    )


def test_predict_from_any_history_refits_on_it_unseen_series_too():
    df = panel()
    model = DampedTrendForecaster(season_length=12, horizon=5, **LONG)
    model.fit(df[df["unique_id"] != "s2"])
    early = df.groupby("unique_id").head(40)
    fc = model.predict(early)
    for sid, g in early.groupby("unique_id"):
        got = fc.loc[fc["unique_id"] == sid, "y"].to_numpy()
        np.testing.assert_allclose(got, reference(g["y"].to_numpy(), 5, 12), rtol=1e-8)


def test_several_targets_each_get_their_own_coefficients():
    df = panel()
    df = df.assign(z=df["y"] * 3.0 + np.arange(len(df)) % 5)
    model = DampedTrendForecaster(season_length=12, horizon=4, target=["y", "z"], **LONG)
    fc = model.fit(df).predict()
    assert model.smoothing_.shape == (6, 2, 3)
    for sid, g in df.groupby("unique_id"):
        got = fc.loc[fc["unique_id"] == sid, "z"].to_numpy()
        np.testing.assert_allclose(got, reference(g["z"].to_numpy(), 4, 12), rtol=1e-8)


# ---------------------------------------------------------------------------- panel_forecaster

FAST_NETWORK = {"trainer_kwargs": {"max_steps": 5}, "progress_bar": False, "random_state": 0}


@pytest.mark.parametrize(
    ("season", "theta"), [(12, ThetaForecaster), (1, OptimisedThetaForecaster)]
)
def test_panel_forecaster_is_half_the_network_and_a_sixth_of_each_local_model(season, theta):
    # Without a season the Theta is the optimised one (panel_partner).
    df = panel(seed=2, n_series=8)
    df = df[df["unique_id"] != "s7"]  # flat
    lengths = df.groupby("unique_id").size().to_numpy()
    model = panel_forecaster(season, 6, lengths, **LONG, target="y", freq="MS", **FAST_NETWORK)
    fc = model.fit(df).predict()
    params = panel_params(season, 6, lengths) | {"cell": "lstm", "target": "y", "freq": "MS"}
    network = RNNForecaster(**params | LONG | FAST_NETWORK | {"season_length": season})
    local = {"season_length": season, "horizon": 6, "target": "y", "freq": "MS", **LONG}
    parts = [
        network.fit(df).predict(),
        theta(**local).fit(df).predict(),
        DampedTrendForecaster(**local).fit(df).predict(),
        ETSForecaster(**local).fit(df).predict(),
    ]
    expected = 0.5 * parts[0]["y"] + (parts[1]["y"] + parts[2]["y"] + parts[3]["y"]) / 6
    np.testing.assert_allclose(fc["y"].to_numpy(), expected.to_numpy(), rtol=1e-6)


def test_panel_forecaster_passes_the_data_parameters_to_every_member():
    model = panel_forecaster(4, 8, cell="gru", missing="mask", hidden_size=16, **LONG)
    assert isinstance(model, CombinedForecaster)
    assert model.partner_weight == 0.5
    network, local = model.forecaster, model.partner
    assert (network.cell, network.hidden_size, network.seq_len) == ("gru", 16, 8)
    assert network.season_length == 4
    for member in (local.forecaster.forecaster, local.forecaster.partner, local.partner):
        assert (member.season_length, member.horizon, member.missing) == (4, 8, "mask")
        assert (member.id_col, member.time_col) == ("unique_id", "ds")
    assert model.missing == "mask"


def test_panel_forecaster_with_a_deseasonalised_network_saves_and_loads(tmp_path):
    df = panel()
    df = df[df["unique_id"] != "s5"]
    model = panel_forecaster(
        12, 6, target_transform="deseasonalize", **LONG, **FAST_NETWORK
    ).fit(df)  # fmt: skip
    model.save(tmp_path / "panel.safetensors")
    loaded = forecast.load(tmp_path / "panel.safetensors")
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())
    pd.testing.assert_frame_equal(loaded.predict(df), model.predict(df))


def test_panel_forecaster_on_a_wide_frame_with_two_targets():
    df = panel()
    df = df[df["unique_id"] == "s0"].set_index("ds")[["y"]]
    df = df.assign(z=df["y"] * 2.0)
    model = panel_forecaster(12, 4, target=["y", "z"], **FAST_NETWORK).fit(df)
    fc = model.predict()
    assert list(fc.columns) == ["y", "z"]
    assert len(fc) == 4
    assert np.isfinite(fc.to_numpy()).all()


def test_panel_forecaster_refuses_what_the_combination_cannot_serve():
    df = panel()
    model = panel_forecaster(12, 6, quantiles=[0.1, 0.9], **LONG, **FAST_NETWORK)
    with pytest.raises(InvalidParameterError, match="quantiles"):
        model.fit(df)
    with pytest.raises(TypeError, match="horizon"):
        panel_forecaster(12, 6, horizon=3)
