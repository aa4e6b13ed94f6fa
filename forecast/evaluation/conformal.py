"""Conformal prediction intervals for any point forecaster: the maths.

:meth:`forecast.BaseForecaster.fit` runs the calibration described here for every
forecaster (``forecast.forecasters._calibration.calibrate``); this module holds the
computations, on arrays and panels only.

``intervals="conformal"`` with ``coverage=[0.8, 0.95]`` on :class:`~forecast.RNNForecaster`
(and ``LSTMForecaster``, ``GRUForecaster``) or a baseline adds, around the point forecast
``y``, the quantile columns ``y_q0.025, y_q0.1, y_q0.9, y_q0.975``: coverage ``c`` gives the
levels ``(1 - c) / 2`` and ``(1 + c) / 2`` (see :mod:`forecast.data.output` for the naming).

**Method: split conformal on rolling-origin residuals, per horizon step.** At ``fit``:

1. Each series' last ``calibration_windows + horizon - 1`` rows are held out (the
   *calibration tail*); the model is fitted on the rest (the converted data cut before
   the tail), so its scaler, validation split and early stopping see nothing of the tail.
2. That model forecasts from ``calibration_windows`` origins one step apart at the start of
   the tail (the batched, no-refit path: each forecast reads only the history before its
   origin), so that every ``horizon`` step of every forecast falls in the tail. The model
   never saw these targets: no leakage.
3. Each forecast error becomes a score ``|y - ŷ| / s``, where ``s`` is the mean absolute
   one-step change of the series' history before the origin (MASE's scale; per target).
   Scores are **pooled over series** (and origins), separately for each step ``h`` and
   target: with ``n`` scores, the calibrated width of a ``c`` interval is the
   ``ceil((n + 1) c)``-th smallest score, i.e. the ``ceil((n + 1) c) / n`` empirical
   quantile (:func:`conformal_quantile`).
4. The model is refitted on all the data. Its forecast ``ŷ`` gets the interval
   ``ŷ ± q[h, c] · s``, with ``s`` from the history the forecast starts from.

**Why pooled and normalised.** Per-series quantiles would need ``c / (1 - c)`` origins per
series (19 for 95 %), which short series of a panel do not have; pooling raw errors would
give a series at level 1000 the width of one at level 1. Dividing by each history's own
scale lets one global set of quantiles serve series of any level, and reduces to plain
split conformal on a single series (``s`` then barely moves).

**Assumptions and approximations.**

* The guarantee ``P(y in interval) >= c`` holds if the scores of the calibration
  forecasts and of the future forecast are exchangeable: the error process is stationary
  over the tail and the horizon, after normalisation. Consecutive origins share most of
  their targets, so scores are dependent: the coverage is right on average, but a short
  tail gives a noisy width (the realised coverage of one calibration spreads by about
  ``sqrt(c (1 - c) / n)`` with ``n`` scores per step).
* The intervals are applied to the model refitted on all data, not to the model that made
  the calibration forecasts: exact split conformal would keep that model. The refit one
  has seen ``calibration_windows + horizon - 1`` more rows and is assumed no less
  accurate (its intervals then err on the wide side). Coverage is marginal (over origins
  and series), not conditional on a particular history.

Symbols: S series, N forecasts, H horizon, T targets, C coverage levels, n scores per step.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from forecast._exceptions import DataError
from forecast.data.panel import Panel
from forecast.data.ranges import range_sums

__all__ = [
    "DEFAULT_COVERAGE",
    "INTERVALS",
    "conformal_quantile",
    "coverage_levels",
    "coverage_list",
    "history_scale",
    "interval_bounds",
]

INTERVALS = (None, "conformal")
DEFAULT_COVERAGE = (0.8, 0.95)


def coverage_list(coverage: float | Sequence[float] | None) -> list[float]:
    """The coverage levels asked: ``coverage`` as a list, or :data:`DEFAULT_COVERAGE`."""
    if coverage is None:
        return list(DEFAULT_COVERAGE)
    if isinstance(coverage, int | float | np.number):
        return [float(coverage)]
    return [float(c) for c in coverage]


def coverage_levels(coverage: float | Sequence[float] | None) -> list[float]:
    """The quantile levels of the interval bounds, increasing: ``(1 - c) / 2``, ``(1 + c) / 2``.

    Examples
    --------
    >>> coverage_levels([0.8, 0.95])
    [0.025, 0.1, 0.9, 0.975]
    """
    levels = coverage_list(coverage)
    lower = [round((1 - c) / 2, 12) for c in reversed(levels)]
    upper = [round((1 + c) / 2, 12) for c in levels]
    return lower + upper


def history_scale(panel: Panel, series: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Mean absolute one-step change of each history, ``(N, T)``: the scores' scale ``s``.

    History ``i`` is series ``series[i]`` up to row ``ends[i]`` (exclusive) of ``panel``.
    One vectorised sum per history (no loop over them). A history of one row, or one that
    does not move at all (a constant series), gets ``s = 1`` (in the target's units), as the
    scalers of :mod:`forecast.data.scaling` do for a zero spread.
    """
    n_targets = len(panel.target_names)
    y = np.asarray(panel.values[:, :n_targets], dtype=np.float64)
    step = np.zeros_like(y)
    step[1:] = np.abs(np.diff(y, axis=0))
    step[panel.offsets[:-1]] = 0.0  # no change across the start of a series
    start = panel.offsets[series] + 1  # the first change inside each history
    count = (ends - start)[:, None]  # changes inside each history
    if np.isnan(step).any():  # missing="mask": the changes between observed neighbours
        seen = ~np.isnan(step)
        step = np.where(seen, step, 0.0)
        count = range_sums(seen.astype(np.float64), start, ends)
    total = range_sums(step, start, ends)
    mean = total / np.maximum(count, 1)
    # Only a history that does not move at all is a zero spread (as in the scalers): a
    # small one is the series' own scale, whatever its level.
    return np.where(mean > 0, mean, 1.0)


