"""Shared fixtures: tiny frames and fast trainer settings, so the suite stays quick on 2 CPUs."""

from __future__ import annotations

import lightning as L
import numpy as np
import pandas as pd
import pytest
import torch

# Small, fast settings every estimator test can start from.
FAST = {
    "hidden_size": 8,
    "max_epochs": 2,
    "batch_size": 32,
    "progress_bar": False,
    "random_state": 0,
}


# For tests that fit a RecurrentModule without validation data under their own Trainer.
no_val_loop = pytest.mark.filterwarnings(
    "ignore:You defined a `validation_step` but have no `val_dataloader`"
)


def quiet_trainer(tmp_path, **kwargs) -> L.Trainer:
    """A CPU ``lightning.Trainer`` with no logger, checkpoints, progress bar or summary."""
    return L.Trainer(
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
        accelerator="cpu",
        **kwargs,
    )


def run_main(capsys, *args) -> tuple[int, str, str]:
    """``forecast ARGS`` in this process: its exit code, stdout and stderr."""
    from forecast.cli.main import main

    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def no_training(monkeypatch):
    """Training is an error: what a test refuses must be refused before it."""
    from forecast.neural import training

    def refuse(*args, **kwargs):
        raise AssertionError("trained")

    monkeypatch.setattr(training.L.Trainer, "fit", refuse)


@pytest.fixture(autouse=True, scope="session")
def _two_threads() -> None:
    torch.set_num_threads(2)


def make_sine_frame(n: int = 200) -> pd.DataFrame:
    """A daily sine with a past covariate, ``n`` steps from 2020-01-01."""
    t = np.arange(n)
    index = pd.date_range("2020-01-01", periods=n, freq="D", name="date")
    return pd.DataFrame(
        {"y": np.sin(2 * np.pi * t / 20), "x": np.cos(2 * np.pi * t / 20)}, index=index
    )


def make_long_frame() -> pd.DataFrame:
    """Three monthly series of different lengths, start and end dates, in long format."""
    rng = np.random.default_rng(0)
    parts = []
    for sid, (start, n) in {
        "a": ("2000-01-01", 60),
        "b": ("2001-06-01", 48),
        "c": ("1999-03-01", 72),
    }.items():
        t = np.arange(n)
        parts.append(
            pd.DataFrame(
                {
                    "unique_id": sid,
                    "ds": pd.date_range(start, periods=n, freq="MS"),
                    "y": 10 + np.sin(2 * np.pi * t / 12) + 0.1 * rng.standard_normal(n),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def make_smoothing_panel(seed: int = 0, n_series: int = 6) -> pd.DataFrame:
    """Monthly series of different lengths and starts (long, ``unique_id, ds, y``): seasonal
    with a trend, random walks, the last one flat; for the exponential-smoothing baselines."""
    rng = np.random.default_rng(seed)
    frames = []
    for k in range(n_series):
        n = int(rng.integers(30, 80))
        t = np.arange(n)
        if k == n_series - 1:
            y = np.full(n, 7.0)
        elif k % 2:
            y = 100 + np.cumsum(rng.normal(size=n))
        else:
            y = (50 + 0.5 * t) * (1 + 0.3 * np.sin(2 * np.pi * t / 12)) + rng.normal(size=n)
        times = pd.date_range("2020-01-01", periods=n, freq="MS") + pd.DateOffset(months=k)
        frames.append(pd.DataFrame({"unique_id": f"s{k}", "ds": times, "y": y}))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture
def sine_frame() -> pd.DataFrame:
    """A daily sine with a past covariate, 200 steps."""
    return make_sine_frame()


@pytest.fixture
def long_frame() -> pd.DataFrame:
    """Three monthly series of different lengths and start dates, in long format."""
    return make_long_frame()
