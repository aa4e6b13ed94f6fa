"""What every local smoothing model guarantees, whatever its method: Theta, the optimised Theta,
the damped trend and ETS (each module's own tests check its method against a reference).

They are fitted afresh on the history before each origin, so a backtest without refits
equals one with; neither the data's row order, its units nor the chunks the histories are
gathered in change a forecast (nor, with a log or Box-Cox target transform, do the units
of the data); a saved model forecasts the same; the command line knows them by name."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import make_smoothing_panel as panel

import forecast
from forecast import (
    DampedTrendForecaster,
    ETSForecaster,
    OptimisedThetaForecaster,
    ThetaForecaster,
)
from forecast.backtest import backtest
from forecast.forecasters import _local_smoothing as local_smoothing
from forecast.forecasters import damped as damped_module
from forecast.forecasters import optimised_theta as optimised_theta_module

LONG = {"id_col": "unique_id", "time_col": "ds"}
#: Each model, and the names ``--estimator`` takes for it.
MODELS = {
    ThetaForecaster: ("theta", "ThetaForecaster"),
    OptimisedThetaForecaster: ("optimised-theta", "OptimisedThetaForecaster"),
    DampedTrendForecaster: ("dampedtrend", "damped-trend", "DampedTrendForecaster"),
    ETSForecaster: ("ets", "ETSForecaster"),
}
each_model = pytest.mark.parametrize("cls", list(MODELS), ids=lambda cls: cls.__name__)


def _state(model: object) -> dict[str, np.ndarray]:
    """The fitted coefficients, by attribute (``forecast_`` aside)."""
    return {name: getattr(model, name) for name in type(model)._state[1:]}


@each_model
def test_backtest_without_refit_equals_refitting_at_every_origin(cls):
    df = panel()
    df = df[df["unique_id"] != "s5"]  # flat: MASE is undefined on it
    model = cls(season_length=12, horizon=4, **LONG)
    once = backtest(model, df, n_windows=3, step=4, refit=False).forecasts
    every = backtest(model, df, n_windows=3, step=4, refit=True).forecasts
    pd.testing.assert_frame_equal(once, every)


@each_model
def test_row_order_and_chunking_do_not_change_a_forecast(cls, monkeypatch):
    df = panel(seed=1, n_series=9)
    model = cls(season_length=12, horizon=6, **LONG)
    expected = model.fit(df).predict(df)
    shuffled = df.sample(frac=1.0, random_state=0)
    monkeypatch.setattr(local_smoothing, "_CHUNK_CELLS", 100)  # one or two origins a chunk
    monkeypatch.setattr(damped_module, "_GRID_CELLS", 1)  # one history per grid block (ETS's too)
    monkeypatch.setattr(optimised_theta_module, "_GRID_CELLS", 1)
    with pytest.warns(UserWarning, match="not in increasing order"):
        got = model.fit(shuffled).predict(shuffled)
    pd.testing.assert_frame_equal(got, expected)


@each_model
@pytest.mark.parametrize("scale", [1e-200, 1e-6, 1e6, 1e160])
def test_the_units_of_the_data_change_neither_the_fit_nor_its_forecasts(cls, scale):
    df = panel(seed=3)
    model = cls(season_length=12, horizon=6, **LONG)
    unit = model.fit(df).predict()["y"].to_numpy()
    fitted = {name: value.copy() for name, value in _state(model).items()}
    scaled = model.fit(df.assign(y=df["y"] * scale))
    # Theta's alpha comes from a golden-section search, which stops within 1e-8 of it.
    rtol = 1e-6 if cls is ThetaForecaster else 1e-8
    np.testing.assert_allclose(scaled.predict()["y"] / scale, unit, rtol=rtol)
    for name, value in _state(scaled).items():
        np.testing.assert_allclose(value, fitted[name], rtol=1e-6, err_msg=name)


def _seasonal_trend(level: float, n: int = 60) -> pd.DataFrame:
    """One monthly series with a season of +-30 % and a trend, around ``level``."""
    t = np.arange(n)
    noise = np.random.default_rng(0).normal(0, 0.05, n)
    y = level * (1 + 0.3 * np.sin(2 * np.pi * t / 12)) * np.exp(0.01 * t + noise)
    return pd.DataFrame(
        {"unique_id": "a", "ds": pd.date_range("2000-01", periods=n, freq="MS"), "y": y}
    )


@each_model
@pytest.mark.parametrize("transform", ["log", "boxcox"])
@pytest.mark.parametrize("level", [100.0, 0.05], ids=["above-1", "below-1"])
@pytest.mark.parametrize("scale", [1e-3, 1e3])
def test_on_a_log_scale_the_units_of_the_data_do_not_change_its_forecasts(
    cls, transform, level, scale
):
    # A change of units is a shift of log y, and an affine map of Box-Cox with its lambda
    # (whose maximum likelihood does not depend on the units): an additive season and
    # additive errors move with it. Ratios of logs, or whether all logs are > 0 (y > 1), do
    # not, and chose a multiplicative season (or ETS's error) for one scale and not another.
    df = _seasonal_trend(level)
    model = cls(season_length=12, horizon=12, target_transform=transform, **LONG)
    unit = model.fit(df).predict()["y"].to_numpy()
    errors = [getattr(model, "multiplicative_error_", np.zeros(1)).copy()]
    scaled = model.fit(df.assign(y=df["y"] * scale)).predict()["y"].to_numpy()
    errors.append(getattr(model, "multiplicative_error_", np.zeros(1)))
    assert not np.concatenate(errors, axis=None).any()  # ETS: additive errors only
    # Theta's alpha (a golden-section search) and Box-Cox's lambda (a bounded one) stop
    # within their tolerances of the same point.
    np.testing.assert_allclose(scaled / scale, unit, rtol=1e-5 if transform == "boxcox" else 1e-6)


@each_model
def test_no_origin_gives_no_forecast(cls):
    df = panel()
    model = cls(season_length=12, horizon=3, **LONG).fit(df)
    panel_data, _ = model._to_panel(df)
    empty = np.array([], dtype=np.int64)
    assert model._point_at(panel_data, empty, empty).shape == (0, 3, 1)


@each_model
def test_saved_and_loaded_it_forecasts_the_same(cls, tmp_path):
    df = panel(seed=3)
    model = cls(season_length=12, horizon=6, **LONG).fit(df)
    model.save(tmp_path / "local.safetensors")
    loaded = forecast.load(tmp_path / "local.safetensors")
    assert type(loaded) is cls
    for name, value in _state(model).items():
        np.testing.assert_array_equal(getattr(loaded, name), value, err_msg=name)
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())
    pd.testing.assert_frame_equal(loaded.predict(df), model.predict(df))


@each_model
def test_the_command_line_knows_it(cls):
    from forecast.cli.params import resolve_cli_estimator

    for name in MODELS[cls]:
        assert resolve_cli_estimator(name) is cls
