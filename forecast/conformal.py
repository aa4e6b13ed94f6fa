"""Conformal prediction intervals for any point forecaster: ours and the baselines.

``intervals="conformal"`` with ``coverage=[0.8, 0.95]`` on :class:`~forecast.RNNForecaster`
(and ``LSTMForecaster``, ``GRUForecaster``) or a baseline adds, around the point forecast
``y``, the quantile columns ``y_q0.025, y_q0.1, y_q0.9, y_q0.975``: coverage ``c`` gives the
levels ``(1 - c) / 2`` and ``(1 + c) / 2`` (see :mod:`forecast._output` for the naming).

**Method: split conformal on rolling-origin residuals, per horizon step.** At ``fit``:

1. Each series' last ``calibration_windows + horizon - 1`` rows are held out (the
   *calibration tail*); a copy of the model is fitted on the rest, the user's own frame
   truncated, so its scaler, validation split and early stopping see nothing of the tail.
2. That model forecasts from ``calibration_windows`` origins one step apart at the start of
   the tail (the batched, no-refit path ``_forecast_at``: each forecast reads only the
   history before its origin), so that every ``horizon`` step of every forecast falls in
   the tail. The model never saw these targets: no leakage.
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
from typing import Any

import numpy as np
import pandas as pd

from forecast._evaluation import Folds, history_frame
from forecast._exceptions import DataError, InvalidParameterError
from forecast._validation import check_int, check_levels, check_option
from forecast.data import Panel, to_panel

__all__ = [
    "DEFAULT_COVERAGE",
    "INTERVALS",
    "check_interval_params",
    "conformal_quantile",
    "coverage_levels",
    "fit_with_intervals",
    "fitted_arrays",
    "fitted_metadata",
    "history_scale",
    "intervals_at",
    "restore_fitted",
]

INTERVALS = (None, "conformal")
DEFAULT_COVERAGE = (0.8, 0.95)
_STATE = ("conformal_quantiles_", "conformal_scale_", "n_calibration_")


# ------------------------------------------------------------------------------ parameters


def check_interval_params(estimator: Any) -> None:
    """Check ``intervals``, ``coverage`` and ``calibration_windows`` (and ``quantiles``)."""
    name = type(estimator).__name__
    check_option(estimator, "intervals", estimator.intervals, INTERVALS)
    check_int(estimator, "calibration_windows", estimator.calibration_windows, low=1)
    if estimator.coverage is not None:
        check_levels(estimator, "coverage", estimator.coverage, example="[0.8, 0.95]", scalar=True)
        if estimator.intervals is None:
            raise InvalidParameterError(
                f"The 'coverage' parameter of {name} only applies to intervals='conformal'. "
                f"Got coverage={estimator.coverage!r} with intervals=None; set "
                "intervals='conformal' or leave coverage out."
            )
    if estimator.intervals is not None and getattr(estimator, "quantiles", None) is not None:
        raise InvalidParameterError(
            f"The 'intervals' parameter of {name} cannot be combined with 'quantiles': a "
            "quantile model's intervals are its own quantile columns. Use quantiles=[...] or "
            "intervals='conformal', not both."
        )


def _coverage_list(coverage: float | Sequence[float] | None) -> list[float]:
    if coverage is None:
        return list(DEFAULT_COVERAGE)
    return [float(coverage)] if np.isscalar(coverage) else [float(c) for c in coverage]


def coverage_levels(coverage: float | Sequence[float] | None) -> list[float]:
    """The quantile levels of the interval bounds, increasing: ``(1 - c) / 2``, ``(1 + c) / 2``.

    Examples
    --------
    >>> coverage_levels([0.8, 0.95])
    [0.025, 0.1, 0.9, 0.975]
    """
    levels = _coverage_list(coverage)
    lower = [round((1 - c) / 2, 12) for c in reversed(levels)]
    upper = [round((1 + c) / 2, 12) for c in levels]
    return lower + upper


# ------------------------------------------------------------------------------ calibration


def history_scale(panel: Panel, series: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Mean absolute one-step change of each history, ``(N, T)``: the scores' scale ``s``.

    History ``i`` is series ``series[i]`` up to row ``ends[i]`` (exclusive) of ``panel``.
    One pass of prefix sums, however many histories. A history of one row, or one that
    does not move (a constant series), gets ``s = 1`` (in the target's units), as the
    scalers of :mod:`forecast.scaling` do for a zero spread.
    """
    n_targets = len(panel.target_names)
    y = np.asarray(panel.values[:, :n_targets], dtype=np.float64)
    step = np.zeros_like(y)
    step[1:] = np.abs(np.diff(y, axis=0))
    step[panel.offsets[:-1]] = 0.0  # no change across the start of a series
    prefix = np.concatenate([np.zeros((1, n_targets)), np.cumsum(step, axis=0)])
    start = panel.offsets[series]
    count = (ends - start - 1)[:, None]  # changes inside each history
    total = prefix[ends] - prefix[np.minimum(start + 1, ends)]
    mean = total / np.maximum(count, 1)
    tiny = np.finfo(np.float32).eps * np.maximum(np.abs(y[ends - 1]), 1.0)
    return np.where((count >= 1) & (mean > tiny), mean, 1.0)


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


