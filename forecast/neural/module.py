"""The LightningModule: loss, optimiser and logging around the network.

The network is :class:`~forecast.neural.network.RecurrentRegressor`.

Usable on its own under a user's ``lightning.Trainer`` and ``DataLoader`` of ``(x, y)``
batches, ``x`` of shape (N, L, F) and ``y`` of shape (N, H, T). With ``quantiles`` the
network emits (N, H, T, Q) and is trained with the pinball loss
(:class:`~forecast.neural.objectives.PinballLoss`).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from typing import Any

import lightning as L
import torch

from forecast._exceptions import NumericalError
from forecast.neural.lightning_internals import FastHookName
from forecast.neural.network import RecurrentConfig, RecurrentRegressor
from forecast.neural.objectives import (
    LOSSES,
    LR_SCHEDULES,
    PinballLoss,
    RelativeLoss,
    masked_loss,
)

__all__ = ["RecurrentModule"]


class RecurrentModule(FastHookName, L.LightningModule):
    """Train a recurrent regressor with Lightning.

    Parameters
    ----------
    cell : {"rnn", "lstm", "gru"}
    input_size : int
        Features per time step, F.
    hidden_size, num_layers : int
    dropout : float
    horizon : int
        Steps predicted at once, H.
    n_targets : int
        Targets T (the first T input features are usually the targets).
    loss : {"mse", "mae", "huber", "pinball", "mape", "smape"}
        ``"pinball"`` if and only if ``quantiles`` are given. ``"mape"`` and ``"smape"``
        (:class:`~forecast.neural.objectives.RelativeLoss`) read the batch's ``offset``.
    learning_rate, weight_decay : float
        For Adam.
    lr_schedule : {"constant", "cosine"}
        ``"cosine"``: the learning rate decays from ``learning_rate`` to 0 along a half
        cosine over the run's optimiser steps (``trainer.estimated_stepping_batches``: the
        ``max_steps`` or ``max_epochs`` budget), stepped after every batch.
    n_future, n_static : int
        Known-future covariates per step and static covariates (0 = none).
    quantiles : sequence of float, optional
        Quantile levels, increasing: the network emits (N, H, T, Q), non-decreasing along Q.

    Examples
    --------
    >>> import lightning as L
    >>> from torch.utils.data import DataLoader, TensorDataset
    >>> from forecast.datasets import load_air_passengers
    >>> from forecast.windowing import make_windows
    >>> X, y = make_windows(load_air_passengers() / 100, seq_len=12, horizon=3)
    >>> module = RecurrentModule(cell="gru", input_size=1, horizon=3)
    >>> trainer = L.Trainer(max_epochs=1, logger=False, enable_checkpointing=False,
    ...                     enable_progress_bar=False, enable_model_summary=False)
    >>> train, val = TensorDataset(X[:100], y[:100]), TensorDataset(X[100:], y[100:])
    >>> trainer.fit(module, DataLoader(train, batch_size=32), DataLoader(val, batch_size=32))
    >>> module(X[:2]).shape
    torch.Size([2, 3, 1])
    """

    def __init__(
        self,
        cell: str = "lstm",
        input_size: int = 1,
        hidden_size: int = 64,
        num_layers: int = 1,
        dropout: float = 0.0,
        horizon: int = 1,
        n_targets: int = 1,
        loss: str = "mse",
        learning_rate: float = 1e-3,
        weight_decay: float = 0.0,
        n_future: int = 0,
        n_static: int = 0,
        quantiles: Sequence[float] | None = None,
        lr_schedule: str = "constant",
    ) -> None:
        super().__init__()
        if loss not in LOSSES:
            raise ValueError(f"Unknown loss {loss!r}; expected one of {sorted(LOSSES)}.")
        if lr_schedule not in LR_SCHEDULES:
            raise ValueError(
                f"Unknown lr_schedule {lr_schedule!r}; expected one of {list(LR_SCHEDULES)}."
            )
        if (loss == "pinball") != bool(quantiles):
            raise ValueError(
                "Quantiles are trained with the pinball loss, and the pinball loss needs "
                f"quantiles: got loss={loss!r} with quantiles={quantiles!r}."
            )
        # As Python numbers: the hyperparameters are pickled into the best epoch's checkpoint,
        # which is read back with weights_only=True (refusing NumPy scalars, a grid search's
        # np.int64), and nn.LSTM refuses an np.int64 hidden_size.
        hidden_size, num_layers, horizon = int(hidden_size), int(num_layers), int(horizon)
        input_size, n_targets = int(input_size), int(n_targets)
        n_future, n_static = int(n_future), int(n_static)
        dropout, learning_rate = float(dropout), float(learning_rate)
        weight_decay = float(weight_decay)
        quantiles = None if quantiles is None else [float(q) for q in quantiles]
        self.save_hyperparameters()  # reads the arguments as converted above
        self.net = RecurrentRegressor(
            RecurrentConfig(
                cell=cell,
                input_size=input_size,
                hidden_size=hidden_size,
                num_layers=num_layers,
                dropout=dropout,
                horizon=horizon,
                n_targets=n_targets,
                n_future=n_future,
                n_static=n_static,
                n_quantiles=len(quantiles) if quantiles else 0,
            )
        )
        self.loss_fn = PinballLoss(quantiles) if quantiles else LOSSES[loss]()
        self._epoch_loss: dict[str, tuple[torch.Tensor | float, int]] = {}  # stage -> (sum, n)

    def forward(
        self,
        x: torch.Tensor,
        future: torch.Tensor | None = None,
        static: torch.Tensor | None = None,
    ) -> torch.Tensor:
        return self.net(x, future, static)  # (N, H, T) or (N, H, T, Q)

    def _common_step(self, batch: Any, stage: str) -> torch.Tensor:
        mask = None
        if isinstance(batch, dict):
            pred = self(batch["x"], batch.get("future"), batch.get("static"))
            y, mask = batch["y"], batch.get("mask")  # mask (N, H, T): 1 = observed target
        else:
            x, y = batch
            pred = self(x)
        offset = batch.get("offset") if isinstance(batch, dict) else None
        if mask is not None:
            loss = masked_loss(self.loss_fn, pred, y, mask, offset)
        elif isinstance(self.loss_fn, RelativeLoss):
            if offset is None:  # the dataset was not asked for it: a wiring error of ours
                raise TypeError("a relative loss needs the batch's offset (WindowDataset offsets)")
            loss = self.loss_fn(pred, y, offset)
        else:
            loss = self.loss_fn(pred, y)
        # The epoch's mean loss, weighted by batch size, is summed here and logged once per
        # epoch (_log_epoch_loss): a `self.log` call per step costs Lightning ~0.2-0.5 ms of
        # Python, a tenth of a training step of a small network on a CPU.
        total, count = self._epoch_loss.get(stage, (0.0, 0))
        self._epoch_loss[stage] = (total + loss.detach() * y.shape[0], count + y.shape[0])
        return loss

    def _log_epoch_loss(self, stage: str) -> None:
        """Log ``f"{stage}_loss"``, the epoch's mean, once; averaged over processes under DDP."""
        total, count = self._epoch_loss.pop(stage, (0.0, 0))
        if not count:
            return
        if not math.isfinite(float(total)):
            name = "training" if stage == "train" else "validation"
            self._diverged(name, float(total), "epoch")
        self.log(
            f"{stage}_loss",
            total / count,
            on_step=False,
            on_epoch=True,
            prog_bar=True,
            batch_size=1,
            # Averaged over processes under DDP, so that early stopping and checkpointing
            # decide the same on every rank; a no-op on one device.
            sync_dist=True,
        )

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        loss = self._common_step(batch, "train")
        # Checked at every step where it costs nothing (the loss is on the CPU); on an
        # accelerator, where it would wait for the device, once per epoch (_log_epoch_loss).
        if loss.device.type == "cpu" and not torch.isfinite(loss):
            self._diverged("training", float(loss.detach()), f"step {batch_idx} of epoch")
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        return self._common_step(batch, "val")

    def on_train_epoch_start(self) -> None:
        self._epoch_loss.pop("train", None)

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        # Logged after the epoch's last step, before validation and the epoch-end hooks, so
        # that callbacks reading `trainer.callback_metrics` in `on_train_epoch_end` (which
        # Lightning calls before the module's) see it. The last step: the data ran out, the
        # batch limit or `max_steps` was reached, or a callback asked to stop.
        trainer = self.trainer
        if (
            trainer.is_last_batch
            or batch_idx + 1 >= trainer.num_training_batches
            or 0 <= trainer.max_steps <= trainer.global_step
            or trainer.should_stop
        ):
            self._log_epoch_loss("train")

    def on_train_epoch_end(self) -> None:
        self._log_epoch_loss("train")  # an epoch cut short in a way not foreseen above

    def on_validation_epoch_start(self) -> None:
        self._epoch_loss.pop("val", None)

    def on_validation_epoch_end(self) -> None:
        self._log_epoch_loss("val")

    def _diverged(self, stage: str, value: float, where: str) -> None:
        """Stop the fit: a NaN or infinite loss would only train weights into NaN forecasts."""
        try:
            trainer = self.trainer
            at = f"{where} {trainer.current_epoch}"
            clip = trainer.gradient_clip_val
        except RuntimeError:  # not attached to a Trainer
            at, clip = where, None
        clipping = (
            f"gradient clipping is at {clip}: try a smaller gradient_clip_val"
            if clip
            else "turn gradient clipping on (gradient_clip_val=1.0)"
        )
        raise NumericalError(
            f"The {stage} loss is {value} at {at}: the fit diverged. Lower learning_rate "
            f"(now {self.hparams['learning_rate']:g}) or {clipping}; if the data is not "
            "scaled (scaler=None), scale it (scaler='standard')."
        )

    def _adam(self) -> torch.optim.Adam:
        """Adam, with the fewest kernel launches the run allows.

        torch's default on a CPU is a Python loop of ~10 small ops per parameter tensor;
        ``fused=True`` (one kernel for all of them) takes a small network's optimiser step
        from 0.8 to 0.2 ms on this project's 2-core CPU. It is used under Lightning's full
        float32 precision (``"32-true"``, the default, or no trainer attached) where torch
        has the kernel (CPU from torch 2.4, CUDA). Lightning's mixed precision
        (``"16-mixed"``, ``"bf16-mixed"``) refuses to clip the gradients of a fused
        optimiser, and the estimators clip by default, so there, as under every other
        precision plugin, CPU and CUDA parameters get ``foreach=True`` (the same arithmetic,
        batched per op) and other devices torch's own choice.

        Resuming from a checkpoint keeps the choice made here (:func:`_keep_kernel_choice`).
        """
        options = {
            "lr": self.hparams["learning_rate"],
            "weight_decay": self.hparams["weight_decay"],
        }
        params = list(self.parameters())
        full_precision = self._precision() == "32-true"
        on_cpu_or_cuda = all(p.device.type in ("cpu", "cuda") for p in params)
        optimizer = None
        if full_precision and on_cpu_or_cuda and all(p.dtype == torch.float32 for p in params):
            # torch < 2.4 has no CPU kernel, and says so here with a RuntimeError.
            with contextlib.suppress(RuntimeError):
                optimizer = torch.optim.Adam(params, fused=True, **options)
        if optimizer is None:
            optimizer = torch.optim.Adam(
                params, foreach=True if on_cpu_or_cuda else None, **options
            )
        optimizer.register_load_state_dict_pre_hook(_keep_kernel_choice)
        return optimizer

    def _precision(self) -> str:
        """The run's precision setting (``"32-true"``, ``"bf16-mixed"``, ...), from public API.

        ``"32-true"`` when no trainer is attached (the module used in a plain loop).
        """
        if self.fabric is not None:
            return str(self.fabric.strategy.precision.precision)
        try:
            trainer = self.trainer
        except RuntimeError:  # "not attached to a `Trainer`"
            return "32-true"
        return str(trainer.precision)

    def configure_optimizers(self) -> Any:
        optimizer = self._adam()
        if self.hparams.get("lr_schedule", "constant") == "constant":
            return optimizer
        steps = self.trainer.estimated_stepping_batches
        if not math.isfinite(steps) or steps < 1:  # an unsized loader without max_steps: -1
            raise ValueError(
                "lr_schedule='cosine' needs a finite number of optimiser steps: set max_steps "
                "or max_epochs with a sized DataLoader."
            )
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(int(steps), 1))
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }


def _keep_kernel_choice(optimizer: torch.optim.Optimizer, state_dict: dict) -> dict:
    """Load-state-dict pre-hook: resuming keeps this run's ``fused`` and ``foreach``.

    torch's ``Optimizer.load_state_dict`` takes every option of a parameter group from the
    saved dict, these two included: a checkpoint written under another precision, device or
    version would otherwise bring back a kernel this run may lack (no fused kernel on the
    device) or that Lightning cannot clip (fused under mixed precision). Only the groups
    are copied; the caller's dict is left as it was.
    """
    groups = [
        {**saved, "fused": now.get("fused"), "foreach": now.get("foreach")}
        for saved, now in zip(state_dict["param_groups"], optimizer.param_groups, strict=False)
    ]
    return {**state_dict, "param_groups": groups}
