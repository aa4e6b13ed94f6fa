"""The contract every forecaster keeps: recurrent models, baselines and ensembles alike.

Each estimator is fitted once per layout (module-scoped fixtures) with tiny settings; the
tests only read the fitted objects.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import FAST, make_long_frame, make_sine_frame
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from forecast import (
    DampedTrendForecaster,
    DataError,
    DriftForecaster,
    EnsembleForecaster,
    ETSForecaster,
    GRUForecaster,
    InvalidParameterError,
    LSTMForecaster,
    NaiveForecaster,
    OptimisedThetaForecaster,
    RNNForecaster,
    SeasonalNaiveForecaster,
    ThetaForecaster,
)
from forecast.forecasters.combined import CombinedForecaster
from forecast.metrics import mase

HORIZON = 3
RECURRENT = {"seq_len": 8, "validation_size": 0, **FAST}
ESTIMATORS = {
    "rnn": lambda **kw: RNNForecaster(horizon=HORIZON, **RECURRENT, **kw),
    "lstm": lambda **kw: LSTMForecaster(horizon=HORIZON, **RECURRENT, **kw),
    "gru": lambda **kw: GRUForecaster(horizon=HORIZON, **RECURRENT, **kw),
    "naive": lambda **kw: NaiveForecaster(horizon=HORIZON, **kw),
    "seasonal_naive": lambda **kw: SeasonalNaiveForecaster(season_length=4, horizon=HORIZON, **kw),
    "drift": lambda **kw: DriftForecaster(horizon=HORIZON, **kw),
    "theta": lambda **kw: ThetaForecaster(season_length=4, horizon=HORIZON, **kw),
    "damped": lambda **kw: DampedTrendForecaster(season_length=4, horizon=HORIZON, **kw),
    "otheta": lambda **kw: OptimisedThetaForecaster(season_length=4, horizon=HORIZON, **kw),
    "ets": lambda **kw: ETSForecaster(season_length=4, horizon=HORIZON, **kw),
    # A combination's data parameters are its first forecaster's; the partner shares them.
    "combined": lambda **kw: CombinedForecaster(
        GRUForecaster(horizon=HORIZON, **{**RECURRENT, "max_epochs": 1}, **kw),
        ThetaForecaster(season_length=4, horizon=HORIZON, **kw),
    ),
    # An ensemble's data parameters and attributes are its base's and members'.
    "ensemble": lambda **kw: EnsembleForecaster(
        GRUForecaster(horizon=HORIZON, **{**RECURRENT, "max_epochs": 1}, **kw), n_members=2
    ),
}
COMMON_ATTRIBUTES = (
    "freq_",
    "layout_",
    "target_names_",
    "covariate_names_",
    "feature_names_in_",
    "n_features_in_",
    "series_ids_",
    "cutoffs_",
    "training_start_",
)
LONG = {"id_col": "unique_id", "time_col": "ds"}

pytestmark = pytest.mark.parametrize("name", list(ESTIMATORS))


def _params(estimator) -> dict:
    """``get_params()``, with a nested estimator (an ensemble's base) as its parameters."""
    return {
        k: _params(v) if hasattr(v, "get_params") else v
        for k, v in estimator.get_params(deep=False).items()
    }


@pytest.fixture(scope="module")
def fitted():
    """``fitted(name, layout)``: the estimator fitted on the wide, long or MultiIndex frame."""
    cache: dict = {}
    frames = {
        "wide": make_sine_frame(),
        "long": make_long_frame(),
        "multiindex": make_long_frame().set_index(["unique_id", "ds"]),
    }

    def get(name: str, layout: str):
        if (name, layout) not in cache:
            kwargs = LONG if layout == "long" else {}
            cache[name, layout] = ESTIMATORS[name](**kwargs).fit(frames[layout])
        return cache[name, layout], frames[layout]

    return get


def test_scikit_learn_data_free_checks(name):
    estimator = ESTIMATORS[name]()
    for check in (
        check_no_attributes_set_in_init,
        check_parameters_default_constructible,
        check_get_params_invariance,
        check_set_params,
    ):
        check(type(estimator).__name__, estimator)


def test_clone_keeps_the_parameters_and_nothing_fitted(name, fitted):
    model, _ = fitted(name, "wide")
    copy = clone(model)
    assert _params(copy) == _params(model)
    with pytest.raises(NotFittedError):
        copy.predict()


def test_predict_and_score_before_fit_raise(name):
    frame = make_sine_frame()
    with pytest.raises(NotFittedError, match="not fitted yet"):
        ESTIMATORS[name]().predict()
    with pytest.raises(NotFittedError, match="not fitted yet"):
        ESTIMATORS[name]().predict(frame)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        ESTIMATORS[name]().score(frame)


def test_common_fitted_attributes(name, fitted):
    model, frame = fitted(name, "wide")
    for attribute in COMMON_ATTRIBUTES:
        assert hasattr(model, attribute), attribute
    assert model.target_names_ == ["y", "x"]
    assert list(model.feature_names_in_) == ["y", "x"]
    assert model.n_features_in_ == 2
    assert model.series_ids_ == [None]
    assert list(model.cutoffs_) == [frame.index[-1]]
    assert list(model.training_start_) == [frame.index[0]]
    assert model.freq_ == pd.offsets.Day()


def test_wide_forecast_is_indexed_by_the_future_timestamps(name, fitted):
    model, frame = fitted(name, "wide")
    forecast = model.predict()
    future = pd.date_range(frame.index[-1], periods=HORIZON + 1, freq="D")[1:]
    assert forecast.index.equals(pd.DatetimeIndex(future, name="date"))
    assert list(forecast.columns) == ["y", "x"]
    assert np.isfinite(forecast.to_numpy()).all()
    first = model.predict(horizon=1)
    assert first.index.equals(forecast.index[:1])
    np.testing.assert_allclose(first.to_numpy(), forecast.to_numpy()[:1])


def test_predict_from_the_training_frame_equals_predict(name, fitted):
    for layout in ("wide", "long", "multiindex"):
        model, frame = fitted(name, layout)
        pd.testing.assert_frame_equal(model.predict(frame), model.predict(), rtol=1e-6)


def test_predict_from_a_newer_history_starts_after_it(name, fitted):
    model, _ = fitted(name, "wide")
    newer = make_sine_frame(n=230)
    forecast = model.predict(newer)
    assert forecast.index[0] == newer.index[-1] + pd.Timedelta(days=1)
    assert len(forecast) == HORIZON


def test_long_forecast_continues_each_series(name, fitted):
    for layout in ("long", "multiindex"):
        model, _ = fitted(name, layout)
        frame = make_long_frame()
        forecast = model.predict()
        if layout == "multiindex":  # the output keeps the input's MultiIndex (id, time)
            assert list(forecast.index.names) == ["unique_id", "ds"]
            forecast = forecast.reset_index()
        assert list(forecast.columns) == ["unique_id", "ds", "y"]
        assert model.series_ids_ == ["a", "b", "c"]
        for sid, group in forecast.groupby("unique_id"):
            last = frame.loc[frame["unique_id"] == sid, "ds"].max()
            expected = pd.date_range(last, periods=HORIZON + 1, freq="MS")[1:]
            assert list(group["ds"]) == list(expected)


def test_score_is_minus_the_mase_of_forecasting_the_last_horizon(name, fitted):
    model, frame = fitted(name, "wide")
    history, test = frame.iloc[:-HORIZON], frame.iloc[-HORIZON:]
    forecast = model.predict(history)
    expected = -mase(test, forecast.set_axis(test.index), history, season_length=1)
    assert model.score(frame) == pytest.approx(expected, rel=1e-6)
    assert model.score(frame) <= 0


def test_errors_name_the_culprit(name, fitted):
    model, frame = fitted(name, "wide")
    with pytest.raises(InvalidParameterError, match=r"'horizon' parameter .* <= 3\. Got 4"):
        model.predict(horizon=4)
    with pytest.raises(DataError, match=r"missing \['x'\]"):
        model.predict(frame[["y"]])
    estimator = ESTIMATORS[name]()
    key = next(k for k in estimator.get_params() if k.split("__")[-1] == "horizon")
    estimator.set_params(**{key: 0})  # an ensemble's horizon is its base's
    with pytest.raises(InvalidParameterError, match=r"'horizon' parameter .* >= 1\. Got 0"):
        estimator.fit(frame)
    with pytest.raises(DataError, match="Too few rows to score"):
        model.score(frame.iloc[:4])
