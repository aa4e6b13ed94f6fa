"""Checkpoints a fit resumes from after a kill: ``with checkpointing(folder): model.fit(df)``.

Inside :func:`checkpointing`, every fit (:func:`forecast.neural.training.fit_module`)
writes a full Lightning checkpoint to ``folder/fit-<i>/last.ckpt`` at the end of each epoch
(Lightning's ``ModelCheckpoint`` without a monitor; written atomically by Lightning, through
a temporary file). When ``last.ckpt`` is there as the fit starts, training resumes from it
(``Trainer.fit(ckpt_path=...)``): weights, optimiser, learning-rate schedule, epoch and step
counters, early stopping's patience, the best epoch so far (its weights-only checkpoint is
kept in ``folder/fit-<i>/best/`` rather than in the fit's temporary directory), the loss history,
and torch's random generator as it was when the checkpoint was written, so that the epochs
after it shuffle and drop out as they would have. A run resumed after ``kill -9`` ends with
the weights an uninterrupted run ends with, bit for bit on CPU under an epoch budget
(``tests/test_checkpoints.py`` checks it through the command line; see below for
``max_steps``).

Epoch ends only: Lightning restarts an interrupted epoch from its beginning with a new
order, so a checkpoint inside an epoch would not resume the same run. **Bit for bit under
an epoch budget** (``max_epochs``), with or without validation, with dropout (tested).
**Under a step budget** (``max_steps``, as :func:`forecast.presets.panel_params` sets)
Lightning 2.6 runs the epoch the checkpoint was written after once more on resume (its
restart of an epoch-end checkpoint when ``max_steps`` is set): the resumed fit ends within
the same step budget, close to but not equal to an uninterrupted one (on a tiny panel, 40
steps: weights within 1.2e-3; with ``swa_start``, 4e-4). A budget shorter than one epoch
writes no checkpoint.

Which run a folder holds is the caller's to check (``forecast fit --checkpoint-dir``
refuses a folder of another command's run: :mod:`forecast.cli.training`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

__all__ = [
    "CHECKPOINT",
    "Checkpointing",
    "FitCheckpoints",
    "RandomState",
    "checkpointing",
    "current",
]

CHECKPOINT = "last.ckpt"
BEST = "best"


@dataclass(frozen=True)
class FitCheckpoints:
    """Where one fit checkpoints to: ``folder/last.ckpt`` and ``folder/best/``."""

    folder: Path

    @property
    def last(self) -> Path:
        return self.folder / CHECKPOINT

    @property
    def best_dir(self) -> Path:
        return self.folder / BEST

    def resume_from(self) -> str | None:
        """The checkpoint to resume from, if a previous run left one."""
        return str(self.last) if self.last.is_file() else None

    def callbacks(self) -> list[L.Callback]:
        """The callbacks that write and restore the checkpoint."""
        return [
            # The newest epoch only (no monitor: the latest is the one kept), as last.ckpt,
            # written at the epoch's end, after the loss history has its row.
            ModelCheckpoint(
                dirpath=self.folder,
                filename=CHECKPOINT.removesuffix(".ckpt"),
                every_n_epochs=1,
                save_on_train_epoch_end=True,
                enable_version_counter=False,
            ),
            RandomState(),
        ]

    def clear(self) -> None:
        """Remove the checkpoints (after a fit that finished: nothing left to resume)."""
        for path in [self.last, *self.best_dir.glob("*.ckpt")]:
            path.unlink(missing_ok=True)
        for folder in (self.best_dir, self.folder):
            with contextlib.suppress(OSError):
                folder.rmdir()


@dataclass
class Checkpointing:
    """Where the fits of the current context checkpoint to: ``folder/fit-0``, ``fit-1``...

    One model can be several fits (conformal calibration then the final fit, an ensemble's
    members): each has a folder of its own, numbered in the order they run. A fit that
    finishes removes its checkpoints; a rerun fits it again (the same run, with a fixed
    ``random_state``) and resumes the one that was interrupted.
    """

    folder: Path
    fits: int = 0

    def next_fit(self) -> FitCheckpoints:
        fit = FitCheckpoints(self.folder / f"fit-{self.fits}")
        self.fits += 1
        return fit


_CURRENT: ContextVar[Checkpointing | None] = ContextVar("forecast_checkpointing", default=None)


def current() -> Checkpointing | None:
    """The checkpointing of the current context, or None."""
    return _CURRENT.get()


@contextlib.contextmanager
def checkpointing(folder: str | Path) -> Iterator[Checkpointing]:
    """Fits inside this context checkpoint each epoch to ``folder`` and resume from it.

    Parameters
    ----------
    folder : str or pathlib.Path
        Created if missing. A fit that finishes leaves it without checkpoints.

    Examples
    --------
    >>> import tempfile
    >>> from forecast import RNNForecaster
    >>> from forecast.datasets import load_air_passengers
    >>> from forecast.neural.checkpoints import checkpointing
    >>> model = RNNForecaster(seq_len=12, hidden_size=8, max_epochs=2, random_state=0,
    ...                       progress_bar=False)
    >>> with checkpointing(tempfile.mkdtemp()):
    ...     model = model.fit(load_air_passengers())
    """
    path = Path(folder).resolve()  # Lightning restores a checkpoint's state for this path
    path.mkdir(parents=True, exist_ok=True)
    state = Checkpointing(path)
    token = _CURRENT.set(state)
    try:
        yield state
    finally:
        _CURRENT.reset(token)


class RandomState(L.Callback):
    """Saves torch's random generator in the checkpoint, and puts it back on resume.

    The state is taken as the checkpoint is written, at an epoch's end: the next epoch's
    shuffle and dropout draw from it, in the resumed run as in the uninterrupted one.
    """

    def state_dict(self) -> dict[str, Any]:
        return {"torch": torch.get_rng_state()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        torch.set_rng_state(state_dict["torch"])
