"""Stochastic weight averaging over the tail of a fit (the estimators' ``swa_start``).

The averaging itself is Lightning's :class:`~lightning.pytorch.callbacks.WeightAveraging`
(an equal-weight :class:`torch.optim.swa_utils.AveragedModel` updated after each optimiser
step, copied into the module when training ends). What this subclass adds:

* it starts at a fraction of the run's optimiser steps (``trainer.estimated_stepping_batches``),
  the form of ``swa_start``, instead of a fixed step;
* it never hands back weights that were not averaged. Lightning's callback makes its copy
  of the module when the fit begins and, by default, swaps that copy in for validation,
  writes it into checkpoints and copies it into the module at the end, whether or not any
  step has been averaged yet. Before the first update that copy holds the *initial*
  weights, so a validation before ``swa_start``, a best-epoch checkpoint, or a run that early
  stopping ends before ``swa_start`` would score or keep an untrained network. Here each of
  those hooks acts only once the average holds at least one step.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import WeightAveraging

logger = logging.getLogger(__name__)


class TailWeightAveraging(WeightAveraging):
    """Equal average of the weights after every optimiser step from ``start`` of the run on.

    Parameters
    ----------
    start : float
        Fraction in [0, 1) of the run's optimiser steps (``max_steps``, or ``max_epochs``
        times the batches per epoch, whichever is fewer) after which every step's weights
        enter the average; the average is what training leaves in the module. Validation
        (early stopping, best-epoch checkpoints) sees the average once it has begun.
    """

    def __init__(self, start: float) -> None:
        super().__init__()  # no avg_fn: AveragedModel's equal-weight running mean (SWA)
        if not 0.0 <= float(start) < 1.0:
            raise ValueError(f"start must be a fraction in [0, 1); got {start!r}.")
        self.start = float(start)
        self.first_step: int | None = None

    @property
    def averaged_steps(self) -> int:
        """How many optimiser steps the average holds (0 before ``start``)."""
        model = self._average_model
        return 0 if model is None else int(model.n_averaged)

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        steps = trainer.estimated_stepping_batches
        if not math.isfinite(steps) or steps < 1:  # an unsized loader without max_steps: -1
            raise ValueError(
                "swa_start needs a finite number of optimiser steps: set max_steps or "
                "max_epochs with a sized DataLoader."
            )
        self.first_step = int(self.start * steps)

    def should_update(self, step_idx: int | None = None, epoch_idx: int | None = None) -> bool:
        return step_idx is not None and self.first_step is not None and step_idx >= self.first_step

    def on_validation_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # Checked at both ends of the validation: no step is averaged in between, so the
        # two swaps always pair up.
        if self.averaged_steps:
            super().on_validation_epoch_start(trainer, pl_module)

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.averaged_steps:
            super().on_validation_epoch_end(trainer, pl_module)

    def on_save_checkpoint(
        self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        if self.averaged_steps:
            super().on_save_checkpoint(trainer, pl_module, checkpoint)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.averaged_steps:
            super().on_train_end(trainer, pl_module)
        else:
            logger.info(
                "Training ended at step %d, before swa_start (step %s): no weights averaged; "
                "keeping the trained weights.",
                trainer.global_step,
                self.first_step,
            )
