"""``WeightedModule``: a ``RecurrentModule`` whose batches carry the weight of their loss.

A fit from Parquet parts (``forecast/forecasters/_partitioned.py``) gives each rank the
windows of its own series in each global batch of B windows: ``n_r`` of them, maybe none.
The rank's loss is its mean times ``n_r * R / B`` (R ranks), the weight its sampler sends
with the batch, so that DDP's average of the R gradients is the gradient of the mean over
all B windows, as in one process. A rank with none of the batch's windows trains on a zero
window with weight 0 (DDP needs a gradient from every rank); that window is left out of the
epoch's loss, which is summed over ranks (windows and losses) before it is logged, so the
history is the mean over all windows, as in one process. A masked batch is weighted by its
observed targets instead (:meth:`WeightedModule._weighted`).
"""

from __future__ import annotations

from typing import Any

import lightning as L
import torch

from forecast.neural.module import RecurrentModule

__all__ = ["ReplayedRandomState", "WeightedModule"]


class WeightedModule(RecurrentModule):
    """:class:`~forecast.neural.module.RecurrentModule` trained on ``(batch, weight)`` pairs.

    Validation batches are weighted too (only the zero windows matter there: the epoch's
    validation loss is the mean over every rank's windows); its ``net`` is the same
    ``RecurrentRegressor``.
    """

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        inner, weight = batch
        return self._weighted(
            lambda: super(WeightedModule, self).training_step(inner, batch_idx),
            inner,
            weight,
            "train",
        )

    def validation_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        inner, weight = batch
        return self._weighted(
            lambda: super(WeightedModule, self).validation_step(inner, batch_idx),
            inner,
            weight,
            "val",
        )

    def _weighted(self, step: Any, inner: Any, weight: torch.Tensor, stage: str) -> torch.Tensor:
        """``step()``'s loss times ``weight``; a zero window (weight 0) left out of the epoch's.

        A masked batch (``missing="mask"``: a ``mask`` of observed targets) has a loss that
        is the mean over its observed targets, not over its windows: its weight is then this
        rank's share of the global batch's observed targets, ``o_r * R / O``, and its share of
        the epoch's loss the global batch's mean times ``B / R`` (one ``all_reduce`` of two
        counts a step; see :meth:`_observed_share`).
        """
        before = self._epoch_loss.get(stage)
        mask = inner.get("mask") if isinstance(inner, dict) else None
        windows = 0 if not weight else int(inner["y"].shape[0] if mask is not None else 0)
        share = None
        if mask is not None:
            weight, share = self._observed_share(mask, windows)
        loss: torch.Tensor = step() * weight
        if not weight:  # the zero window of a rank without windows in this batch
            if before is None:
                self._epoch_loss.pop(stage, None)
            else:
                self._epoch_loss[stage] = before
        elif share is not None:  # this rank's part of the global batch's mean, times B
            total, count = before if before is not None else (0.0, 0)
            self._epoch_loss[stage] = (total + loss.detach() * share, count + windows)
        return loss

    @staticmethod
    def _observed_share(mask: torch.Tensor, windows: int) -> tuple[torch.Tensor, float]:
        """(weight ``o_r * R / O``, ``B / R``) of a masked batch: o_r observed targets here, O
        and B the global batch's observed targets and windows, over R ranks."""
        counts = torch.tensor([float((mask > 0).sum()), float(windows)], dtype=torch.float64)
        local = float(counts[0])
        world = 1
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.all_reduce(counts)  # every rank steps together: it pairs up
            world = torch.distributed.get_world_size()
        weight = local * world / max(float(counts[0]), 1.0)
        return torch.tensor(weight, dtype=torch.float32), float(counts[1]) / world

    def _log_epoch_loss(self, stage: str) -> None:
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            # Every rank calls this at the same hooks, so the collective always pairs up.
            total, count = self._epoch_loss.pop(stage, (0.0, 0))
            both = torch.tensor([float(total), float(count)], dtype=torch.float64)
            torch.distributed.all_reduce(both)
            if both[1] > 0:
                self._epoch_loss[stage] = (both[0], int(both[1]))
        super()._log_epoch_loss(stage)  # with every rank's sums: the same mean on each


class ReplayedRandomState(L.Callback):
    """Saves the sharded sampler's generator in a checkpoint, and puts it back on resume.

    :class:`~forecast.neural.checkpoints.RandomState` does this for torch's global generator,
    which one process's sampler draws from; a fit from parts replays those draws on a
    generator of its own (``_Shard.replayed`` in ``forecast/forecasters/_partitioned.py``),
    identical on every rank. Without it a resumed fit would shuffle its next epoch as the
    first. ``shard`` is any object with a ``replayed()`` generator.
    """

    def __init__(self, shard: Any) -> None:
        self.shard = shard

    def state_dict(self) -> dict[str, Any]:
        return {"replayed": self.shard.replayed().get_state()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.shard.replayed().set_state(state_dict["replayed"])
