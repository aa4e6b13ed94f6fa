"""What the module optimises: the losses and the learning-rate schedules, by name.

Plain ``torch``, no Lightning: the estimators' parameter checks read the names here without
importing the LightningModule.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["LOSSES", "LR_SCHEDULES", "PinballLoss"]


class PinballLoss(nn.Module):
    """Mean pinball (quantile) loss over quantile levels ``q``.

    ``max(q · (y - ŷ_q), (q - 1) · (y - ŷ_q))``, averaged over the batch, steps, targets and
    levels. Its minimiser over ``ŷ_q`` is the ``q``-quantile of ``y``: the loss of quantile
    regression (Koenker & Bassett, 1978). For one level it equals scikit-learn's
    ``mean_pinball_loss(y, ŷ, alpha=q)``.

    Parameters
    ----------
    quantiles : sequence of float
        The Q levels, in the order of the predictions' last axis.

    Examples
    --------
    >>> import torch
    >>> loss = PinballLoss([0.1, 0.9])
    >>> y = torch.zeros(1, 1, 1)
    >>> pred = torch.tensor([[[[-1.0, 1.0]]]])  # (N, H, T, Q): 0.1·1 and 0.1·1
    >>> round(float(loss(pred, y)), 6)
    0.1
    """

    quantiles: torch.Tensor  # (Q,), a buffer

    def __init__(self, quantiles: Sequence[float]) -> None:
        super().__init__()
        levels = torch.tensor([float(q) for q in quantiles], dtype=torch.float32)
        self.register_buffer("quantiles", levels, persistent=False)

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """``pred`` (N, H, T, Q), ``target`` (N, H, T): a scalar."""
        diff = target.unsqueeze(-1) - pred  # (N, H, T, Q)
        return torch.maximum(self.quantiles * diff, (self.quantiles - 1) * diff).mean()


# How the learning rate moves over the run (RecurrentModule.configure_optimizers).
LR_SCHEDULES = ("constant", "cosine")

LOSSES = {"mse": nn.MSELoss, "mae": nn.L1Loss, "huber": nn.HuberLoss, "pinball": PinballLoss}
