"""Ctrl-C and SIGTERM: during ``fit`` in Python, and sent to the real command line.

In Python, real signals are sent to this process from a callback in the middle of a fit
(Lightning's SIGTERM handler is installed then, so SIGTERM does not end the test run). The
command line is run as a subprocess and signalled when it reaches a known point, seen from
outside: the fit's best checkpoint in its temporary folder (training is under way), the
hidden temporary file of an output being written.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import lightning as L
import numpy as np
import pandas as pd
import pytest
from conftest import FAST

from forecast import NaiveForecaster, RNNForecaster, Terminated

SCRIPT = Path(sys.executable).parent / "forecast"


class _SignalAt(L.Callback):
    """Sends ``signum`` to this process after the ``at``-th training batch."""

    def __init__(self, signum: int, at: int = 2) -> None:
        self.signum, self.at, self.seen = signum, at, 0

    def on_train_batch_end(self, *args: object) -> None:
        self.seen += 1
        if self.seen == self.at:
            os.kill(os.getpid(), self.signum)


def _model(signum: int) -> RNNForecaster:
    return RNNForecaster(
        seq_len=6, horizon=2, **{**FAST, "max_epochs": 50, "batch_size": 8},
        trainer_kwargs={"callbacks": [_SignalAt(signum)]},
    )  # fmt: skip


def _fitted_attributes(model: object) -> list[str]:
    return [k for k in vars(model) if k.endswith("_") and not k.startswith("_")]


def test_ctrl_c_during_fit_raises_keyboard_interrupt_and_leaves_no_fitted_state(sine_frame):
    handler = signal.getsignal(signal.SIGINT)
    model = _model(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):  # not Lightning's SystemExit(1)
        model.fit(sine_frame)
    assert _fitted_attributes(model) == []  # no seed_ alone
    # Lightning ignores SIGINT after an interrupt; the caller's handler is back.
    assert signal.getsignal(signal.SIGINT) is handler


def test_sigterm_during_fit_raises_terminated_with_exit_status_143(sine_frame):
    model = _model(signal.SIGTERM)
    with pytest.raises(Terminated) as info:  # not SIGTERMException, whose exit status is 0
        model.fit(sine_frame)
    assert isinstance(info.value, SystemExit)
    assert info.value.code == 143
    assert _fitted_attributes(model) == []
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # Lightning's removed


def test_an_interrupted_refit_leaves_the_forecaster_unfitted(sine_frame):
    """A documented choice: not the previous model, which predict would use without a word."""
    model = RNNForecaster(seq_len=6, horizon=2, **FAST).fit(sine_frame)
    model.set_params(trainer_kwargs={"callbacks": [_SignalAt(signal.SIGINT)]}, max_epochs=50)
    with pytest.raises(KeyboardInterrupt):
        model.fit(sine_frame)
    assert _fitted_attributes(model) == []


# ------------------------------------------------------------------ the command line


def _start(args: list[str], cwd: Path, tmpdir: Path) -> subprocess.Popen:
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "forecast"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TMPDIR": str(tmpdir)}
    return subprocess.Popen(
        [*command, *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        # A shell runs background jobs with SIGINT ignored, and a Python started so never
        # raises KeyboardInterrupt: give the child the default, as a terminal would.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _wait_for(proc: subprocess.Popen, found: object, what: str, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not found():  # type: ignore[operator]
        if proc.poll() is not None:
            pytest.fail(f"the command ended ({proc.returncode}) before {what}: {proc.stderr}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"no {what} after {timeout} s")
        time.sleep(0.005)


SIGNALS = [
    pytest.param(signal.SIGINT, 130, "forecast: interrupted", id="SIGINT"),
    pytest.param(signal.SIGTERM, 143, "forecast: terminated (SIGTERM)", id="SIGTERM"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "code", "message"), SIGNALS)
def test_a_signal_during_training_exits_with_its_code_and_keeps_the_previous_model(
    tmp_path, sine_frame, signum, code, message
):
    sine_frame.to_csv(tmp_path / "data.csv")
    previous = b"the model of yesterday's run"
    (tmp_path / "model.safetensors").write_bytes(previous)
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    proc = _start(
        [
            "fit", "--data", "data.csv", "--time-col", "date", "--target", "y",
            "--seq-len", "6", "--horizon", "2", "--hidden-size", "4", "--batch-size", "8",
            "--max-epochs", "100000", "--early-stopping-patience", "none",
            "--out", "model.safetensors",
        ],
        tmp_path,
        tmpdir,
    )  # fmt: skip
    # The best epoch's checkpoint exists once an epoch was trained and validated.
    _wait_for(proc, lambda: any(tmpdir.glob("forecast-*/**/best.ckpt")), "a trained epoch")
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == code, stderr
    assert stderr.strip().splitlines()[-1] == message
    assert "Traceback" not in stderr
    assert (tmp_path / "model.safetensors").read_bytes() == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv", "model.safetensors", "tmp"]
    assert list(tmpdir.iterdir()) == []  # Lightning's working folder removed


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "code", "message"), SIGNALS)
def test_a_signal_while_predictions_are_written_leaves_the_previous_output(
    tmp_path, signum, code, message
):
    # 2,000 series x 1,000 steps: two million rows, seconds of writing to signal into.
    n_series, length = 2_000, 3
    frame = pd.DataFrame(
        {
            "id": np.repeat([f"s{i}" for i in range(n_series)], length),
            "ds": np.tile(pd.date_range("2024-01-01", periods=length, freq="D"), n_series),
            "y": np.arange(n_series * length, dtype=float),
        }
    )
    NaiveForecaster(horizon=1_000, id_col="id", time_col="ds").fit(frame).save(
        tmp_path / "model.safetensors"
    )
    previous = "id,ds,y\nyesterday,2024-01-01,1.0\n"
    (tmp_path / "out.csv").write_text(previous)
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    proc = _start(["predict", "--model", "model.safetensors", "--out", "out.csv"], tmp_path, tmpdir)
    _wait_for(proc, lambda: any(tmp_path.glob(".out.csv.*.tmp")), "the output's temporary file")
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == code, stderr
    assert stderr.strip().splitlines()[-1] == message
    assert (tmp_path / "out.csv").read_text() == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors", "out.csv", "tmp"]


def test_a_fit_removes_the_working_folders_of_killed_fits(tmp_path, monkeypatch, sine_frame):
    from forecast.neural.training import _hold_lock

    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    killed = tmp_path / "forecast-fit-killed"  # a fit SIGKILLed: nothing holds its lock
    (killed / "checkpoints").mkdir(parents=True)
    (killed / "checkpoints" / "best.ckpt").write_bytes(b"weights")
    (killed / "owner.lock").touch()
    running = tmp_path / "forecast-fit-running"  # another process's fit, under way
    running.mkdir()
    fd = _hold_lock(running)
    assert fd is not None
    other = tmp_path / "forecast-notes"  # not a fit's folder
    other.mkdir()
    try:
        RNNForecaster(seq_len=6, horizon=2, **FAST).fit(sine_frame)
        assert sorted(p.name for p in tmp_path.iterdir()) == [
            "forecast-fit-running",
            "forecast-notes",
        ]
    finally:
        os.close(fd)
