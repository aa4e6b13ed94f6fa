"""Running a ``lightning.Trainer`` for the estimators: quiet defaults, history, seeding.

The loop, early stopping, checkpointing of the best epoch, gradient clipping and the progress
bar are Lightning's; this module only chooses defaults that suit a library call (no logger
directory in the user's working folder, no banners) and collects the loss history.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import random
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import pandas as pd
import torch
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from torch.utils.data import DataLoader

__all__ = ["TrainingResult", "fit_module", "seeded"]

logger = logging.getLogger("forecast")

# Lightning's informational messages ("GPU available: ...", tips) go through these loggers.
_LIGHTNING_LOGGERS = ("lightning.pytorch", "lightning.fabric", "lightning")

# Warnings Lightning raises that do not apply to us, each with the reason it does not:
_IGNORED_WARNINGS = (
    # Batches are gathered by one vectorised index op in the main process; workers would only
    # add process start-up and inter-process copies.
    r".*does not have many workers.*",
    # We log per epoch only, so a short epoch is not a problem.
    r".*smaller than the logging interval.*",
    # Lightning 2.6 calls a torch pytree API that torch 2.13 deprecates: theirs to change,
    # nothing our users can act on.
    r".*isinstance\(treespec, LeafSpec\).*",
    # validation_size=0 means "no validation" on purpose: nothing for the user to fix.
    r".*defined a `validation_step` but have no `val_dataloader`.*",
)


class _History(L.Callback):
    """Records the epoch's mean train and validation loss after validation has run.

    Under a spawning strategy (``ddp_spawn``) training runs in child processes, whose
    callback objects are copies: rank 0 also writes the rows to ``path`` (a JSON file in
    our temporary directory) for the main process to read back.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows: list[dict[str, float]] = []

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        metrics = trainer.callback_metrics
        self.rows.append(
            {
                "epoch": trainer.current_epoch,
                "train_loss": float(metrics.get("train_loss", math.nan)),
                "val_loss": float(metrics.get("val_loss", math.nan)),
            }
        )

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.is_global_zero:
            self.path.write_text(json.dumps(self.rows))

    def collected(self) -> list[dict[str, float]]:
        """The rows, from this process or, after a spawned run, from rank 0's file."""
        if not self.rows and self.path.is_file():
            return json.loads(self.path.read_text())
        return self.rows


@dataclass
class TrainingResult:
    """What a fit produced besides the weights."""

    history: pd.DataFrame  # epoch, train_loss, val_loss (scaled units)
    best_epoch: int | None  # epoch whose weights were kept (None without validation)
    stopped_early: bool


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed Python, NumPy and torch for a fit, and restore the caller's generators afterwards.

    The user's own random streams are not disturbed by fitting a model.
    """
    py_state, np_state = random.getstate(), np.random.get_state()  # noqa: NPY002 (the legacy global stream is what we protect)
    env = os.environ.get("PL_GLOBAL_SEED")
    with torch.random.fork_rng(devices=[]):
        L.seed_everything(seed, verbose=False)
        try:
            yield
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)  # noqa: NPY002
            if env is None:
                os.environ.pop("PL_GLOBAL_SEED", None)
            else:
                os.environ["PL_GLOBAL_SEED"] = env


@contextlib.contextmanager
def _quiet(verbose: bool) -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in _LIGHTNING_LOGGERS]
    levels = [lg.level for lg in loggers]
    if not verbose:
        for lg in loggers:
            lg.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            for pattern in _IGNORED_WARNINGS:
                warnings.filterwarnings("ignore", message=pattern)
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def fit_module(
    module: L.LightningModule,
    train: DataLoader,
    val: DataLoader | None,
    *,
    max_epochs: int,
    early_stopping_patience: int | None,
    gradient_clip_val: float | None,
    progress_bar: bool,
    verbose: bool,
    trainer_kwargs: dict[str, Any] | None,
) -> TrainingResult:
    """Train ``module``; with validation data, stop early and keep the best epoch's weights.

    ``trainer_kwargs`` override the defaults below; their ``callbacks`` are added to ours.
    """
    user = dict(trainer_kwargs or {})
    with tempfile.TemporaryDirectory(prefix="forecast-") as tmp, _quiet(verbose):
        history = _History(Path(tmp) / "history.json")
        callbacks: list[L.Callback] = [history, *list(user.pop("callbacks", None) or [])]
        checkpoint = None
        early = None
        if val is not None:
            checkpoint = ModelCheckpoint(
                dirpath=tmp,
                filename="best",
                monitor="val_loss",
                mode="min",
                save_top_k=1,
                save_weights_only=True,
                save_on_train_epoch_end=False,
            )
            callbacks.append(checkpoint)
            if early_stopping_patience is not None:
                # Checked after validation, not at the end of a training epoch: a run cut
                # short by max_steps may end an epoch before validation has produced a loss.
                early = EarlyStopping(
                    monitor="val_loss",
                    mode="min",
                    patience=early_stopping_patience,
                    check_on_train_epoch_end=False,
                )
                callbacks.append(early)
        options: dict[str, Any] = {
            "max_epochs": max_epochs,
            "accelerator": "auto",
            "devices": 1,
            "gradient_clip_val": gradient_clip_val,
            "logger": False,
            "enable_checkpointing": checkpoint is not None,
            "enable_progress_bar": progress_bar,
            "enable_model_summary": verbose,
            "num_sanity_val_steps": 0,
            "default_root_dir": tmp,
        }
        options.update(user)
        options["callbacks"] = callbacks
        trainer = L.Trainer(**options)
        trainer.fit(module, train_dataloaders=train, val_dataloaders=val)

        best_epoch = None
        if checkpoint is not None and checkpoint.best_model_path:
            state = torch.load(checkpoint.best_model_path, map_location="cpu", weights_only=True)
            module.load_state_dict(state["state_dict"])
            best_epoch = int(state["epoch"])
        rows = history.collected()
    stopped = bool(early is not None and early.stopped_epoch > 0)
    if stopped:
        logger.info(
            "Early stopping at epoch %d; keeping the weights of epoch %s.",
            early.stopped_epoch,
            best_epoch,
        )
    frame = pd.DataFrame(rows, columns=["epoch", "train_loss", "val_loss"])
    return TrainingResult(history=frame, best_epoch=best_epoch, stopped_early=stopped)
