"""Quantile regression in ``RNNForecaster``: its parameters, trained levels and output split.

* ``quantiles=[...]`` makes the network emit every level for every step and target at once
  (``(N, H, T, Q)``, non-decreasing along Q by :func:`forecast.nn.monotone_quantiles`),
  trained with the pinball loss (:class:`forecast.module.PinballLoss`).
* The network is trained on the user's levels **plus 0.5** when it is not listed: the point
  column of ``predict`` is always the median, and a quantile column is written only for the
  levels the user listed (:func:`network_levels`, :func:`split_output`).
* Scaling is undone by ``y * scale + loc`` with ``scale > 0`` (see :mod:`forecast.scaling`):
  an increasing map, so quantiles stay ordered in original units.

Symbols: N forecasts, H horizon, T targets, Q levels the network emits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from forecast._exceptions import InvalidParameterError
from forecast._validation import check_levels, check_option
from forecast.module import LOSSES

__all__ = ["check_quantile_params", "network_levels", "resolve_loss", "split_output"]

MEDIAN = 0.5


def check_quantile_params(estimator: Any) -> None:
    """Check ``loss`` and ``quantiles`` together (scikit-learn's message template)."""
    name = type(estimator).__name__
    check_option(estimator, "loss", estimator.loss, (*LOSSES, None))
    if estimator.quantiles is None:
        if estimator.loss == "pinball":
            raise InvalidParameterError(
                f"The 'loss' parameter of {name} is 'pinball', which trains quantiles, but "
                "'quantiles' is None. Give the levels, e.g. quantiles=[0.1, 0.5, 0.9], or "
                "use another loss."
            )
        return
    check_levels(estimator, "quantiles", estimator.quantiles, example="[0.1, 0.5, 0.9]")
    if estimator.loss not in (None, "pinball"):
        raise InvalidParameterError(
            f"The 'loss' parameter of {name} must be None or 'pinball' when 'quantiles' is "
            f"set (quantiles are trained with the pinball loss). Got {estimator.loss!r} "
            "instead."
        )


def resolve_loss(estimator: Any) -> str:
    """The loss to train with: ``loss``, or by default "pinball" with quantiles, else "mse"."""
    if estimator.loss is not None:
        return estimator.loss
    return "pinball" if estimator.quantiles is not None else "mse"


def network_levels(levels: Sequence[float] | None) -> list[float]:
    """The levels the network is trained on: ``levels`` plus 0.5, increasing (``[]``: none)."""
    if not levels:
        return []
    return sorted({float(q) for q in levels} | {MEDIAN})


def split_output(raw: np.ndarray, levels: Sequence[float]) -> tuple[np.ndarray, np.ndarray | None]:
    """A network output in original units as the point forecast and the listed quantiles.

    Parameters
    ----------
    raw : numpy.ndarray of shape (N, H, T) or (N, H, T, Q)
        ``Q = len(network_levels(levels))`` levels when 4-D.
    levels : sequence of float
        The quantile levels of the output columns (the user's ``quantiles``).

    Returns
    -------
    point : numpy.ndarray of shape (N, H, T)
        The median of a quantile network, else ``raw``.
    quantiles : numpy.ndarray of shape (N, H, T, len(levels)) or None
    """
    if raw.ndim == 3:
        return raw, None
    trained = network_levels(levels)
    if len(trained) != raw.shape[-1]:
        raise ValueError(
            f"The network emits {raw.shape[-1]} quantiles, but the model lists {len(trained)} "
            f"({trained}): the fitted state is inconsistent."
        )
    columns = [trained.index(float(q)) for q in levels]
    return raw[..., trained.index(MEDIAN)], raw[..., columns]
