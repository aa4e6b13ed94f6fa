"""Ensembles over seeds: the data attributes and parameters of a single model, combined
forecasts (point and quantiles), and the tools that take any forecaster (backtest, plots).

Saving and loading an ensemble is tested in test_persistence.py, the ``--ensemble`` option
in test_cli.py.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from conftest import make_long_frame
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from forecast import (
    DataError,
    EnsembleForecaster,
    InvalidParameterError,
    LSTMForecaster,
    NaiveForecaster,
    quantile_column,
)
from forecast.data.panel import to_panel
from forecast.evaluation.backtest import _forecast_windows_quantiles, backtest
from forecast.metrics import mase
from forecast.plotting import plot_forecast
from forecast.protocol import DATA_ATTRIBUTES as _DATA_ATTRIBUTES

LONG = {"id_col": "unique_id", "time_col": "ds"}
LEVELS = [0.1, 0.9]


def _base(**kwargs) -> LSTMForecaster:
    return LSTMForecaster(
        seq_len=6, horizon=2, hidden_size=4, max_epochs=1, progress_bar=False, random_state=3,
        **kwargs,
    )  # fmt: skip


@pytest.fixture(scope="module")
def ensemble() -> tuple[EnsembleForecaster, pd.DataFrame]:
    """Three quantile LSTMs over the three-series panel."""
    frame = make_long_frame()
    return EnsembleForecaster(_base(quantiles=LEVELS, **LONG), n_members=3).fit(frame), frame


def test_the_data_attributes_are_the_members(ensemble):
    model, frame = ensemble
    first = model.members_[0]
    for name in _DATA_ATTRIBUTES:  # from the same converted frame as the members'
        mine, theirs = getattr(model, name), getattr(first, name)
        assert type(mine) is type(theirs), name
        if isinstance(mine, np.ndarray | pd.Index):
            assert np.array_equal(mine, theirs), name
            assert mine.dtype == theirs.dtype, name
        else:
            assert mine == theirs, name
    assert model.target_names_ == ["y"]
    assert model.series_ids_ == ["a", "b", "c"]
    assert list(model.cutoffs_) == list(frame.groupby("unique_id")["ds"].max())
    assert model.freq_ == pd.offsets.MonthBegin()
    assert model.quantile_levels_ == LEVELS
    assert model.seeds_ == [3, 4, 5]
    assert [m.seed_ for m in model.members_] == [3, 4, 5]


def test_the_base_parameters_are_shown_read_only(ensemble):
    model, _ = ensemble
    assert (model.horizon, model.id_col, model.time_col, model.target) == (
        2,
        "unique_id",
        "ds",
        None,
    )
    assert set(model.get_params(deep=False)) == {
        "estimator",
        "n_members",
        "aggregate",
        "member_params",
    }
    with pytest.raises(ValueError, match="Invalid parameter 'horizon'"):
        clone(model).set_params(horizon=3)
    assert clone(model).set_params(estimator__horizon=3).horizon == 3
    unfitted = EnsembleForecaster(_base())
    assert not hasattr(unfitted, "target_names_")
    assert not hasattr(EnsembleForecaster(), "horizon")
    with pytest.raises(NotFittedError):
        unfitted.predict()


def test_points_and_quantiles_are_combined_step_by_step(ensemble):
    model, frame = ensemble
    columns = ["y", *(quantile_column("y", q) for q in LEVELS)]
    for kwargs in ({}, {"horizon": 1}):
        forecast = model.predict(frame, **kwargs)
        members = np.stack([m.predict(frame, **kwargs)[columns].to_numpy() for m in model.members_])
        assert list(forecast.columns) == ["unique_id", "ds", *columns]
        np.testing.assert_array_equal(forecast[columns].to_numpy(), np.median(members, axis=0))
        assert len(forecast) == 3 * (kwargs.get("horizon") or 2)
    mean = clone(model).set_params(aggregate="mean")
    mean.members_, mean.seeds_ = model.members_, model.seeds_
    for name in _DATA_ATTRIBUTES:
        setattr(mean, name, getattr(model, name))
    members = np.stack([m.predict()[columns].to_numpy() for m in model.members_])
    np.testing.assert_allclose(mean.predict()[columns].to_numpy(), members.mean(axis=0))
    point, low, high = (model.predict()[c].to_numpy() for c in columns)
    assert (low <= point).all()  # the combined levels do not cross
    assert (point <= high).all()


def test_score_is_minus_the_mase_of_the_combined_forecast(ensemble):
    model, frame = ensemble
    history = frame.groupby("unique_id").head(-2)
    actual = frame.groupby("unique_id").tail(2)
    forecast = model.predict(history)
    expected = [
        mase(
            actual.loc[actual["unique_id"] == sid, "y"].to_numpy(),
            forecast.loc[forecast["unique_id"] == sid, "y"].to_numpy(),
            history.loc[history["unique_id"] == sid, "y"].to_numpy(),
            season_length=1,
        )
        for sid in model.series_ids_
    ]
    assert model.score(frame) == pytest.approx(-np.mean(expected), rel=1e-6)


def test_backtest_takes_an_ensemble(ensemble):
    model, frame = ensemble
    result = backtest(model, frame, n_windows=2, refit=False)
    assert all(isinstance(m, EnsembleForecaster) for m in result.models)
    assert result.models[0] is result.models[1]
    assert len(result.models[0].members_) == 3
    assert {"coverage_80", "pinball"} <= set(result.metrics.columns)
    assert np.isfinite(result.summary().to_numpy()).all()
    # The batched forecasts (one call per member over every cutoff) are predict's.
    fitted = result.models[0]
    panel, layout = to_panel(frame, **LONG, dtype=np.float64)
    from forecast.evaluation.folds import make_folds

    folds = make_folds(panel, n_windows=2, step=2, horizon=2, window_length=None, sliding=False)
    batched = _forecast_windows_quantiles(fitted, frame, panel, layout, folds, range(2))
    looped = _forecast_windows_quantiles(
        fitted, frame, panel, layout, folds, range(2), batched=False
    )
    for a, b in zip(batched, looped, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5)


def test_backtest_refits_a_clone_of_the_ensemble_at_each_origin():
    frame = make_long_frame()
    model = EnsembleForecaster(_base(**LONG), n_members=2)
    result = backtest(model, frame, n_windows=1)
    assert not hasattr(model, "members_")  # the user's ensemble is left unfitted
    assert result.models[0].seeds_ == [3, 4]
    assert list(result.metrics.columns[-4:]) == ["mae", "rmse", "smape", "mase"]


def test_plot_forecast_takes_an_ensemble(ensemble, tmp_path):
    model, frame = ensemble
    fig = plot_forecast(model, frame, n_history=24)
    assert len(fig.axes) == 3  # one panel per series
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert labels[:2] == ["history", "forecast"]
    assert fig.axes[0].collections  # the combined 10-90 % interval, as a band
    fig.savefig(tmp_path / "ensemble.png", dpi=40)
    plt.close(fig)


def test_base_estimator_errors_name_the_parameter():
    frame = make_long_frame()
    with pytest.raises(TypeError, match="'estimator' parameter of EnsembleForecaster must be"):
        EnsembleForecaster().fit(frame)
    with pytest.raises(InvalidParameterError, match=r"with a random_state .* NaiveForecaster"):
        EnsembleForecaster(NaiveForecaster(**LONG), n_members=2).fit(frame)
    with pytest.raises(InvalidParameterError, match="'aggregate' parameter"):
        EnsembleForecaster(_base(**LONG), aggregate="max").fit(frame)


@pytest.mark.parametrize("n_members", [0, -1, 1.5])
def test_n_members_must_be_a_positive_int(n_members):
    with pytest.raises(ValueError, match="n_members"):
        EnsembleForecaster(_base(**LONG), n_members=n_members).fit(make_long_frame())


def test_a_series_too_short_to_calibrate_is_refused_as_a_single_model_refuses_it():
    frame = make_long_frame()
    short = frame[frame["unique_id"] != "c"]
    short = pd.concat([short, frame[frame["unique_id"] == "c"].tail(5)])
    base = _base(intervals="conformal", calibration_windows=10, drop_short=True, **LONG)
    match = r"Too few rows for conformal calibration: series 'c' has 5"
    with pytest.raises(DataError, match=match):
        clone(base).fit(short)
    with pytest.raises(DataError, match=match):
        EnsembleForecaster(base, n_members=2).fit(short)


def test_a_warm_start_continues_each_member_from_its_fitted_member():
    """warm_start=True on the base estimator: member i continues fitted member i (before,
    every refit's members were fresh clones and started cold without a word)."""
    frame = make_long_frame()
    base = _base(**LONG, warm_start=True, warm_start_shrink=1.0, validation_size=0)
    model = EnsembleForecaster(base, n_members=2).fit(frame)
    first, members = model.predict(), list(model.members_)
    # Weights continued exactly, a step of a learning rate that moves nothing: the same model.
    model.set_params(estimator__learning_rate=1e-30, estimator__trainer_kwargs={"max_steps": 1})
    model.fit(frame)
    assert model.members_ == members  # the fitted members, continued
    pd.testing.assert_frame_equal(model.predict(), first, rtol=1e-6)
    cold = EnsembleForecaster(clone(model.estimator).set_params(warm_start=False), n_members=2)
    assert np.abs(cold.fit(frame).predict()["y"] - first["y"]).max() > 1e-3
    # A larger ensemble: the new member starts cold, as a first fit does.
    model.set_params(n_members=3).fit(frame)
    assert model.members_[:2] == members
    assert model.members_[2] not in members


def test_a_warm_start_of_an_ensemble_that_does_not_match_is_refused_before_training(
    monkeypatch,
):
    frame = make_long_frame()
    model = EnsembleForecaster(_base(**LONG, warm_start=True, validation_size=0), n_members=2)
    model.fit(frame)
    from forecast.neural import training

    def refuse(*args, **kwargs):
        raise AssertionError("trained")

    monkeypatch.setattr(training.L.Trainer, "fit", refuse)  # member 0 must not train
    model.set_params(member_params=[{}, {"hidden_size": 8}])
    with pytest.raises(InvalidParameterError, match=r"hidden_size: 4 -> 8"):
        model.fit(frame)
    assert not hasattr(model, "members_")  # left unfitted, as a single model is
