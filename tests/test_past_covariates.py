"""past_covariates=: the columns a recurrent model reads, chosen, checked, named, saved."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from conftest import FAST, make_long_frame

from forecast import (
    DataError,
    DataTypeError,
    InvalidParameterError,
    LSTMForecaster,
    NaiveForecaster,
    load,
)
from forecast.data import past_covariates

LONG = {"id_col": "unique_id", "time_col": "ds", "target": "y"}


def _frame() -> pd.DataFrame:
    df = make_long_frame()
    rng = np.random.default_rng(1)
    return df.assign(price=rng.uniform(1, 2, len(df)), promo=rng.integers(0, 2, len(df)))


def _model(**params) -> LSTMForecaster:
    return LSTMForecaster(seq_len=6, horizon=2, validation_size=0, **LONG, **FAST, **params)


@pytest.fixture(autouse=True)
def _fresh_notices(monkeypatch):
    monkeypatch.setattr(past_covariates, "_noticed", set())


def test_default_names_the_columns_it_uses_once(caplog):
    caplog.set_level(logging.WARNING, logger="forecast")
    model = _model().fit(_frame())
    assert model.covariate_names_ == ["price", "promo"]
    notices = [r.getMessage() for r in caplog.records if "past covariates" in r.getMessage()]
    assert len(notices) == 1
    assert "['price', 'promo']" in notices[0]
    assert "past_covariates=[...]" in notices[0]
    _model().fit(_frame())  # the same columns again: not repeated
    assert len([r for r in caplog.records if "past covariates" in r.getMessage()]) == 1


def test_listed_columns_and_none_are_not_noticed(caplog):
    caplog.set_level(logging.WARNING, logger="forecast")
    _model(past_covariates=["promo"]).fit(_frame())
    _model(past_covariates=[]).fit(_frame())
    NaiveForecaster(horizon=2, **LONG).fit(_frame())  # reads none: says nothing
    assert not [r for r in caplog.records if "past covariates" in r.getMessage()]


def test_listed_columns_are_the_inputs_also_at_predict():
    df = _frame()
    model = _model(past_covariates="promo").fit(df)
    assert model.covariate_names_ == ["promo"]
    assert list(model.feature_names_in_) == ["y", "promo"]
    # the frame it was fitted on (with the unused 'price') forecasts as the fitted end does
    pd.testing.assert_frame_equal(model.predict(df), model.predict())
    # 'price' is not read: changing it changes nothing
    pd.testing.assert_frame_equal(model.predict(df.assign(price=0.0)), model.predict())


def test_the_reported_trap_a_leftover_index_is_refused():
    df = _frame().reset_index()  # the leftover row number 'index'
    with pytest.raises(DataError, match=r"Column 'index' looks like a leftover row number"):
        _model().fit(df)
    model = _model(past_covariates=["index", "price"]).fit(df)  # asked for by name: used
    assert model.covariate_names_ == ["index", "price"]


def test_a_float_column_named_index_is_an_ordinary_covariate(caplog):
    caplog.set_level(logging.WARNING, logger="forecast")
    df = make_long_frame().assign(index=lambda d: np.linspace(90.0, 110.0, len(d)))
    assert _model().fit(df).covariate_names_ == ["index"]
    assert any("['index']" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("listed", "error", "match"),
    [
        (["volume"], DataError, r"past_covariates \['volume'\] are not columns"),
        (["y"], InvalidParameterError, r"lists \['y'\], which target names too"),
        (["ds"], InvalidParameterError, r"lists \['ds'\], which time_col names too"),
        (["unique_id"], InvalidParameterError, r"which id_col names too"),
        (["price", "price"], InvalidParameterError, r"twice"),
    ],
)
def test_listed_columns_are_checked(listed, error, match, no_training):
    with pytest.raises(error, match=match):
        _model(past_covariates=listed).fit(_frame())


def test_a_future_covariate_cannot_also_be_past(no_training):
    with pytest.raises(InvalidParameterError, match="future_covariates names too"):
        _model(past_covariates=["promo"], future_covariates=["promo"]).fit(_frame())


def test_a_listed_column_must_be_numeric(no_training):
    df = _frame().assign(region="north")
    with pytest.raises(DataTypeError, match="Past covariate column 'region' must be numeric"):
        _model(past_covariates=["region"]).fit(df)


def test_saved_and_loaded_with_the_model(tmp_path):
    df = _frame()
    model = _model(past_covariates=["price"]).fit(df)
    model.save(tmp_path / "m.safetensors")
    loaded = load(tmp_path / "m.safetensors")
    assert loaded.get_params()["past_covariates"] == ["price"]
    assert loaded.covariate_names_ == ["price"]
    pd.testing.assert_frame_equal(loaded.predict(df), model.predict(df))
