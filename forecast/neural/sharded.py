"""``WeightedModule``: a ``RecurrentModule`` whose batches carry the weight of their loss.

A fit from Parquet parts (``forecast/forecasters/_partitioned.py``) gives each rank the
windows of its own series in each global batch of B windows: ``n_r`` of them, maybe none.
The rank's loss is its mean times ``n_r * R / B`` (R ranks), the weight its sampler sends
with the batch, so that DDP's average of the R gradients is the gradient of the mean over
all B windows, as in one process.
"""

from __future__ import annotations

from typing import Any

import torch

from forecast.neural.module import RecurrentModule

__all__ = ["WeightedModule"]


class WeightedModule(RecurrentModule):
    """:class:`~forecast.neural.module.RecurrentModule` trained on ``(batch, weight)`` pairs.

    Validation and prediction batches are plain batches, as for ``RecurrentModule``; its
    ``net`` is the same ``RecurrentRegressor``.
    """

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        inner, weight = batch
        loss: torch.Tensor = super().training_step(inner, batch_idx) * weight
        return loss
