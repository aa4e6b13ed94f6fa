"""A fit from Parquet parts with ``target_transform`` and ``warm_start``, and the refusals.

Each 2-rank fit (``ddp_spawn`` on two CPU processes) is compared with a single-process
``fit`` of the same frame, same seed and step budget, as in ``tests/test_partitioned.py``:
the two differ only in the order floats are summed (1e-7 seen), so 1e-5 on the forecasts
holds, far below what a wrong lambda, scaler or starting weight gives (1e-2 and up).
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from test_partitioned import GROUPS, PARAMS, TWO_RANKS, _panel, _write

import forecast
from forecast import DataError, InvalidParameterError, LSTMForecaster, RNNForecaster


@pytest.mark.slow
def test_a_box_cox_transform_is_fitted_per_series_in_its_rank_as_in_one_process(tmp_path):
    df = _panel()
    _write(df, tmp_path / "parts", GROUPS)
    params = {**PARAMS, "target_transform": "boxcox", "static_covariates": "size"}
    single = LSTMForecaster(**params).fit(df)
    model = LSTMForecaster(**params, trainer_kwargs=TWO_RANKS).fit(
        forecast.parts(tmp_path / "parts")
    )

    # Each series' lambda, fitted in the rank that read it, in the canonical order.
    assert model.target_lambdas_.shape == (6, 1)
    np.testing.assert_allclose(model.target_lambdas_, single.target_lambdas_, rtol=1e-12)
    assert np.ptp(single.target_lambdas_) > 0.1  # different per series: the order matters
    np.testing.assert_allclose(model.last_window_, single.last_window_, rtol=1e-6)
    expected, got = single.predict(), model.predict()
    np.testing.assert_allclose(got["y"], expected["y"], rtol=0, atol=1e-5)
    assert np.abs(expected["y"]).min() > 5  # in original units (the level is 10 and up)
    # Saved and loaded: its lambdas travel with it.
    path = tmp_path / "m.safetensors"
    model.save(path)
    pd.testing.assert_frame_equal(forecast.load(path).predict(), got)


@pytest.mark.slow
def test_a_log_transform_of_a_non_positive_value_in_one_rank_is_refused_naming_it(tmp_path):
    df = _panel()
    df.loc[(df["unique_id"] == "s4") & (df["ds"] == "2020-01-07"), "y"] = -1.0
    _write(df, tmp_path / "parts", GROUPS)
    model = RNNForecaster(**PARAMS, target_transform="log", trainer_kwargs=TWO_RANKS)
    with pytest.raises(DataError, match=r"s4"):
        model.fit(forecast.parts(tmp_path / "parts"))
    assert not [name for name in vars(model) if name.endswith("_")]  # left unfitted


@pytest.mark.slow
def test_a_warm_start_from_parts_continues_as_a_warm_start_in_one_process(tmp_path):
    df = _panel()
    _write(df, tmp_path / "parts", GROUPS)
    # The old model has seen s0..s3 only: s4 and s5 get statistics fitted on their own.
    old = RNNForecaster(**PARAMS).fit(df[df["unique_id"].isin(["s0", "s1", "s2", "s3"])])
    params = {**PARAMS, "warm_start": True, "random_state": 1}
    single = copy.deepcopy(old).set_params(**params).fit(df)
    model = copy.deepcopy(old).set_params(**params, trainer_kwargs=TWO_RANKS)
    model.fit(forecast.parts(tmp_path / "parts"))

    assert model.series_ids_ == single.series_ids_
    np.testing.assert_array_equal(model.scaler_.loc_[:4], old.scaler_.loc_)  # kept
    np.testing.assert_allclose(model.scaler_.loc_, single.scaler_.loc_, rtol=1e-6)
    np.testing.assert_allclose(model.predict()["y"], single.predict()["y"], rtol=0, atol=1e-5)
    # A cold 2-rank fit is another model: the warm one did start from the old weights.
    cold = RNNForecaster(**{**PARAMS, "random_state": 1}, trainer_kwargs=TWO_RANKS)
    cold.fit(forecast.parts(tmp_path / "parts"))
    assert np.abs(cold.predict()["y"] - model.predict()["y"]).max() > 1e-2


def test_a_warm_start_that_does_not_match_the_parts_is_refused_before_training(tmp_path):
    df = _panel()
    _write(df, tmp_path / "parts", GROUPS)
    old = RNNForecaster(**{**PARAMS, "max_epochs": 1}).fit(df)
    model = old.set_params(warm_start=True, hidden_size=5)
    with pytest.raises(InvalidParameterError, match=r"hidden_size: 6 -> 5"):
        model.fit(forecast.parts(tmp_path / "parts"))
    assert not [name for name in vars(model) if name.endswith("_")]  # left unfitted


def test_options_a_partitioned_fit_cannot_honour_are_refused_naming_why(tmp_path):
    missing = forecast.parts(tmp_path / "nothing-here")
    with pytest.raises(InvalidParameterError, match=r"'intervals' .* must be None .*scores"):
        RNNForecaster(intervals="conformal").fit(missing)
    with pytest.raises(InvalidParameterError, match=r"'missing' .* 'raise' .*observed channels"):
        RNNForecaster(missing="mask").fit(missing)
    with pytest.raises(InvalidParameterError, match=r"'target_transform' .* one of"):
        RNNForecaster(target_transform="sqrt").fit(missing)
