"""Checkpoints each epoch and resumed fits: in Python (an interrupted fit) and through
``forecast fit --checkpoint-dir`` killed with SIGKILL and run again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import lightning as L
import pytest
import torch
from conftest import make_long_frame

from forecast import RNNForecaster, load
from forecast.neural.checkpoints import checkpointing

SCRIPT = Path(sys.executable).parent / "forecast"
PARAMS = {
    "id_col": "unique_id", "time_col": "ds", "seq_len": 6, "horizon": 2, "hidden_size": 4,
    "num_layers": 2, "dropout": 0.1, "max_epochs": 6, "batch_size": 32, "random_state": 0,
    "progress_bar": False,
}  # fmt: skip
FLAGS = [
    "--id-col", "unique_id", "--time-col", "ds", "--seq-len", "6", "--horizon", "2",
    "--hidden-size", "4", "--num-layers", "2", "--dropout", "0.1", "--max-epochs", "6",
    "--batch-size", "32", "--random-state", "0",
]  # fmt: skip


def _same_weights(a: RNNForecaster, b: RNNForecaster) -> bool:
    sa, sb = a.network_.state_dict(), b.network_.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.fixture(scope="module")
def uninterrupted() -> RNNForecaster:
    return RNNForecaster(**PARAMS).fit(make_long_frame())


class _StopAfter(L.Callback):
    """Ctrl-C at the end of epoch ``epoch``, before that epoch's checkpoint is written."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.current_epoch == self.epoch:
            raise KeyboardInterrupt


def test_checkpointing_changes_nothing_and_leaves_no_checkpoint(tmp_path, uninterrupted):
    with checkpointing(tmp_path / "ck"):
        model = RNNForecaster(**PARAMS).fit(make_long_frame())
    assert _same_weights(model, uninterrupted)
    assert not (tmp_path / "ck" / "fit-0").exists()


@pytest.mark.parametrize("validation_size", [0.1, 0])
def test_an_interrupted_fit_resumes_to_the_uninterrupted_weights(
    tmp_path, uninterrupted, validation_size
):
    params = {**PARAMS, "validation_size": validation_size}
    if validation_size == 0:
        uninterrupted = RNNForecaster(**params).fit(make_long_frame())
    stopped = RNNForecaster(**{**params, "trainer_kwargs": {"callbacks": [_StopAfter(3)]}})
    with checkpointing(tmp_path / "ck"), pytest.raises(KeyboardInterrupt):
        stopped.fit(make_long_frame())
    last = tmp_path / "ck" / "fit-0" / "last.ckpt"
    assert torch.load(last, weights_only=False)["epoch"] == 2  # epochs 0-2 done
    with checkpointing(tmp_path / "ck"):
        resumed = RNNForecaster(**params).fit(make_long_frame())
    assert _same_weights(resumed, uninterrupted)  # bit for bit: RNG, history, best epoch
    assert resumed.history_.equals(uninterrupted.history_)
    assert resumed.best_epoch_ == uninterrupted.best_epoch_
    assert not last.exists()


# ------------------------------------------------------------------------------ command line

SLOW = textwrap.dedent(
    """
    # forecast fit with epochs one second longer, so that the test can kill it mid-run.
    import sys, time
    from forecast.neural import training
    end = training._History.on_train_epoch_end
    def slow(self, trainer, module):
        end(self, trainer, module)
        time.sleep(1.0)
    training._History.on_train_epoch_end = slow
    from forecast.cli.main import main
    sys.exit(main(sys.argv[1:]))
    """
)


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "2"}


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "forecast"]
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, cwd=cwd, env=_env(), timeout=300
    )


def test_cli_fit_killed_and_run_again_resumes_and_ends_as_an_uninterrupted_fit(
    tmp_path, uninterrupted
):
    make_long_frame().to_csv(tmp_path / "data.csv", index=False)
    (tmp_path / "slow.py").write_text(SLOW)
    command = ["fit", "--data", "data.csv", "--out", "m.safetensors", *FLAGS]
    command += ["--checkpoint-dir", "ck"]
    slow = subprocess.Popen(
        [sys.executable, "slow.py", *command], cwd=tmp_path, env=_env(),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    last = tmp_path / "ck" / "fit-0" / "last.ckpt"
    try:
        deadline = time.monotonic() + 240
        while not last.exists() and slow.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert last.exists(), "no checkpoint was written"
    finally:
        slow.send_signal(signal.SIGKILL)
        slow.wait()
    assert slow.returncode == -signal.SIGKILL
    assert not (tmp_path / "m.safetensors").exists()  # killed before the end
    epoch = torch.load(last, weights_only=False)["epoch"]
    assert epoch < PARAMS["max_epochs"] - 1

    again = _cli(*command, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "resuming the fit from" in again.stderr
    resumed = load(tmp_path / "m.safetensors")
    assert _same_weights(resumed, uninterrupted)  # the same run, bit for bit
    assert resumed.history_.equals(uninterrupted.history_)
    assert not (tmp_path / "ck").exists()  # finished: the checkpoints are gone


def test_cli_refuses_to_resume_another_run(tmp_path):
    make_long_frame().to_csv(tmp_path / "data.csv", index=False)
    (tmp_path / "ck").mkdir()
    (tmp_path / "ck" / "run.json").write_text(
        '{"class": "RNNForecaster", "params": {"hidden_size": "8"}, "data": "x", "init_from": null}'
    )
    run = _cli(
        "fit", "--data", "data.csv", "--out", "m.safetensors", *FLAGS, "--checkpoint-dir",
        "ck", cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 2
    assert "holds the checkpoints of another run" in run.stderr
    assert "hidden_size: 8 -> 4" in run.stderr
    assert "the data" in run.stderr
    assert not (tmp_path / "m.safetensors").exists()
