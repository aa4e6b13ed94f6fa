"""What the module optimises: the losses and the learning-rate schedules, by name.

Plain ``torch``, no Lightning: the estimators' parameter checks read the names here without
importing the LightningModule. Quantiles are trained with the pinball loss, and the pinball
loss needs quantiles: :func:`check_loss` and :func:`resolve_loss` hold that rule.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

# The names (and their checks) are torch-free: a loaded model checks its parameters
# without importing torch. Named here too.
from forecast.neural.loss_names import LOSS_NAMES, LR_SCHEDULES, check_loss, resolve_loss

__all__ = [
    "LOSSES",
    "LOSS_NAMES",
    "LR_SCHEDULES",
    "PinballLoss",
    "check_loss",
    "masked_loss",
    "resolve_loss",
]


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
        return self.elementwise(pred, target).mean()

    def elementwise(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The loss of each prediction, (N, H, T, Q)."""
        diff = target.unsqueeze(-1) - pred  # (N, H, T, Q)
        return torch.maximum(self.quantiles * diff, (self.quantiles - 1) * diff)


def masked_loss(
    loss_fn: nn.Module, pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """``loss_fn``'s mean over the observed targets only (``missing="mask"``).

    ``mask`` (N, H, T) is 1 where the target was observed, 0 where it was missing (and
    ``target`` holds an imputed value): those terms are replaced by 0 before the sum (not
    multiplied by 0, so that no value there, not even an infinite one, reaches the loss or
    its gradient), and the sum is divided by the count of observed terms. A quantile
    network's terms are averaged over its levels first.
    """
    observed = mask > 0
    if isinstance(loss_fn, PinballLoss):
        terms = loss_fn.elementwise(pred, target).mean(dim=-1)  # (N, H, T)
    elif isinstance(loss_fn, nn.HuberLoss):
        terms = nn.functional.huber_loss(pred, target, reduction="none", delta=loss_fn.delta)
    elif isinstance(loss_fn, nn.L1Loss):
        terms = nn.functional.l1_loss(pred, target, reduction="none")
    elif isinstance(loss_fn, nn.MSELoss):
        terms = nn.functional.mse_loss(pred, target, reduction="none")
    else:
        raise TypeError(f"no masked form of {type(loss_fn).__name__}")
    terms = torch.where(observed, terms, torch.zeros((), dtype=terms.dtype))
    return terms.sum() / observed.sum().clamp_min(1)


LOSSES = {"mse": nn.MSELoss, "mae": nn.L1Loss, "huber": nn.HuberLoss, "pinball": PinballLoss}
