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
from forecast.neural.loss_names import (
    LOSS_NAMES,
    LR_SCHEDULES,
    RELATIVE_LOSSES,
    check_loss,
    resolve_loss,
)

__all__ = [
    "LOSSES",
    "LOSS_NAMES",
    "LR_SCHEDULES",
    "RELATIVE_LOSSES",
    "MAPELoss",
    "PinballLoss",
    "RelativeLoss",
    "SMAPELoss",
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


class RelativeLoss(nn.Module):
    """A loss on errors relative to the actual value, computed from scaled values.

    A window scaled as ``z = (y - loc) / scale`` has ``y / scale = z + loc / scale``: relative
    errors need no unscaling, since ``|y - ŷ| / |y| = |z - ẑ| / |z + loc / scale|``. The
    batch's ``offset`` (N, 2, T) holds, per window and target, ``loc / scale`` (row 0; 1
    for a positive window under ``"window_level"``) and the input rows' level, their mean
    absolute value, in units of the scale (row 1;
    :func:`~forecast.data.scaling.relative_offsets`). The actual's size is floored at
    :attr:`FLOOR` times that level: a zero or near-zero actual then weighs as a tenth of
    its window's level would, instead of dominating the batch, and the floor is the same
    in the series' units whatever the scaler.

    Subclasses give :meth:`elementwise`; the loss is its mean, a fraction (not percent).
    """

    FLOOR = 0.1

    def forward(
        self, pred: torch.Tensor, target: torch.Tensor, offset: torch.Tensor
    ) -> torch.Tensor:
        """``pred`` and ``target`` (N, H, T), ``offset`` (N, 2, T): a scalar."""
        return self.elementwise(pred, target, offset).mean()

    def elementwise(
        self, pred: torch.Tensor, target: torch.Tensor, offset: torch.Tensor
    ) -> torch.Tensor:
        """The loss of each prediction, (N, H, T)."""
        raise NotImplementedError

    def actual_size(self, target: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
        """``|y| / scale``, floored at :attr:`FLOOR` times the input level."""
        return torch.maximum((target + offset[:, :1]).abs(), self.FLOOR * offset[:, 1:2])


class MAPELoss(RelativeLoss):
    """Mean absolute percentage error, ``|y - ŷ| / |y|`` (a fraction).

    Its minimiser is below the median of ``y`` (a low forecast is penalised by at most 1,
    a high one without bound): trained on it, a network's forecasts are lower than with
    ``"mae"``, and its MAPE lower.

    Examples
    --------
    >>> import torch
    >>> y, pred = torch.tensor([[[1.0]]]), torch.tensor([[[0.5]]])  # scaled: y = 2 * scale
    >>> offset = torch.ones(1, 2, 1)  # centre and level 1 (window_level, a positive window)
    >>> float(MAPELoss()(pred, y, offset))  # |1.5 - 2| / 2
    0.25
    """

    def elementwise(
        self, pred: torch.Tensor, target: torch.Tensor, offset: torch.Tensor
    ) -> torch.Tensor:
        return (pred - target).abs() / self.actual_size(target, offset)


class SMAPELoss(RelativeLoss):
    """Symmetric MAPE as in M3, ``2 |y - ŷ| / (|y| + |ŷ|)`` (a fraction, in [0, 2]).

    Examples
    --------
    >>> import torch
    >>> y, pred = torch.tensor([[[1.0]]]), torch.tensor([[[0.0]]])  # scaled: y = 2, ŷ = 1
    >>> round(float(SMAPELoss()(pred, y, torch.ones(1, 2, 1))), 6)  # 2 * 1 / 3
    0.666667
    """

    def elementwise(
        self, pred: torch.Tensor, target: torch.Tensor, offset: torch.Tensor
    ) -> torch.Tensor:
        both = self.actual_size(target, offset) + (pred + offset[:, :1]).abs()
        return 2.0 * (pred - target).abs() / both


def masked_loss(
    loss_fn: nn.Module,
    pred: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor,
    offset: torch.Tensor | None = None,
) -> torch.Tensor:
    """``loss_fn``'s mean over the observed targets only (``missing="mask"``).

    ``mask`` (N, H, T) is 1 where the target was observed, 0 where it was missing (and
    ``target`` holds an imputed value): those terms are replaced by 0 before the sum (not
    multiplied by 0, so that no value there, not even an infinite one, reaches the loss or
    its gradient), and the sum is divided by the count of observed terms. A quantile
    network's terms are averaged over its levels first. A :class:`RelativeLoss` needs the
    batch's ``offset``.
    """
    observed = mask > 0
    if isinstance(loss_fn, RelativeLoss):
        if offset is None:
            raise TypeError(f"{type(loss_fn).__name__} needs the batch's offset")
        terms = loss_fn.elementwise(pred, target, offset)
    elif isinstance(loss_fn, PinballLoss):
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


LOSSES = {
    "mse": nn.MSELoss,
    "mae": nn.L1Loss,
    "huber": nn.HuberLoss,
    "pinball": PinballLoss,
    "mape": MAPELoss,
    "smape": SMAPELoss,
}
