"""No silent wrong numbers: extreme magnitudes, diverged fits, non-finite values anywhere.

Each test here failed before the fix it names (issue 18): ±inf forecasts of 1e20 series,
NaN forecasts of a diverged fit, small-amplitude series left unscaled, conformal and MASE
scales erased by a big neighbouring series, non-finite forecasts from damaged weights.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from forecast import (
    DataError,
    NaiveForecaster,
    NumericalError,
    RNNForecaster,
)
from forecast.data.panel import to_panel
from forecast.data.scaling import SeriesScaler
from forecast.evaluation.conformal import history_scale
from forecast.evaluation.tables import seasonal_scale
from tests.conftest import FAST

TINY = {**FAST, "seq_len": 6, "horizon": 2, "max_epochs": 1}


def _wave(amplitude: float, n: int = 80, level: float = 2.0) -> pd.DataFrame:
    t = np.arange(n)
    index = pd.date_range("2021-01-01", periods=n, freq="D")
    return pd.DataFrame({"y": amplitude * (np.sin(t / 5) + level)}, index=index)


# --------------------------------------------------------------------------- magnitudes


def test_series_near_the_top_of_float32_are_forecast_finite_and_at_their_level():
    # The scaler squared float32 values (overflow above ~1.8e19): -inf forecasts.
    forecast = RNNForecaster(**TINY).fit(_wave(1e20)).predict()
    assert np.isfinite(forecast["y"]).all()
    assert forecast["y"].between(0.3e20, 3.7e20).all()  # the series lies in [1e20, 3e20]


def test_the_standard_scaler_computes_its_statistics_in_float64():
    values = (1e20 * (np.sin(np.arange(50) / 5) + 2)).astype(np.float32)[:, None]
    scaler = SeriesScaler("standard").fit(values, np.array([0, 50]), np.array([50]))
    expected = values.astype(np.float64)
    np.testing.assert_allclose(scaler.loc_[0, 0], expected.mean(), rtol=1e-12)
    np.testing.assert_allclose(scaler.scale_[0, 0], expected.std(), rtol=1e-12)


@pytest.mark.parametrize("amplitude", [1e-7, 1e-8, 1e-30])
def test_small_amplitude_series_are_scaled_by_their_own_size(amplitude):
    # A spread below eps * max(|level|, 1) was taken for 0: the series went unscaled and
    # was forecast ~1e-3 (1e-7) or as the all-zero series' forecast (1e-8, 1e-30).
    frame = _wave(amplitude)
    forecast = RNNForecaster(**TINY).fit(frame)
    values = forecast.predict()["y"].to_numpy()
    assert np.all(values > 0.3 * amplitude)
    assert np.all(values < 3.7 * amplitude)
    zeros = frame * 0.0
    flat = RNNForecaster(**TINY).fit(zeros).predict()["y"].to_numpy()
    assert not np.allclose(values, flat, rtol=0, atol=amplitude / 10)


@pytest.mark.parametrize("method", ["standard", "minmax", "window"])
def test_only_a_constant_series_gets_a_unit_scale(method):
    values = np.concatenate([np.full(20, 5.0), 1e-12 * np.arange(20) + 1.0])[:, None]
    offsets, rows = np.array([0, 20, 40]), np.array([20, 20])
    scaler = SeriesScaler(method).fit(values, offsets, rows)
    windows = np.stack([values[:20], values[20:]])  # (2, 20, 1)
    _, scale = scaler.window_stats(windows, np.array([0, 1]))
    assert scale[0, 0, 0] == 1.0  # constant: the only zero spread
    assert 0 < scale[1, 0, 0] < 1e-10  # a spread of ~6e-12 on a level of 1 is its own


def test_the_level_scaler_divides_by_any_level_but_zero():
    windows = np.stack([np.zeros(20), np.full(20, 1e-30)])[..., None]  # (2, 20, 1)
    _, scale = SeriesScaler("window_level").window_stats(windows, np.array([0, 1]))
    assert scale[0, 0, 0] == 1.0
    np.testing.assert_allclose(scale[1, 0, 0], 1e-30)


def test_values_too_small_for_float32_are_refused_before_training():
    frame = _wave(1.0)
    frame.iloc[10, 0] = 1e-40  # a subnormal float32: its digits are lost
    with pytest.raises(
        DataError, match=r"'y' has a value too close to 0 for float32 at 2021-01-11"
    ):
        RNNForecaster(**TINY).fit(frame)
    # The baselines read float64, which holds it.
    assert np.isfinite(NaiveForecaster(horizon=2).fit(frame).predict()["y"]).all()


def test_values_beyond_float32_name_the_fix():
    frame = _wave(1.0)
    frame.iloc[10, 0] = 1e39
    with pytest.raises(DataError, match=r"beyond float32 range at 2021-01-11.*Divide the column"):
        RNNForecaster(**TINY).fit(frame)


def _near_1e8(steps: float) -> pd.DataFrame:
    """Two series of 30 days: one near 100, one near 1e8, moving by ``steps`` a day."""
    t = pd.date_range("2021-01-01", periods=30, freq="D")
    moves = np.random.default_rng(0).normal(0, steps, 60).cumsum()
    return pd.DataFrame({"id": np.repeat(["calm", "near_1e8"], 30), "t": t.append(t),
                         "y": np.r_[100 + moves[:30], 1e8 + moves[30:]]})  # fmt: skip


@pytest.mark.parametrize("calibrated", [False, True])
def test_steps_float32_rounds_away_are_warned_of_with_the_series(calibrated):
    # A series near 1e8 moving by 0.01 is a constant in float32: the network read it so
    # without a word. (Calibrated models convert at float64 first and narrow after.)
    params = (
        {**TINY, "intervals": "conformal", "calibration_windows": 3, "coverage": 0.6}
        if calibrated
        else TINY
    )
    with pytest.warns(UserWarning, match="rounds away") as caught:
        RNNForecaster(**params, id_col="id", time_col="t").fit(_near_1e8(0.01))
    messages = [str(w.message) for w in caught if "rounds" in str(w.message)]
    assert len(messages) == 1, messages
    assert messages[0].startswith("Column 'y' of series 'near_1e8' moves by steps that float32")
    assert "float32" in messages[0]
    assert "Subtract a constant" in messages[0]


@pytest.mark.parametrize("steps", [0.01, 50.0])
def test_the_rounding_check_leaves_missing_values_out(steps):
    frame = _near_1e8(steps)
    frame.loc[[3, 40, 41], "y"] = np.nan  # one in each series (40, 41: a step to and from)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        to_panel(frame, id_col="id", time_col="t", missing="mask")
    said = [str(w.message) for w in caught if "rounds away" in str(w.message)]
    assert len(said) == (steps == 0.01)
    assert all("series 'near_1e8'" in m and "nan" not in m for m in said)


def test_steps_float32_holds_and_float64_models_are_not_warned_of():
    # Warnings are errors in the tests: any warning fails these fits.
    RNNForecaster(**TINY, id_col="id", time_col="t").fit(_near_1e8(50.0))  # spacing 8 at 1e8
    NaiveForecaster(horizon=2, id_col="id", time_col="t").fit(_near_1e8(0.01))  # float64
    flat = _near_1e8(0.0)  # constant series: nothing to round away
    panel, _ = to_panel(flat, id_col="id", time_col="t")
    assert panel.values.dtype == np.float32


# --------------------------------------------------------------------- diverged fits


@pytest.mark.parametrize("quantiles", [None, [0.1, 0.5, 0.9]])
def test_a_diverging_fit_stops_with_the_step_and_the_fix(quantiles):
    model = RNNForecaster(**{**TINY, "max_epochs": 3}, learning_rate=1e38, quantiles=quantiles)
    with pytest.raises(NumericalError, match=r"loss is nan at step \d+ of epoch 0.*learning_rate"):
        model.fit(_wave(1.0))
    assert not hasattr(model, "cutoffs_")  # nothing half-fitted is left


def test_non_finite_trained_weights_are_refused(monkeypatch):
    # The last optimiser step can break the weights after the last loss was checked.
    from forecast.neural import module

    real = module.RecurrentModule.on_train_end

    def poison(self):
        with torch.no_grad():
            next(self.parameters()).fill_(float("inf"))
        if real is not None:
            real(self)

    monkeypatch.setattr(module.RecurrentModule, "on_train_end", poison)
    with pytest.raises(NumericalError, match=r"trained weights .* hold NaN or infinite"):
        RNNForecaster(**TINY, validation_size=0).fit(_wave(1.0))


def test_damaged_weights_give_an_error_not_nan_forecasts():
    model = RNNForecaster(**TINY).fit(_wave(1.0))
    with torch.no_grad():
        next(model.network_.parameters()).fill_(float("nan"))
    with pytest.raises(NumericalError, match=r"output is NaN or infinite for the series.*weights"):
        model.predict()
    with pytest.raises(NumericalError, match=r"weights"):
        model.predict(_wave(1.0))
    with pytest.raises(NumericalError):
        model.score(_wave(1.0))


def test_a_history_far_outside_the_training_range_is_refused_by_name():
    long = _wave(1.0).assign(unique_id="calm").reset_index(names="ds")
    model = RNNForecaster(**TINY, id_col="unique_id", time_col="ds").fit(long)
    wild = long.copy()
    # Within float32's range, but ~4e38 training spreads away from the data: overflows.
    wild["y"] = 3e38 * (1 - 0.1 * (np.arange(len(wild)) % 2))
    with pytest.raises(NumericalError, match=r"series 'calm' overflow float32.*Refit"):
        model.predict(wild)


def test_a_subclass_that_returns_nan_cannot_leak_it():
    class Broken(NaiveForecaster):
        def _forecast_fitted(self, future):
            forecast = super()._forecast_fitted(future)
            forecast.point[0, 1, 0] = np.nan
            return forecast

    with pytest.raises(NumericalError, match=r"forecast of the series is NaN or infinite"):
        Broken(horizon=3).fit(_wave(1.0)).predict()


# ----------------------------------------------------- scales beside a big neighbour


def _big_and_small() -> pd.DataFrame:
    t = np.arange(60)
    ds = pd.date_range("2020-01-01", periods=60, freq="D")
    big = pd.DataFrame({"unique_id": "big", "ds": ds, "y": 1e20 * (2 + np.sin(t / 3))})
    small = pd.DataFrame({"unique_id": "small", "ds": ds, "y": 1e-7 * (2 + np.sin(t / 3))})
    return pd.concat([big, small], ignore_index=True)


def test_history_scales_are_exact_beside_a_series_of_1e20():
    # A running sum over the panel (~1e21 by the second series) erased 1e-7's changes.
    panel, _ = to_panel(_big_and_small(), id_col="unique_id", time_col="ds", dtype=np.float64)
    ends = panel.offsets[1:]
    scale = history_scale(panel, np.array([0, 1]), ends)
    y = 1e-7 * (2 + np.sin(np.arange(60) / 3))
    np.testing.assert_allclose(scale[1, 0], np.abs(np.diff(y)).mean(), rtol=1e-9)
    seasonal = seasonal_scale(panel, panel.offsets[:-1], ends, 7, str)
    np.testing.assert_allclose(seasonal[1, 0], np.abs(y[7:] - y[:-7]).mean(), rtol=1e-9)


def test_conformal_intervals_of_a_small_series_are_on_its_scale():
    frame = _big_and_small()
    model = NaiveForecaster(
        horizon=2,
        id_col="unique_id",
        time_col="ds",
        intervals="conformal",
        coverage=0.8,
        calibration_windows=10,
    ).fit(frame)
    small = model.predict().query("unique_id == 'small'")
    width = (small["y_q0.9"] - small["y_q0.1"]).to_numpy()
    assert np.all(width > 0)
    assert np.all(width < 1e-6)  # was ~1: the unit scale of a "constant" history


@pytest.mark.parametrize("method", ["window", "window_level"])
def test_a_window_scaled_past_float32_is_refused_by_name(method):
    # A target jumping off a window of near-zeros: 1e6 / 1e-37 has no float32.
    windows = np.array([[[1e-37], [1.1e-37], [1e6]]])  # (1, L + H, 1)
    with pytest.raises(NumericalError, match=rf"scaler='{method}'.*overflow float32"):
        SeriesScaler(method).scale_windows(windows, np.array([0]), n_input=2)


@pytest.mark.parametrize("chunk", [1, 7, 1 << 18])
def test_the_rounding_check_reads_series_in_chunks_as_in_one(monkeypatch, chunk):
    # Whole series per chunk (a series longer than a chunk is one chunk): the same warning.
    from forecast.data import representable

    monkeypatch.setattr(representable, "_CHUNK_ROWS", chunk)
    frame = pd.concat([_near_1e8(50.0), _near_1e8(0.01).assign(id=lambda d: d["id"] + "2")])
    frame.loc[frame.index[[3, 40]], "y"] = np.nan
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        to_panel(frame.reset_index(drop=True), id_col="id", time_col="t", missing="mask")
    said = [str(w.message) for w in caught if "rounds away" in str(w.message)]
    assert len(said) == 1, said  # near_1e8 moves by 50: float32 holds it to steps of 8
    assert said[0].startswith("Column 'y' of series 'near_1e82' moves by steps that float32")
    assert "only to steps of 8," in said[0]
