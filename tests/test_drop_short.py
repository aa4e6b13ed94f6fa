"""drop_short=True models on the frame they were fitted on: predict, plot, backtest."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from conftest import FAST, make_long_frame
from sklearn.base import clone

from forecast import DataError, EnsembleForecaster, RNNForecaster
from forecast.backtest import backtest
from forecast.plotting import plot_forecast

LONG = {"id_col": "unique_id", "time_col": "ds", "target": "y"}
SHORT = "d"


def _frame() -> pd.DataFrame:
    """The three series of make_long_frame and 'd', 14 rows: too short to train on."""
    d = pd.DataFrame(
        {
            "unique_id": SHORT,
            "ds": pd.date_range("2003-01-01", periods=14, freq="MS"),
            "y": 10 + np.cos(np.arange(14)),
        }
    )
    return pd.concat([make_long_frame(), d], ignore_index=True)


def _model(scaler: str) -> RNNForecaster:
    # one window needs seq_len + horizon = 15 rows: 'd' is dropped at fit
    return RNNForecaster(
        seq_len=12, horizon=3, validation_size=0, drop_short=True, scaler=scaler, **LONG, **FAST
    )


def _fit(scaler: str) -> RNNForecaster:
    with pytest.warns(UserWarning, match=r"Dropped 1 series too short to train on: series 'd'"):
        return _model(scaler).fit(_frame())


def test_a_window_scaler_forecasts_the_dropped_series_too():
    model = _fit("window")
    assert model.series_ids_ == ["a", "b", "c"]
    fc = model.predict(_frame())  # no warning: every series can be forecast
    assert list(fc["unique_id"].unique()) == ["a", "b", "c", "d"]
    trained = fc[fc["unique_id"] != SHORT].reset_index(drop=True)
    pd.testing.assert_frame_equal(trained, model.predict())


def test_a_fitted_scaler_leaves_the_dropped_series_out_with_a_warning():
    model = _fit("standard")
    with pytest.warns(UserWarning, match=r"No forecast for 1 series .* series 'd' has 14"):
        fc = model.predict(_frame())
    pd.testing.assert_frame_equal(fc, model.predict())


def test_plot_forecast_of_trained_ids_on_the_training_frame():
    model = _fit("window")
    fig = plot_forecast(model, _frame(), ids=["a"])
    assert fig.axes[0].get_title() == "unique_id a"
    plt.close("all")
    model = _fit("standard")
    with pytest.warns(UserWarning, match="No forecast for 1 series"):
        fig = plot_forecast(model, _frame(), ids=["a", "b"])
    assert len(fig.axes) == 2
    plt.close("all")


def test_backtest_leaves_out_what_a_fold_dropped_and_scores_the_rest_as_without_it():
    df = _frame()
    with pytest.warns(UserWarning, match="series .d.") as warned:
        result = backtest(_model("window"), df, n_windows=1)
    messages = [str(w.message) for w in warned]
    assert messages[0].startswith("Dropped 1 series too short to train on: series 'd' has 11")
    assert messages[1].startswith("No backtest forecast for series 'd' at 1 (window, series)")
    without = backtest(_model("window"), df[df["unique_id"] != SHORT], n_windows=1)
    assert SHORT not in set(result.metrics["unique_id"])
    pd.testing.assert_frame_equal(result.metrics, without.metrics)
    pd.testing.assert_frame_equal(result.forecasts, without.forecasts)


def test_without_drop_short_the_short_series_is_still_an_error(no_training):
    model = _model("window").set_params(drop_short=False)
    with pytest.raises(DataError, match="drop_short=True to leave these series out"):
        model.fit(_frame())


def test_backtest_forecasts_a_series_its_fold_dropped_when_it_can():
    """'d' with 17 rows: fitted on in full, dropped at the cutoff (14 rows < 15), and
    forecast there from its last seq_len=12 rows by the window scaler."""
    df = pd.concat(
        [
            make_long_frame(),
            pd.DataFrame(
                {
                    "unique_id": SHORT,
                    "ds": pd.date_range("2003-01-01", periods=17, freq="MS"),
                    "y": 10 + np.cos(np.arange(17)),
                }
            ),
        ],
        ignore_index=True,
    )
    with pytest.warns(UserWarning, match="Dropped 1 series too short to train on: series 'd'"):
        result = backtest(_model("window"), df, n_windows=1)
    assert result.models[0].series_ids_ == ["a", "b", "c"]
    d = result.metrics[result.metrics["unique_id"] == SHORT]
    assert len(d) == 1
    assert np.isfinite(d["mae"]).all()


def test_an_ensemble_of_drop_short_members_on_its_training_frame():
    with pytest.warns(UserWarning, match="Dropped 1 series too short to train on: series 'd'"):
        ensemble = EnsembleForecaster(_model("standard"), n_members=2).fit(_frame())
    with pytest.warns(UserWarning, match=r"No forecast for 1 series that RNNForecaster"):
        fc = ensemble.predict(_frame())
    pd.testing.assert_frame_equal(fc, ensemble.predict())


def test_backtest_without_refit_of_a_fitted_scaler_leaves_the_dropped_series_out():
    """scaler='standard' has no statistics for 'd', which the model never saw: the backtest
    leaves it out with a warning (as left_out.py says), not a DataError for the whole run,
    and scores the other series as a backtest without 'd' does."""
    df = _frame()
    with pytest.warns(UserWarning, match="series .d.") as warned:
        result = backtest(_model("standard"), df, n_windows=2, refit=False)
    assert any("No backtest forecast for series 'd'" in str(w.message) for w in warned)
    assert set(result.metrics["unique_id"]) == {"a", "b", "c"}
    without = backtest(_model("standard"), df[df["unique_id"] != SHORT], n_windows=2, refit=False)
    pd.testing.assert_frame_equal(result.metrics, without.metrics)


def test_conformal_calibration_from_parts_of_a_drop_short_model_as_in_one_process(tmp_path):
    """The calibration pass over a part holding a series the calibration model dropped
    forecasts only the kept series: the unseen one is no error (scaler='standard')."""
    import forecast

    df = _frame()
    (tmp_path / "parts").mkdir()
    df.to_parquet(tmp_path / "parts" / "p0.parquet", index=False)
    model = _model("standard").set_params(
        intervals="conformal", coverage=0.8, calibration_windows=2, max_epochs=1
    )
    with pytest.warns(UserWarning, match="Dropped 1 series too short"):
        single = clone(model).fit(df)
    with pytest.warns(UserWarning, match="Dropped 1 series too short"):
        parts = clone(model).fit(forecast.parts(tmp_path / "parts"))
    assert parts.series_ids_ == single.series_ids_ == ["a", "b", "c"]
    np.testing.assert_allclose(parts.conformal_quantiles_, single.conformal_quantiles_, atol=1e-5)
    assert parts.n_calibration_ == single.n_calibration_ == 3 * 2


def test_backtest_checks_only_the_pairs_it_scores():
    """'d' (11 rows at the cutoff, left out) would fail MASE with season_length=11 and MAPE
    with its zero actual, and add a missing actual: checks of rows that are then cut."""
    df = _frame()
    last = df.index[df["unique_id"] == SHORT][-1]
    options = {"n_windows": 1, "metrics": ["mae", "mape", "mase"], "season_length": 11}
    without = backtest(_model("window"), df[df["unique_id"] != SHORT], **options)
    for value, masked in ((0.0, False), (np.nan, True)):
        df.loc[last, "y"] = value
        model = _model("window").set_params(missing="mask" if masked else "raise")
        with warnings.catch_warnings(record=True) as warned:  # masked: 'y' was complete at fit
            warnings.simplefilter("always")
            result = backtest(model, df, **options)
        assert any("No backtest forecast for series 'd'" in str(w.message) for w in warned)
        assert result.missing_actuals == 0
        pd.testing.assert_frame_equal(result.metrics, without.metrics)
