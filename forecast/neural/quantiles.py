"""Quantile networks: the levels a network is trained on, and its output split in two.

* ``quantiles=[...]`` makes the network emit every level for every step and target at once
  (``(N, H, T, Q)``, non-decreasing along Q by :func:`forecast.neural.network.monotone_quantiles`),
  trained with the pinball loss (:class:`forecast.neural.objectives.PinballLoss`).
* The network is trained on the user's levels **plus 0.5** when it is not listed: the point
  column of ``predict`` is always the median, and a quantile column is written only for the
  levels the user listed (:func:`network_levels`, :func:`split_output`).
* Scaling is undone by ``y * scale + loc`` with ``scale > 0`` (see :mod:`forecast.data.scaling`):
  an increasing map, so quantiles stay ordered in original units.

Symbols: N forecasts, H horizon, T targets, Q levels the network emits.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["MEDIAN", "network_levels", "split_output"]

MEDIAN = 0.5


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
