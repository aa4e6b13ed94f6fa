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


def test_a_warm_fit_starts_from_the_fitted_weights(fitted):
    before = _weights(fitted)
    model = copy.deepcopy(fitted)
    # A learning rate so small that the training steps move no weight visibly: what the
    # fit ends with is what it started from.
    model.set_params(learning_rate=1e-12).fit(_frame())
    assert _max_change(_weights(model), before) < 1e-6
    cold = RNNForecaster(**{**SMALL, "learning_rate": 1e-12, "random_state": 1}).fit(_frame())
    assert _max_change(_weights(cold), before) > 1e-2  # a cold start is elsewhere
    assert clone(fitted).get_params()["warm_start"] is True


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


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"seq_len": 6}, "seq_len: 5 -> 6"),
        ({"hidden_size": 8}, "hidden_size: 4 -> 8"),
        ({"horizon": 3}, "horizon: 2 -> 3"),
        ({"scaler": "window"}, "scaler: 'standard' -> 'window'"),
        ({"cell": "gru"}, "cell: 'rnn' -> 'gru'"),
    ],
)
def test_a_fit_that_differs_is_refused_naming_the_difference(fitted, no_training, change, named):
    model = copy.deepcopy(fitted)
    with pytest.raises(InvalidParameterError, match=rf"does not match .*{named}"):
        model.set_params(**change).fit(_frame())


def test_other_covariates_are_refused(fitted, no_training):
    model = copy.deepcopy(fitted)
    with pytest.raises(InvalidParameterError, match=r"past covariates: \[\] -> \['x'\]"):
        model.fit(_frame().assign(x=1.0))


def test_a_loaded_model_warm_starts(fitted, tmp_path):
    fitted.save(tmp_path / "m.safetensors")
    model = load(tmp_path / "m.safetensors")
    before = _weights(model)
    model.set_params(learning_rate=1e-12).fit(_frame())
    assert _max_change(_weights(model), before) < 1e-6


def test_warm_start_must_be_a_bool():
    with pytest.raises(InvalidParameterError, match="'warm_start' parameter"):
        RNNForecaster(**SMALL, warm_start="yes").fit(_frame())


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
    assert _max_change(_weights(new), _weights(old)) < 1e-6
    assert new.cutoffs_[0] == pd.Timestamp("2024-02-19")  # fitted on the new data

    bad = _cli(
        "fit", "--init-from", "old.safetensors", "--data", "new.csv", "--hidden-size", "8",
        "--out", "bad.safetensors", cwd=tmp_path,
    )  # fmt: skip
    assert bad.returncode == 2
    assert "hidden_size: 4 -> 8" in bad.stderr
    assert not (tmp_path / "bad.safetensors").exists()
