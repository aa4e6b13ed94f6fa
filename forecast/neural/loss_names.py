"""The names of the losses and learning-rate schedules, and the checks of ``loss`` with
``quantiles``: what a forecaster's parameter checks read, without importing torch.

:mod:`forecast.neural.objectives` holds the losses themselves (torch modules) under these
names; a loaded model checks its parameters as ``fit`` does, and must not import torch to
do so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from forecast._exceptions import InvalidParameterError
from forecast._validation import check_levels, check_option

__all__ = [
    "LOSS_NAMES",
    "LR_SCHEDULES",
    "RELATIVE_LOSSES",
    "check_loss",
    "check_relative_loss",
    "resolve_loss",
]

# How the learning rate moves over the run (RecurrentModule.configure_optimizers).
LR_SCHEDULES = ("constant", "cosine")

# The losses by name (their modules: forecast.neural.objectives.LOSSES, in this order).
LOSS_NAMES = ("mse", "mae", "huber", "pinball", "mape", "smape")

# Losses on errors relative to the actual value: they read each window's loc / scale (the
# batch's "offset") to measure |y| without unscaling, and mean nothing on a log scale.
RELATIVE_LOSSES = ("mape", "smape")


def check_loss(owner: Any, loss: str | None, quantiles: Sequence[float] | None) -> None:
    """Check ``loss`` and ``quantiles`` together (scikit-learn's message template).

    ``owner`` is the estimator (or a name) the message speaks of.
    """
    name = owner if isinstance(owner, str) else type(owner).__name__
    check_option(owner, "loss", loss, (*LOSS_NAMES, None))
    if quantiles is None:
        if loss == "pinball":
            raise InvalidParameterError(
                f"The 'loss' parameter of {name} is 'pinball', which trains quantiles, but "
                "'quantiles' is None. Give the levels, e.g. quantiles=[0.1, 0.5, 0.9], or "
                "use another loss."
            )
        return
    check_levels(owner, "quantiles", quantiles, example="[0.1, 0.5, 0.9]")
    if loss not in (None, "pinball"):
        raise InvalidParameterError(
            f"The 'loss' parameter of {name} must be None or 'pinball' when 'quantiles' is "
            f"set (quantiles are trained with the pinball loss). Got {loss!r} instead."
        )


def check_relative_loss(owner: Any) -> None:
    """Refuse a relative loss (``"mape"``, ``"smape"``) on a log-like ``target_transform``.

    The network is trained on the transformed target: after ``"log"``, ``"log1p"`` or
    ``"boxcox"``, an error relative to the transformed value is not one relative to the
    series' value (and a log near 0 makes it unbounded). ``"deseasonalize"`` divides both
    the actual and the forecast by the same index, which leaves relative errors unchanged
    (or, for a series with a value ``<= 0``, subtracts the same component from both: the
    errors are relative to the adjusted value, as the notice for such a target says).
    """
    loss = getattr(owner, "loss", None)
    transform = getattr(owner, "target_transform", None)
    if loss in RELATIVE_LOSSES and transform in ("log", "log1p", "boxcox"):
        raise InvalidParameterError(
            f"loss={loss!r} measures errors relative to the series' values, but "
            f"target_transform={transform!r} trains the network on transformed values, "
            f"where they are not relative to the series'. Use target_transform=None or "
            f"'deseasonalize' with loss={loss!r}, or loss='mae' with {transform!r} "
            "(forecast.presets.panel_params sets loss='mape' for data without a season)."
        )


def resolve_loss(loss: str | None, quantiles: Sequence[float] | None) -> str:
    """The loss to train with: ``loss``, or by default "pinball" with quantiles, else "mse"."""
    if loss is not None:
        return loss
    return "pinball" if quantiles is not None else "mse"
