"""Warm starts: ``warm_start=True`` in Python and ``forecast fit --init-from`` end to end."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

from forecast import InvalidParameterError, RNNForecaster, load

SCRIPT = Path(sys.executable).parent / "forecast"
SMALL = {
    "id_col": "id", "time_col": "ds", "target": "y", "seq_len": 5, "horizon": 2, "hidden_size": 4,
    "max_epochs": 1, "batch_size": 16, "validation_size": 0, "progress_bar": False,
    "random_state": 0,
}  # fmt: skip


def _frame(ids=("a", "b", "c"), n=40, level=0.0) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "id": sid,
                    "ds": pd.date_range("2024-01-01", periods=n),
                    "y": level + 10 * i + rng.normal(size=n).cumsum(),
                }
            )
            for i, sid in enumerate(ids)
        ],
        ignore_index=True,
    )


def _weights(model: RNNForecaster) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.network_.state_dict().items()}


def _max_change(a: dict, b: dict) -> float:
    return max(float((a[k] - b[k]).abs().max()) for k in a)


@pytest.fixture(scope="module")
def fitted() -> RNNForecaster:
    return RNNForecaster(**SMALL, warm_start=True).fit(_frame())


def _fresh(**params) -> dict[str, torch.Tensor]:
    """The weights a cold fit with SMALL's seed starts from (a learning rate so small that
    its training steps move no weight visibly)."""
    return _weights(RNNForecaster(**{**SMALL, "learning_rate": 1e-12, **params}).fit(_frame()))


def test_a_warm_fit_with_shrink_1_starts_from_the_fitted_weights(fitted):
    before = _weights(fitted)
    model = copy.deepcopy(fitted)
    # A learning rate so small that the training steps move no weight visibly: what the
    # fit ends with is what it started from.
    model.set_params(learning_rate=1e-12, warm_start_shrink=1.0).fit(_frame())
    assert _max_change(_weights(model), before) < 1e-6
    assert _max_change(_fresh(random_state=1), before) > 1e-2  # a cold start is elsewhere
    assert clone(fitted).get_params()["warm_start"] is True


@pytest.mark.parametrize("shrink", [0.45, 0.75])
def test_a_warm_fit_starts_from_the_shrunk_weights_plus_a_fresh_start(fitted, shrink):
    before = _weights(fitted)
    model = copy.deepcopy(fitted).set_params(learning_rate=1e-12, warm_start_shrink=shrink)
    model.fit(_frame())
    fresh = _fresh()
    expected = {k: shrink * before[k] + (1 - shrink) * fresh[k] for k in before}
    assert _max_change(_weights(model), expected) < 1e-6
    assert _max_change(_weights(model), before) > 1e-3  # not the fitted weights


def test_the_first_fit_of_a_warm_start_forecaster_is_cold():
    warm = RNNForecaster(**SMALL, warm_start=True).fit(_frame())
    cold = RNNForecaster(**SMALL).fit(_frame())
    assert _max_change(_weights(warm), _weights(cold)) == 0.0


def test_scalers_are_kept_for_seen_series_and_fitted_for_new_ones(fitted):
    model = copy.deepcopy(fitted)
    old_loc = model.scaler_.loc_.copy()
    shifted = _frame(ids=("a", "b", "c", "d"), level=100.0)  # every level moved by 100
    model.fit(shifted)
    np.testing.assert_array_equal(model.scaler_.loc_[:3], old_loc)  # a, b, c: as fitted
    cold = RNNForecaster(**SMALL).fit(shifted)
    np.testing.assert_array_equal(model.scaler_.loc_[3], cold.scaler_.loc_[3])  # d: its own
    assert model.series_ids_ == ["a", "b", "c", "d"]


def _positive(ids=("a", "b", "c"), n=40) -> pd.DataFrame:
    """Growing positive series with a weekly season: Box-Cox lambdas and seasonal indices
    fitted on 40 days differ from those fitted on 60."""
    df = _frame(ids, n=n, level=50.0)
    t = (df["ds"] - df["ds"].min()).dt.days.to_numpy()
    week = np.array([0.7, 1.0, 1.1, 1.2, 1.0, 0.9, 1.1])
    df["y"] = df["y"] * np.exp(0.02 * t) * week[df["ds"].dt.day_of_week.to_numpy()]
    return df


@pytest.mark.parametrize(
    "transform", [{"target_transform": "boxcox"}, {"target_transform": "deseasonalize"}]
)
def test_a_warm_start_keeps_the_transform_state_of_the_series_it_has_seen(transform):
    params = {**SMALL, **transform, "season_length": 7}
    model = RNNForecaster(**params).fit(_positive())
    old = model.target_lambdas_.copy()
    new = _positive(ids=("a", "b", "c", "d"), n=60)
    seen = new[new["id"] != "d"]
    before = model.predict(seen)
    # Weights held fixed (continued exactly, a step of a learning rate that moves nothing):
    # the forecasts of the seen series must not move.
    model.set_params(warm_start=True, warm_start_shrink=1.0, learning_rate=1e-30)
    model.set_params(trainer_kwargs={"max_steps": 1}).fit(new)
    np.testing.assert_array_equal(model.target_lambdas_[:3], old)  # a, b, c: as fitted
    np.testing.assert_allclose(model.predict(seen)["y"], before["y"], rtol=1e-6)
    # d is new to the model: its own state, as a cold fit gives it; refitted, the state of
    # a, b, c would have been another (so the check above means something).
    cold = RNNForecaster(**params).fit(new)
    np.testing.assert_allclose(model.target_lambdas_[3], cold.target_lambdas_[3], rtol=1e-12)
    assert np.abs(cold.target_lambdas_[:3] - old).max() > 1e-2


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"seq_len": 6}, "seq_len: 5 -> 6"),
        ({"hidden_size": 8}, "hidden_size: 4 -> 8"),
        ({"horizon": 3}, "horizon: 2 -> 3"),
        ({"scaler": "window"}, "scaler: 'standard' -> 'window'"),
        ({"cell": "gru"}, "cell: 'rnn' -> 'gru'"),
        # The scalers' statistics are in the transform's units (a log case: below).
        (
            {"target_transform": "deseasonalize", "season_length": 7},
            "target_transform: None -> 'deseasonalize' \\(season_length=7\\)",
        ),
    ],
)
def test_a_fit_that_differs_is_refused_naming_the_difference(fitted, no_training, change, named):
    model = copy.deepcopy(fitted)
    with pytest.raises(InvalidParameterError, match=rf"does not match .*{named}"):
        model.set_params(**change).fit(_frame())


def test_the_same_season_length_as_a_numpy_int_is_no_difference():
    params = {**SMALL, "target_transform": "deseasonalize", "season_length": 7}
    model = RNNForecaster(**params).fit(_frame())
    model.set_params(warm_start=True, season_length=np.int64(7)).fit(_frame())  # not refused
    assert model.fitted_transform_ == "'deseasonalize' (season_length=7)"


def test_a_loaded_models_transform_is_checked_too(tmp_path):
    # Log values scaled by raw means forecast 11,702 where a cold fit says 10.
    RNNForecaster(**SMALL, target_transform="log").fit(_frame(level=50.0)).save(tmp_path / "m")
    loaded = load(tmp_path / "m").set_params(warm_start=True)
    with pytest.raises(InvalidParameterError, match="target_transform: 'log' -> None"):
        loaded.set_params(target_transform=None).fit(_frame(level=50.0))


def test_other_covariates_are_refused(fitted, no_training):
    model = copy.deepcopy(fitted)
    with pytest.raises(InvalidParameterError, match=r"past covariates: \[\] -> \['x'\]"):
        model.fit(_frame().assign(x=1.0))


def test_a_loaded_model_warm_starts_with_its_saved_shrink(fitted, tmp_path):
    copy.deepcopy(fitted).set_params(warm_start_shrink=0.75).save(tmp_path / "m.safetensors")
    model = load(tmp_path / "m.safetensors")
    assert model.warm_start_shrink == 0.75
    before = _weights(model)
    model.set_params(learning_rate=1e-12).fit(_frame())
    expected = {k: 0.75 * before[k] + 0.25 * v for k, v in _fresh().items()}
    assert _max_change(_weights(model), expected) < 1e-6


def test_a_file_saved_before_the_shrink_continues_its_weights_exactly():
    # Written before warm_start_shrink existed, when a warm start continued exactly.
    model = load(
        Path(__file__).parent / "data" / "format1" / "lstm_long_covariates_conformal.safetensors"
    )
    assert model.warm_start_shrink == 1.0
    assert RNNForecaster().warm_start_shrink == 0.45  # the default of a model made today


def test_warm_start_must_be_a_bool():
    with pytest.raises(InvalidParameterError, match="'warm_start' parameter"):
        RNNForecaster(**SMALL, warm_start="yes").fit(_frame())


@pytest.mark.parametrize("shrink", [0.0, 1.5, -0.4, None])
def test_warm_start_shrink_must_be_in_0_1(shrink):
    with pytest.raises(InvalidParameterError, match=r"'warm_start_shrink' parameter .* > 0.0"):
        RNNForecaster(**SMALL, warm_start_shrink=shrink).fit(_frame())


# ------------------------------------------------------------------------------ command line


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "forecast"]
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300
    )


def test_cli_init_from_continues_the_saved_model_and_refuses_another_network(tmp_path):
    old = RNNForecaster(**SMALL).fit(_frame())
    old.save(tmp_path / "old.safetensors")
    _frame(n=50).to_csv(tmp_path / "new.csv", index=False)
    run = _cli(
        "fit", "--init-from", "old.safetensors", "--data", "new.csv",
        "--learning-rate", "1e-12", "--out", "new.safetensors", cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    new = load(tmp_path / "new.safetensors")
    assert new.get_params()["warm_start"] is True
    assert new.seq_len == 5  # the saved model's parameters, where no flag is given
    # The saved warm_start_shrink (the default, 0.45): shrink and perturb.
    fresh = _fresh()
    expected = {k: 0.45 * v + 0.55 * fresh[k] for k, v in _weights(old).items()}
    assert _max_change(_weights(new), expected) < 1e-6
    assert new.cutoffs_[0] == pd.Timestamp("2024-02-19")  # fitted on the new data

    exact = _cli(
        "fit", "--init-from", "old.safetensors", "--data", "new.csv", "--learning-rate",
        "1e-12", "--warm-start-shrink", "1", "--out", "exact.safetensors", cwd=tmp_path,
    )  # fmt: skip
    assert exact.returncode == 0, exact.stderr
    assert _max_change(_weights(load(tmp_path / "exact.safetensors")), _weights(old)) < 1e-6

    bad = _cli(
        "fit", "--init-from", "old.safetensors", "--data", "new.csv", "--hidden-size", "8",
        "--out", "bad.safetensors", cwd=tmp_path,
    )  # fmt: skip
    assert bad.returncode == 2
    assert "hidden_size: 4 -> 8" in bad.stderr
    assert not (tmp_path / "bad.safetensors").exists()
