"""Every user mistake is a ``ForecastError`` naming the parameter and the fix, raised before
training (exit 2 on the command line); exit 1 is for our own bugs only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import FAST

from forecast import (
    DataError,
    DataTypeError,
    EnsembleForecaster,
    InvalidParameterError,
    RNNForecaster,
)
from forecast.cli.main import main


def _model(**params) -> RNNForecaster:
    return RNNForecaster(**{"seq_len": 6, "horizon": 2, **FAST, **params})


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        ("random_state", -1, r"'random_state' .* an int in \[0, 4294967295\].*Got -1"),
        ("random_state", "abc", r"'random_state' .*Got 'abc'"),
        ("random_state", True, r"'random_state' .*Got True"),
        ("random_state", 2**32, r"'random_state' .*Got 4294967296"),
        ("learning_rate", float("inf"), r"'learning_rate' .* a finite float > 0.0. Got inf"),
        ("weight_decay", float("inf"), r"'weight_decay' .* a finite float >= 0.0. Got inf"),
        ("gradient_clip_val", float("inf"), r"'gradient_clip_val' .* finite .*Got inf"),
        ("hidden_size", 1e9, r"'hidden_size' .* an int >= 1. Got 1000000000.0"),
        (
            "trainer_kwargs",
            {"max_epochs": "x"},
            r"'trainer_kwargs' .*: max_epochs='x' is not an int or None",
        ),
        ("trainer_kwargs", {"max_epochs_": 3}, r"'trainer_kwargs' .*unexpected keyword"),
    ],
)
def test_bad_parameters_are_refused_before_training(no_training, sine_frame, param, value, message):
    with pytest.raises(InvalidParameterError, match=message):
        _model(**{param: value}).fit(sine_frame)


def test_a_gpu_asked_for_where_none_is_visible_is_a_parameter_error(
    no_training, sine_frame, monkeypatch
):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(InvalidParameterError, match=r"accelerator='gpu', but no GPU is visible"):
        _model(trainer_kwargs={"accelerator": "gpu"}).fit(sine_frame)


def test_a_network_too_big_to_allocate_names_the_parameter(no_training, sine_frame):
    with pytest.raises(InvalidParameterError, match=r"hidden_size=1000000000 .*cannot be alloc"):
        _model(hidden_size=10**9).fit(sine_frame)


def test_an_ensemble_seeds_its_members_within_range(no_training, sine_frame):
    ensemble = EnsembleForecaster(_model(random_state=2**32 - 2), n_members=3)
    with pytest.raises(InvalidParameterError, match=r"at most 4294967293 with n_members=3"):
        ensemble.fit(sine_frame)


@pytest.fixture(scope="module")
def fitted() -> RNNForecaster:
    index = pd.date_range("2020-01-01", periods=60, freq="D", name="date")
    return _model().fit(pd.DataFrame({"y": np.sin(np.arange(60) / 5)}, index=index))


def test_future_covariates_must_be_a_frame(fitted):
    with pytest.raises(
        DataTypeError, match=r"future_covariates must be a DataFrame \(pandas, polars or pyarrow\)"
    ):
        fitted.predict(future_covariates=np.zeros((2, 1)))


def test_future_covariates_for_a_model_without_any_are_refused(fitted):
    future = pd.DataFrame({"x": [1.0, 2.0]}, index=pd.date_range("2020-03-01", periods=2))
    with pytest.raises(DataError, match=r"fitted without known-future covariates.*refit with"):
        fitted.predict(future_covariates=future)


def test_a_horizon_set_after_fit_is_named(fitted):
    model = RNNForecaster(**fitted.get_params())
    model.__dict__.update({k: v for k, v in vars(fitted).items() if k.endswith("_")})
    with pytest.raises(InvalidParameterError, match=r"must be an int >= 1. Got -1 instead"):
        model.set_params(horizon=-1).predict()
    with pytest.raises(InvalidParameterError, match=r"set to 5 after fit; this model forecasts 2"):
        model.set_params(horizon=5).predict()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--random-state", "-1"], "'random_state' parameter"),
        (["--trainer-kwargs", '{"max_epochs": "x"}'], "max_epochs='x' is not an int or None"),
        (["--trainer-kwargs", '{"accelerator": "gpu"}'], "no GPU is visible"),
    ],
)
def test_the_command_line_exits_2_for_these_mistakes(
    no_training, tmp_path, sine_frame, monkeypatch, capsys, flags, message
):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    sine_frame.to_csv(tmp_path / "data.csv")
    code = main(
        [
            "fit", "--data", str(tmp_path / "data.csv"), "--time-col", "date",
            "--seq-len", "6", "--horizon", "2", "--hidden-size", "4",
            "--out", str(tmp_path / "m.safetensors"), *flags,
        ]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2, err
    assert "InvalidParameterError" in err
    assert message in err
    assert not (tmp_path / "m.safetensors").exists()
