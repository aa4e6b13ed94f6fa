"""A forecaster of one's own (tests/toy_forecaster.py: its hooks only) gets everything else.

fit and predict on wide and long frames, score, conformal intervals, backtests (batched),
model files and cards, plots, and the command line, all from BaseForecaster.
"""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from conftest import make_long_frame, make_sine_frame
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)
from toy_forecaster import MeanForecaster

from forecast import BaseForecaster, DataError, InvalidParameterError, load
from forecast.backtest import backtest
from forecast.cli import main
from forecast.io import persistence
from forecast.plotting import plot_backtest, plot_forecast

LONG = {"id_col": "unique_id", "time_col": "ds"}


def test_it_is_a_scikit_learn_estimator():
    model = MeanForecaster(window=4, horizon=2)
    for check in (
        check_no_attributes_set_in_init,
        check_parameters_default_constructible,
        check_get_params_invariance,
        check_set_params,
    ):
        check("MeanForecaster", model)
    assert clone(model).get_params() == model.get_params()
    with pytest.raises(NotFittedError):
        model.predict()
    with pytest.raises(InvalidParameterError, match="'window' parameter of MeanForecaster"):
        MeanForecaster(window=0).fit(make_sine_frame())


@pytest.mark.parametrize("layout", ["wide", "long"])
def test_fit_predict_and_score(layout):
    frame = make_sine_frame() if layout == "wide" else make_long_frame()
    params = {} if layout == "wide" else LONG
    model = MeanForecaster(window=3, horizon=2, target="y", **params).fit(frame)
    forecast = model.predict()
    if layout == "wide":
        assert list(forecast.index) == list(pd.date_range(frame.index[-1], periods=3)[1:])
        assert forecast["y"].tolist() == [frame["y"].iloc[-3:].mean()] * 2
    else:
        last = frame.groupby("unique_id").tail(3).groupby("unique_id")["y"].mean()
        got = forecast.groupby("unique_id")["y"].agg(["first", "last"])
        np.testing.assert_allclose(got["first"], last.loc[got.index])
        np.testing.assert_allclose(got["last"], last.loc[got.index])
        ends = frame.groupby("unique_id")["ds"].max() + pd.offsets.MonthBegin(1)
        assert (forecast.groupby("unique_id")["ds"].min() == ends.loc[got.index]).all()
    assert model.target_names_ == ["y"]
    pd.testing.assert_frame_equal(model.predict(frame), forecast)
    assert model.predict(horizon=1).shape[0] == forecast.shape[0] // 2
    assert np.isfinite(model.score(frame))
    with pytest.raises(DataError, match="fewer than window=3 rows"):
        model.predict(frame.iloc[:2] if layout == "wide" else frame.groupby("unique_id").head(2))


def test_conformal_intervals_come_from_the_base_class():
    frame = make_sine_frame()
    model = MeanForecaster(window=3, horizon=2, target="y", intervals="conformal", coverage=0.8)
    forecast = model.fit(frame).predict()
    assert list(forecast.columns) == ["y", "y_q0.1", "y_q0.9"]
    assert (forecast["y_q0.1"] < forecast["y"]).all()
    assert (forecast["y"] < forecast["y_q0.9"]).all()
    assert model.n_calibration_ == 20


def test_backtest_batched_and_refit_agree_with_the_definition():
    frame = make_sine_frame()
    model = MeanForecaster(window=3, horizon=2, target="y", intervals="conformal", coverage=0.8)
    once = backtest(model, frame, n_windows=4, refit=False)
    every = backtest(model, frame, n_windows=4, refit=True)
    assert len(once.forecasts) == 4 * 2
    # The forecast at each cutoff is the mean of the 3 values up to it, however it was made.
    for row in once.forecasts.itertuples():
        history = frame.loc[: row.cutoff, "y"]
        assert row.forecast == pytest.approx(history.iloc[-3:].mean(), abs=1e-12)
    pd.testing.assert_series_equal(once.forecasts["forecast"], every.forecasts["forecast"])
    assert {"coverage_80", "width_80", "winkler_80"} <= set(once.metrics.columns)
    assert plot_backtest(once) is not None


def test_model_files_cards_and_plots(tmp_path):
    frame = make_long_frame()
    model = MeanForecaster(window=2, horizon=3, target="y", **LONG).fit(frame)
    model.backtest_ = {"mae": 0.5}
    model.save(tmp_path / "mean.safetensors")
    document, arrays = persistence.read(tmp_path / "mean.safetensors")
    assert document["estimator"] == "toy_forecaster:MeanForecaster"
    assert set(arrays) == {"model.last_means"}
    loaded = load(tmp_path / "mean.safetensors")
    assert type(loaded) is MeanForecaster
    assert isinstance(loaded, BaseForecaster)
    pd.testing.assert_frame_equal(loaded.predict(), model.predict(), check_exact=True)
    assert MeanForecaster.load(tmp_path / "mean.safetensors").backtest_ == {"mae": 0.5}
    card = model.card()
    assert (card.estimator, card.n_series, card.targets) == (
        "toy_forecaster:MeanForecaster",
        3,
        ["y"],
    )
    figure = plot_forecast(model, frame, ids=["a", "b"])
    for ax in figure.axes:
        assert [line.get_label() for line in ax.get_lines()][:2] == ["history", "forecast"]


def test_the_command_line(tmp_path, capsys):
    frame = make_sine_frame()
    frame.to_csv(tmp_path / "data.csv")
    spec = "toy_forecaster:MeanForecaster"
    code = main(["fit", "--estimator", spec, "--data", str(tmp_path / "data.csv"),
                 "--time-col", "date", "--target", "y", "--window", "4", "--horizon", "2",
                 "--out", str(tmp_path / "m.safetensors")])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    capsys.readouterr()
    code = main(["predict", "--model", str(tmp_path / "m.safetensors"), "--estimator", spec,
                 "--no-metadata"])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    expected = MeanForecaster(window=4, horizon=2, target="y").fit(frame).predict()
    assert out == expected.to_csv()
    assert main(["info", str(tmp_path / "m.safetensors")]) == 0
    assert "toy_forecaster:MeanForecaster" in capsys.readouterr().out
    # Its 'window' parameter meets backtest's own --window: the flag is --estimator-window.
    code = main(["backtest", "--estimator", spec, "--data", str(tmp_path / "data.csv"),
                 "--time-col", "date", "--target", "y", "--windows", "2",
                 "--estimator-window", "5", "--window", "sliding"])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.splitlines()[0].startswith("window,cutoff,target,mae")
    assert main(["fit", "--estimator", "toy_forecaster:Nope", "--data", "x.csv"]) == 2
    assert "has no 'Nope'" in capsys.readouterr().err


def test_a_bad_estimator_spec_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "broken_forecaster.py").write_text("raise RuntimeError('half-written')\n")
    for spec, said in (
        (":MeanForecaster", "must be module:Class"),
        (".toy_forecaster:MeanForecaster", "must be module:Class"),
        ("toy_forecaster:", "must be module:Class"),
        ("no_such_module_here:X", "ModuleNotFoundError"),
        ("broken_forecaster:X", "RuntimeError: half-written"),
        ("toy_forecaster:check_int", "not a forecaster"),
    ):
        argv = ["fit", "--estimator", spec, "--data", "x.csv", "--out", "m.safetensors"]
        cwd = os.getcwd()
        os.chdir(tmp_path)  # the current folder is where the CLI looks for a module too
        try:
            assert main(argv) == 2, spec
        finally:
            os.chdir(cwd)
        assert said in capsys.readouterr().err, spec
