"""One progress bar per fit: epochs done, the latest losses, and how the fit ended.

Lightning's own bar restarts at every epoch and opens a second bar for each validation run;
in a notebook's text output (and in a terminal) that leaves a trail of half-drawn bars. A fit
of ours is a few hundred short epochs at most, so one bar that counts epochs says more::

    LSTM: best epoch 29: 100%|██████████| 30/30 [00:04, 6.9epoch/s, train_loss=0.1, ...]
    LSTM: stopped early at epoch 23, best epoch 13:  80%|████████  | 24/30 [00:03, ...]

Epochs are counted from 0, as in ``history_`` and ``best_epoch_``. Under a step budget
(``trainer_kwargs={"max_steps": N}``, as :func:`~forecast.panel_params` sets) the bar counts
optimiser steps up to ``N`` instead. No bar unless stderr is a terminal or this is a Jupyter
kernel (:func:`wanted`). Inside a long epoch the
postfix also shows the batch reached (``batch=120/500``), at most twice a second. Only
global rank 0 draws (under DDP every process runs the callbacks). The bar goes to stderr,
like other progress bars; in Jupyter with ``ipywidgets`` installed it is a widget
(``tqdm.auto``), otherwise text (Lightning decides the same way, which avoids tqdm's warning
when the widget library is missing).
"""

from __future__ import annotations

import importlib.util
import math
import sys
import time
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import EarlyStopping

__all__ = ["EpochProgressBar", "wanted"]


def wanted(stream: Any = None) -> bool:
    """Whether a bar helps: stderr is a terminal, or this runs in a Jupyter kernel.

    Elsewhere (a cron job, a log file, CI) each redraw would be a ``\\r`` line written to a
    file: a 4-minute fit wrote ~32 KB of them. Lightning's own bar has no such check.
    """
    stream = sys.stderr if stream is None else stream
    try:
        terminal = bool(stream.isatty())
    except (AttributeError, ValueError):  # closed, or not a file
        terminal = False
    return terminal or _in_kernel()


def _in_kernel() -> bool:
    """Whether a Jupyter kernel runs this: ipykernel's shell is the live IPython shell.

    That ``ipykernel`` was imported is not enough: libraries import it without a kernel
    (in the test suite, after the Spark and Dask tests), and a cron job's bar would be back.
    """
    if "ipykernel" not in sys.modules:
        return False
    get_ipython = getattr(sys.modules.get("IPython"), "get_ipython", None)
    shell = get_ipython() if get_ipython is not None else None
    return type(shell).__name__ == "ZMQInteractiveShell"  # ipykernel's shell class


def _tqdm_class() -> Any:
    if importlib.util.find_spec("ipywidgets") is not None:
        import tqdm.auto

        return tqdm.auto.tqdm
    import tqdm

    return tqdm.tqdm


class EpochProgressBar(L.Callback):
    """A tqdm bar over epochs, with the epoch's losses and the early-stopping outcome.

    Parameters
    ----------
    description : str
        Shown before the bar (e.g. ``"LSTM"``).
    """

    def __init__(self, description: str) -> None:
        self.description = description
        self.bar: Any = None
        self._last_refresh = 0.0
        self._best: tuple[int, float] | None = None  # (epoch, validation loss)
        self._losses: dict[str, str] = {}
        self._steps = False  # counting optimiser steps (a max_steps budget), not epochs

    def __getstate__(self) -> dict[str, Any]:  # a spawned DDP process gets a bar of its own
        return {**self.__dict__, "bar": None}

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        # Under a step budget (max_steps, as panel_params sets) the fit ends by steps, not
        # epochs: the bar counts steps, else it would end at "1/20 epochs".
        self._steps = trainer.max_steps is not None and trainer.max_steps > 0
        if self._steps:
            total: int | None = trainer.max_steps
        else:
            total = trainer.max_epochs if trainer.max_epochs and trainer.max_epochs > 0 else None
        self.bar = _tqdm_class()(
            total=total,
            desc=self.description,
            unit="step" if self._steps else "epoch",
            dynamic_ncols=True,
            leave=True,
            file=sys.stderr,
        )
        self._best, self._losses = None, {}

    def on_train_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        if self.bar is not None and self._steps:
            self.bar.update(1)
        now = time.monotonic()
        if self.bar is None or now - self._last_refresh < 0.5:
            return
        self._last_refresh = now
        batches = trainer.num_training_batches
        shown = f"/{batches}" if isinstance(batches, int) else ""
        self.bar.set_postfix({**self._losses, "batch": f"{batch_idx + 1}{shown}"}, refresh=True)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # The epoch ModelCheckpoint keeps: the first with the lowest validation loss.
        value = trainer.callback_metrics.get("val_loss")
        if self.bar is None or trainer.sanity_checking or value is None:
            return
        if self._best is None or float(value) < self._best[1]:
            self._best = (trainer.current_epoch, float(value))

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.bar is None:
            return
        self._losses = {}
        for name in ("train_loss", "val_loss"):
            value = trainer.callback_metrics.get(name)
            if value is not None and math.isfinite(float(value)):
                self._losses[name] = f"{float(value):.4g}"
        self.bar.set_postfix(self._losses, refresh=False)
        if not self._steps:
            self.bar.update(1)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.bar is None:
            return
        stopped = [
            cb.stopped_epoch
            for cb in trainer.callbacks  # type: ignore[attr-defined]  # set in Trainer.__init__
            if isinstance(cb, EarlyStopping) and cb.stopped_epoch > 0
        ]
        kept = None if self._best is None else self._best[0]
        if self._steps:
            note = f"{trainer.global_step} steps, {trainer.current_epoch + 1} epochs"
            note += "" if kept is None else f", best epoch {kept}"
        elif stopped:
            note = f"stopped early at epoch {stopped[0]}, best epoch {kept}"
        elif kept is not None:
            note = f"best epoch {kept}"
        else:
            note = None
        self._close(note)

    def _close(self, note: str | None = None) -> None:
        if self.bar is None:
            return
        if note:
            self.bar.set_description(f"{self.description}: {note}", refresh=False)
        self.bar.close()
        self.bar = None

    def on_exception(self, trainer: L.Trainer, *args: Any) -> None:
        self._close()