def fit_with_intervals(estimator: Any, df: pd.DataFrame) -> Any:
    """``estimator.fit(df)``: ``_fit_point`` once, or calibrate then refit (see the module).

    Sets ``quantile_levels_`` on every estimator, and with ``intervals="conformal"`` also
    ``conformal_quantiles_`` (H, T, C), ``conformal_scale_`` (S, T) and ``n_calibration_``.
    """
    for attr in _STATE:
        estimator.__dict__.pop(attr, None)  # a refit must not use the previous calibration
    if estimator.intervals is None:
        estimator._fit_point(df)
        estimator.quantile_levels_ = [float(q) for q in getattr(estimator, "quantiles", None) or []]
        return estimator
    coverage = _coverage_list(estimator.coverage)
    panel, _ = to_panel(
        df,
        target=estimator.target,
        id_col=estimator.id_col,
        time_col=estimator.time_col,
        freq=estimator.freq,
        future=getattr(estimator, "future_covariates", None),
        static=getattr(estimator, "static_covariates", None),
        dtype=np.float64,
    )
    horizon, windows = estimator.horizon, estimator.calibration_windows
    tail = windows + horizon - 1
    short = np.flatnonzero(panel.lengths <= tail)
    if short.size:
        shown = ", ".join(f"{panel.series_label(i)} has {panel.lengths[i]}" for i in short[:10])
        raise DataError(
            f"Too few rows for conformal calibration: {shown} row(s), but the calibration "
            f"tail holds out calibration_windows + horizon - 1 = {tail} rows of each series, "
            "and the calibration model needs rows before it. Use a smaller "
            "calibration_windows, or longer series."
        )
    first = panel.lengths - tail  # position of the first origin's end in each series
    head = Folds(starts=np.zeros((1, panel.n_series), dtype=np.int64), ends=first[None], horizon=0)
    try:
        estimator._fit_point(history_frame(df, panel, head, 0))
    except DataError as exc:
        raise DataError(
            f"{exc} (This is the conformal calibration model, fitted on each series without "
            f"its last calibration_windows + horizon - 1 = {tail} rows; a smaller "
            "calibration_windows leaves it more.)"
        ) from exc
    full = panel
    kept = _positions(panel, estimator.series_ids_)  # drop_short may leave some series out
    if kept.size < panel.n_series:
        panel, first = panel.subset(kept), first[kept]
    series = np.repeat(np.arange(panel.n_series), windows)
    ends = (panel.offsets[:-1] + first)[series] + np.tile(np.arange(windows), panel.n_series)
    forecast = estimator._forecast_at(panel, series, ends)[:, :horizon]  # (N, H, T)
    n_targets = len(panel.target_names)
    actual = panel.values[ends[:, None] + np.arange(horizon), :n_targets]  # (N, H, T)
    scale = history_scale(panel, series, ends)  # (N, T)
    quantiles = conformal_quantile(np.abs(actual - forecast) / scale[:, None, :], coverage)

    estimator._fit_point(df)  # the final model sees everything (see the module docstring)
    fitted = _positions(full, estimator.series_ids_)
    estimator.conformal_quantiles_ = quantiles
    estimator.conformal_scale_ = history_scale(full, fitted, full.offsets[fitted + 1])
    estimator.n_calibration_ = len(series)
    estimator.quantile_levels_ = coverage_levels(coverage)
    return estimator


def _positions(panel: Panel, ids: list) -> np.ndarray:
    """Positions in ``panel`` of the series ``ids``."""
    where = {sid: i for i, sid in enumerate(panel.ids)}
    return np.array([where[sid] for sid in ids], dtype=np.int64)


# ------------------------------------------------------------------------------ forecasting


def intervals_at(
    estimator: Any,
    point: np.ndarray,
    panel: Panel | None = None,
    series: np.ndarray | None = None,
    ends: np.ndarray | None = None,
) -> np.ndarray | None:
    """Conformal bounds ``(N, H, T, 2C)`` around ``point`` ``(N, H, T)``, or None if uncalibrated.

    The bounds are at ``estimator.quantile_levels_`` (increasing). Without ``panel`` the
    forecasts start at the end of each fitted series (``predict()``); else forecast ``i``
    starts after row ``ends[i]`` of series ``series[i]`` of ``panel``.
    """
    quantiles = getattr(estimator, "conformal_quantiles_", None)
    if quantiles is None:
        return None
    # (N, T): of the fitted series' full histories, or of each history in panel
    scale = estimator.conformal_scale_ if panel is None else history_scale(panel, series, ends)
    half = quantiles[None, : point.shape[1]] * scale[:, None, :, None]  # (N, H, T, C)
    return np.concatenate(
        [point[..., None] - half[..., ::-1], point[..., None] + half], axis=-1
    )  # (N, H, T, 2C): bounds at increasing levels


# ------------------------------------------------------------------------------ saved state


def fitted_arrays(estimator: Any) -> dict[str, np.ndarray]:
    """The calibration state as arrays (empty without intervals), for persistence."""
    if getattr(estimator, "conformal_quantiles_", None) is None:
        return {}
    return {
        "conformal.quantiles": estimator.conformal_quantiles_,
        "conformal.scale": estimator.conformal_scale_,
    }


def fitted_metadata(estimator: Any) -> dict[str, Any]:
    """The calibration state that is not an array (JSON-ready)."""
    if getattr(estimator, "conformal_quantiles_", None) is None:
        return {}
    return {"n_calibration": estimator.n_calibration_}


def restore_fitted(
    estimator: Any, arrays: dict[str, np.ndarray], metadata: dict[str, Any] | None
) -> None:
    """Inverse of :func:`fitted_arrays` and :func:`fitted_metadata`."""
    if "conformal.quantiles" not in arrays:
        return
    estimator.conformal_quantiles_ = np.asarray(arrays["conformal.quantiles"], dtype=np.float64)
    estimator.conformal_scale_ = np.asarray(arrays["conformal.scale"], dtype=np.float64)
    estimator.n_calibration_ = int((metadata or {}).get("n_calibration", 0))