def conformal_quantile(scores: np.ndarray, coverage: Sequence[float]) -> np.ndarray:
    """The split-conformal quantile of ``scores`` ``(n, H, T)`` per step, target and level.

    For coverage ``c``, the ``k``-th smallest of the ``n`` scores with ``k = ceil((n + 1)
    c)``: the ``k / n`` empirical quantile, which covers a new exchangeable score with
    probability at least ``c`` (Vovk et al., 2005; Lei et al., 2018).

    Returns
    -------
    numpy.ndarray of shape (H, T, C)

    Raises
    ------
    DataError
        ``k > n`` (too few scores for that coverage: the interval would be infinite).

    Examples
    --------
    >>> import numpy as np
    >>> scores = np.arange(1.0, 20.0).reshape(19, 1, 1)  # 1, 2, ..., 19
    >>> conformal_quantile(scores, [0.5, 0.95])[0, 0].tolist()  # k = 10 and k = 19
    [10.0, 19.0]
    """
    if np.isnan(scores).any():
        return _observed_quantile(scores, coverage)
    n = scores.shape[0]
    ranks = [math.ceil((n + 1) * c - 1e-9) for c in coverage]
    if max(ranks) > n:
        c = max(coverage)
        raise DataError(
            f"A {c:g} conformal interval needs at least {math.ceil(c / (1 - c) - 1e-9)} "
            f"calibration forecasts per horizon step, but there are {n}. Raise "
            "calibration_windows (or use longer or more series), or lower coverage."
        )
    ordered = np.sort(scores, axis=0)  # (n, H, T)
    return np.stack([ordered[k - 1] for k in ranks], axis=-1)


def _observed_quantile(scores: np.ndarray, coverage: Sequence[float]) -> np.ndarray:
    """:func:`conformal_quantile` over the scores that exist (missing actuals are NaN).

    Each step and target has its own ``n``: the calibration forecasts whose actual was
    observed (``missing="mask"``).
    """
    seen = ~np.isnan(scores)
    n = seen.sum(axis=0)  # (H, T)
    ordered = np.sort(np.where(seen, scores, np.inf), axis=0)  # missing ones last
    out = []
    for c in coverage:
        k = np.ceil((n + 1) * c - 1e-9).astype(np.int64)  # (H, T)
        if (k > n).any():
            need = math.ceil(c / (1 - c) - 1e-9)
            raise DataError(
                f"A {c:g} conformal interval needs at least {need} calibration forecasts per "
                f"horizon step with an observed actual, but a step has {int(n.min())} (the "
                "others' actuals are missing). Raise calibration_windows, or lower coverage."
            )
        out.append(np.take_along_axis(ordered, np.maximum(k - 1, 0)[None], axis=0)[0])
    return np.stack(out, axis=-1)


def interval_bounds(point: np.ndarray, quantiles: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Conformal bounds ``(N, H, T, 2C)`` at increasing levels around ``point`` ``(N, H, T)``.

    ``quantiles`` ``(H', T, C)`` are the calibrated half-widths in units of each forecast's
    history scale ``scale`` ``(N, T)`` (:func:`history_scale`); only the first ``H`` steps
    are used.
    """
    half = quantiles[None, : point.shape[1]] * scale[:, None, :, None]  # (N, H, T, C)
    return np.concatenate(
        [point[..., None] - half[..., ::-1], point[..., None] + half], axis=-1
    )  # (N, H, T, 2C): bounds at increasing levels
