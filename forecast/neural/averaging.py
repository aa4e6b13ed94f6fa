"""Stochastic weight averaging over the tail of a fit (the estimators' ``swa_start``).

The averaging itself is Lightning's :class:`~lightning.pytorch.callbacks.WeightAveraging`
(an equal-weight :class:`torch.optim.swa_utils.AveragedModel` updated after each optimiser
step, copied into the module when training ends). What this subclass adds:

* it starts at a fraction of the run's optimiser steps (``trainer.estimated_stepping_batches``),
  the form of ``swa_start``, instead of a fixed step;
* it never hands back weights that were not averaged. Lightning's callback makes its copy
  of the module when the fit begins and, by default, swaps that copy in for validation,
  writes it into full checkpoints and copies it into the module at the end, whether or not
  any step has been averaged yet. Before the first update that copy holds the *initial*
  weights, so a validation before ``swa_start``, a full checkpoint, or a run that early
  stopping ends before ``swa_start`` would score or keep an untrained network. Here each of
  those hooks acts only once the average holds at least one step, and a run that ends
  before it warns;
* the average lives on the device the module trains on (Lightning copies the module in
  ``setup``, before the strategy moves it to the GPU).

Weights-only checkpoints (what :func:`forecast.neural.training.fit_module` keeps for the best
epoch) never call ``on_save_checkpoint``: they hold the raw weights, which is why
``fit_module`` does not reload them over an average.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import WeightAveraging

from forecast._exceptions import InvalidParameterError
from forecast.neural.lightning_internals import average_on, averaged_model


class TailWeightAveraging(WeightAveraging):
    """Equal average of the weights after every optimiser step from ``start`` of the run on.

    Parameters
    ----------
    start : float
        Fraction in [0, 1) of the run's optimiser steps (``max_steps``, or ``max_epochs``
        times the batches per epoch, whichever is fewer) after which every step's weights
        enter the average; the average is what training leaves in the module. Validation
        (early stopping, best-epoch checkpoints) sees the average once it has begun.

    Raises
    ------
    InvalidParameterError
        ``start`` outside [0, 1), or (when training starts) a budget of steps that is not
        finite.
    """

    def __init__(self, start: float) -> None:
        super().__init__()  # no avg_fn: AveragedModel's equal-weight running mean (SWA)
        if not 0.0 <= float(start) < 1.0:
            raise InvalidParameterError(f"start must be a fraction in [0, 1); got {start!r}.")
        self.start = float(start)
        self.first_step: int | None = None

    @property
    def averaged_steps(self) -> int:
        """How many optimiser steps the average holds (0 before ``start``)."""
        model = averaged_model(self)
        return 0 if model is None else int(model.n_averaged)

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        """Make Lightning's copy of the module on the device that training will use."""
        average_on(self, trainer.strategy.root_device)
        super().setup(trainer, pl_module, stage)

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Turn the fraction into the first averaged step, from the run's step budget."""
        steps = trainer.estimated_stepping_batches
        if not math.isfinite(steps) or steps < 1:  # an unsized loader without max_steps: -1
            raise InvalidParameterError(
                "swa_start needs a finite number of optimiser steps: set max_steps or "
                "max_epochs with a sized DataLoader."
            )
        # Rounded first so that 0.58 * 100 (57.99999...) is step 58, as written.
        self.first_step = math.floor(round(self.start * steps, 9))

    def should_update(self, step_idx: int | None = None, epoch_idx: int | None = None) -> bool:
        """Average after every optimiser step from ``first_step`` on (none at epoch ends)."""
        return step_idx is not None and self.first_step is not None and step_idx >= self.first_step

    def on_validation_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Validate the average instead of the current weights, once there is one."""
        # Checked at both ends of the validation: no step is averaged in between, so the
        # two swaps always pair up.
        if self.averaged_steps:
            super().on_validation_epoch_start(trainer, pl_module)

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Put the current weights back after validation, if the average was swapped in."""
        if self.averaged_steps:
            super().on_validation_epoch_end(trainer, pl_module)

    def on_save_checkpoint(
        self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        """A full checkpoint holds the average once there is one, else the module's weights."""
        if self.averaged_steps:
            super().on_save_checkpoint(trainer, pl_module, checkpoint)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Leave the average in the module; a run that ended before ``start`` warns."""
        if self.averaged_steps:
            super().on_train_end(trainer, pl_module)
        else:
            warnings.warn(
                f"Training ended at step {trainer.global_step}, before swa_start={self.start:g} "
                f"(step {self.first_step} of the budget): no weights were averaged, the "
                "trained weights are kept. Early stopping can end a run this early: lower "
                "swa_start or max_epochs, or raise early_stopping_patience.",
                UserWarning,
                stacklevel=2,
            )
