"""The optimised Theta method: the weight of the trend fitted per series, not fixed at 2.

The dynamic optimised Theta method of Fiorucci, Pellegrini, Louzada, Petropoulos & Koehler
(2016), "Models for optimising the theta method and their relationship to state space
models" (statsforecast's ``DynamicOptimizedTheta``), in the form this library's local models
share (:mod:`forecast.forecasters._local_smoothing`). Per series and target, from the history
before every forecast origin:

1. with ``season_length >= 2``, the history is de-seasonalised exactly as
   :class:`~forecast.ThetaForecaster` does it
   (:func:`forecast.forecasters._local_smoothing.normalised`);
2. the model, over the observed values ``y[0], y[1], ...`` (``i`` counts them; a missing
   value is skipped, the values around it read as neighbours): the least-squares line
   through ``y[0..i]`` on the times ``1..i+1``, its intercept ``A[i]`` and slope ``B[i]``
   updated as each value arrives; a level smoothed with coefficient ``alpha``,
   ``l[i] = alpha · y[i] + (1 - alpha) · l[i-1]``, started from a level ``l*`` one step
   before the first value; and the one-step forecast::

       ŷ[i] = l[i-1] + (1 - 1/theta) · (A[i-1] · (1 - alpha)^i
                                        + B[i-1] · (1 - (1 - alpha)^(i+1)) / alpha)

   ``theta = 2`` is the classical Theta method (half the trend, a dynamic version of
   :class:`~forecast.ThetaForecaster`); a larger ``theta`` follows more of the trend, 1
   none of it;
3. ``alpha``, ``theta >= 1`` and ``l*`` minimise the sum of squared one-step errors from the
   fourth value on (the second's and third's lines rest on one and two points). ``l*`` and
   ``c = 1 - 1/theta`` enter the errors linearly, because the line and the smoothed values
   come from the observations alone: at each ``alpha`` of :data:`ALPHAS` both are solved
   exactly (normal equations of two unknowns, ``c`` kept in ``[0, 1]``), so a grid over
   ``alpha`` finds the global minimum to its step, with no numerical optimiser (which is
   what statsforecast runs, per series, and where it stops short of the minimum: on M3
   yearly this fit is closer on every series where they differ most, yet statsforecast's
   forecasts score better there, 15.79 against 16.04 sMAPE; an exact fit of three
   unknowns to a short series is not the better forecast);
4. the forecasts continue step 2 with each forecast in place of the value it forecasts (the
   line and the level move with them: the "dynamic" model), and are multiplied back by the
   seasonal indices of their steps. A history that ends in missing values is forecast from
   its cutoff, its last row: the forecasts run on over the missing steps first, so step
   ``h`` is the one ``gap + h`` steps after the last observation. A history with fewer
   than :data:`MIN_VALUES` observed values gets the classical Theta method
   (:class:`~forecast.ThetaForecaster`'s forecast, reported as ``theta = 2``).

Why it is here: on data without a season, where the trend carries the forecast, Theta's
fixed ``theta = 2`` halves every trend, and fitting it is the better Theta. On M3 "other"
this model's sMAPE / MASE alone is 4.53 / 1.916 against the classical method's 4.92 / 2.271,
on M3 yearly 16.04 / 2.609 against 16.76 / 2.772; and in place of Theta in
:func:`forecast.presets.panel_forecaster` without a season it makes the combination better
on all four data sets without a season of M3, M1 and Tourism by sMAPE and MASE
(``benchmarks/RESULTS.md``, issue 22, update 8). With a season it is not: the combination is
worse on the quarterly sets, so ``panel_forecaster`` keeps the classical Theta there.

Symbols: N forecast origins, L the longest history, H horizon, G the values of ``alpha``.
"""

from __future__ import annotations

import numpy as np

from forecast.forecasters._local_smoothing import (
    _LocalSmoothingForecaster,
    normalised,
    trailing_gaps,
)
from forecast.forecasters.theta import adjusted_theta_forecasts

__all__ = ["ALPHAS", "MIN_VALUES", "OptimisedThetaForecaster", "optimised_theta_forecasts"]

#: The smoothing coefficients searched: statsforecast's bounds, in steps of 0.01.
ALPHAS = np.round(np.arange(0.10, 0.995, 0.01), 2)
#: Errors are summed from the value of this index on (the fourth): the lines before the
#: earlier ones rest on one or two points.
_FIRST_ERROR = 3
#: Histories with fewer observed values than this get the classical Theta method: the fit
#: needs three errors for its three unknowns.
MIN_VALUES = _FIRST_ERROR + 3
_GRID_CELLS = 2_000_000  # histories are searched in blocks of at most (N x G) this many
_SUMS = ("rr", "rw", "rd", "ww", "wd", "dd")


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a / b`` where ``b > 0``, else 0."""
    return np.divide(a, b, out=np.zeros(np.broadcast_shapes(a.shape, b.shape)), where=b > 0)


def _next_line(
    i: np.ndarray, y: np.ndarray, mean: np.ndarray, slope: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The line's mean, intercept and slope once ``y``, the value of index ``i >= 1``, joins
    the ``i`` before it (times ``1..i+1``)."""
    slope = ((i - 1.0) * slope + 6.0 * (y - mean) / (i + 1.0)) / (i + 2.0)
    mean = (i * mean + y) / (i + 1.0)
    return mean, mean - slope * (i + 2.0) / 2.0, slope


def _trend_term(
    intercept: np.ndarray, slope: np.ndarray, w: np.ndarray, alpha: np.ndarray
) -> np.ndarray:
    """What ``c = 1 - 1/theta`` multiplies in the forecast of the value of index ``i``, with
    ``w = (1 - alpha)^i``: the line's intercept and slope smoothed as the level is, ``A w +
    B (1 - (1 - alpha) w) / alpha``."""
    return intercept * w + slope * (1.0 - (1.0 - alpha) * w) / alpha


def _lines(x: np.ndarray, seen: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per step ``(N, L)``: each row's count of observed values before it, and the line's
    intercept and slope through them (what the one-step forecast at that step reads), with
    the final mean, intercept and slope ``(N,)``.

    The line through ``y[0..i]`` on times ``1..i+1``, updated one value at a time
    (:func:`_next_line`); with one value it is flat through it.
    """
    n_rows, width = x.shape
    count = np.zeros(n_rows)
    mean, intercept, slope = np.zeros(n_rows), np.zeros(n_rows), np.zeros(n_rows)
    counts, intercepts, slopes = (np.zeros((n_rows, width)) for _ in range(3))
    for t in range(width):
        counts[:, t], intercepts[:, t], slopes[:, t] = count, intercept, slope
        y = x[:, t]
        first = seen[:, t] & (count == 0)
        later = seen[:, t] & (count > 0)
        i = np.maximum(count, 1.0)  # the index of this value where it is a later one
        moved = _next_line(i, y, mean, slope)
        mean = np.where(later, moved[0], np.where(first, y, mean))
        intercept = np.where(later, moved[1], np.where(first, y, intercept))
        slope = np.where(later, moved[2], slope)
        count = count + seen[:, t]
    return counts, intercepts, slopes, mean, intercept, slope


def _cross_products(
    x: np.ndarray, seen: np.ndarray, lines: tuple[np.ndarray, ...], alphas: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """At every ``alpha`` ``(G,)``, the sums of products ``(N, G)`` of the three parts of each
    one-step error, ``e = r - w · s - c · d``, and the last level ``(N, G)`` without ``s``'s
    share.

    ``s = l* - y[0]`` is the starting level's offset from the first value: the level is
    smoothed from that value (its first state is ``y[0] + (1 - alpha) · s``), so ``r``, the
    value less that level, is of the size of the errors, and the sums of its products keep
    their precision. ``w = (1 - alpha)^i`` is ``s``'s weight in the level ``ŷ[i]`` reads and
    ``d`` the trend term ``c = 1 - 1/theta`` multiplies.
    """
    counts, intercepts, slopes = lines[:3]
    alpha = alphas[None, :]
    decay = 1.0 - alpha
    level = np.zeros((len(x), len(alphas)))
    sums = {name: np.zeros_like(level) for name in _SUMS}
    for t in range(x.shape[1]):
        observed = seen[:, t, None]
        if not observed.any():
            continue
        i = counts[:, t, None]
        used = np.broadcast_to(observed & (i >= _FIRST_ERROR), level.shape)
        y = x[:, t, None]
        w = decay**i
        d = _trend_term(intercepts[:, t, None], slopes[:, t, None], w, alpha)
        r = y - level
        # One product at a time, added where an error counts: bounded temporaries.
        for name, (a, b) in zip(
            _SUMS, ((r, r), (r, w), (r, d), (w, w), (w, d), (d, d)), strict=True
        ):
            np.add(sums[name], a * b, out=sums[name], where=used)
        smoothed = np.where(i > 0, alpha * y + decay * level, y)  # the first value starts it
        level = np.where(observed, smoothed, level)
    return sums, level


def _solved(sums: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``s``, ``c`` and the sum of squared errors ``(N, G)`` minimising it with ``c`` in
    ``[0, 1]``.

    The free solution of the normal equations, with ``c`` clipped and ``s`` solved for it
    where it leaves ``[0, 1]`` (the sum is a convex quadratic, so its minimum over ``c``'s
    interval is the clipped one). Where the two columns are parallel to rounding (a flat
    line, whose trend term is a multiple of ``s``'s weight, or ``s``'s weight decayed to
    nothing) the unknowns cannot be told apart: each is fitted alone, and the better kept,
    ``c = 0`` (``theta = 1``, no trend) on a tie, as every split forecasts the same.
    """
    rr, rw, rd, ww, wd, dd = (sums[name] for name in _SUMS)

    def total(shift: np.ndarray, c: np.ndarray) -> np.ndarray:
        return (
            rr - 2 * shift * rw - 2 * c * rd + shift * shift * ww + 2 * shift * c * wd + c * c * dd
        )

    det = ww * dd - wd * wd
    distinct = det > 1e-10 * ww * dd
    c_free = (rd * ww - rw * wd) / np.where(distinct, det, 1.0)
    c = np.clip(c_free, 0.0, 1.0)
    shift = _ratio(rw - c * wd, ww)
    # Not distinct: s alone (c = 0), or c alone (s = 0).
    shift_alone = _ratio(rw, ww)
    c_alone = np.clip(_ratio(rd, dd), 0.0, 1.0)
    zero = np.zeros_like(rr)
    by_shift, by_c = total(shift_alone, zero), total(zero, c_alone)
    take_c = ~distinct & (by_c < by_shift - 1e-12 * np.abs(rr))
    shift = np.where(distinct, shift, np.where(take_c, 0.0, shift_alone))
    c = np.where(distinct, c, np.where(take_c, c_alone, 0.0))
    return shift, c, total(shift, c)


def _dynamic_forecasts(
    level: np.ndarray,
    lines: tuple[np.ndarray, ...],
    n_seen: np.ndarray,
    alpha: np.ndarray,
    c: np.ndarray,
    horizon: int,
    gap: np.ndarray,
) -> np.ndarray:
    """Forecasts ``(N, H)``: step 2's one-step forecast, each taken as the next value.

    A row whose history ends ``gap`` ``(N,)`` steps after its last observation is forecast
    from that end: its forecasts run on over the gap, and the ``H`` after it are kept.
    """
    mean, intercept, slope = lines[3:]
    out = np.empty((len(level), int(gap.max(initial=0)) + horizon))
    decay = 1.0 - alpha
    for k in range(out.shape[1]):
        i = n_seen + k  # the index of the value forecast
        y = level + c * _trend_term(intercept, slope, decay**i, alpha)
        out[:, k] = y
        level = alpha * y + decay * level
        mean, intercept, slope = _next_line(i, y, mean, slope)
    return np.take_along_axis(out, gap[:, None] + np.arange(horizon), axis=1)


def optimised_theta_forecasts(
    histories: np.ndarray,
    seen: np.ndarray,
    horizon: int,
    season_length: int = 1,
    additive: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Forecasts ``(N, H)`` and the fitted ``(alpha, theta)`` ``(N, 2)`` of ``N`` histories.

    Parameters
    ----------
    histories : numpy.ndarray of shape (N, L)
        One history per row, right-aligned; what lies before a row's start, or is missing,
        is marked False in ``seen``.
    seen : numpy.ndarray of bool, shape (N, L)
        Where a row holds an observed value; at least two per row.
    horizon : int
    season_length : int, default 1
        ``m``; below 2, nothing is de-seasonalised.
    additive : bool, default False
        The histories are on a log scale (a ``target_transform``'s): a season is always
        taken off additively (:func:`~forecast.forecasters._local_smoothing.normalised`).
    """
    x, factors, offsets = normalised(histories, seen, horizon, season_length, additive)
    n_rows = len(x)
    n_seen = seen.sum(axis=1).astype(np.float64)
    gaps = trailing_gaps(seen)
    point = np.empty((n_rows, horizon))
    coefficients = np.empty((n_rows, 2))
    block = max(1, _GRID_CELLS // len(ALPHAS))
    for lo in range(0, n_rows, block):
        rows = slice(lo, lo + block)
        lines = _lines(x[rows], seen[rows])
        sums, levels = _cross_products(x[rows], seen[rows], lines, ALPHAS)
        shift, c, sse = _solved(sums)
        best = sse.argmin(axis=1)
        pick = np.arange(len(best))
        alpha, c, shift = ALPHAS[best], c[pick, best], shift[pick, best]
        # The last level: the part smoothed from the first value plus the starting offset's
        # share, decayed over the n values.
        level = levels[pick, best] + (1.0 - alpha) ** n_seen[rows] * shift
        point[rows] = _dynamic_forecasts(level, lines, n_seen[rows], alpha, c, horizon, gaps[rows])
        coefficients[rows, 0] = alpha
        # c = 1 is the whole trend (theta infinite): reported as 1e12, a finite state.
        coefficients[rows, 1] = 1.0 / np.maximum(1.0 - c, 1e-12)
    short = n_seen < MIN_VALUES
    if short.any():
        classical, alpha = adjusted_theta_forecasts(x[short], seen[short], horizon)
        point[short] = classical
        coefficients[short] = np.column_stack([alpha, np.full(len(alpha), 2.0)])
    return point * factors + offsets, coefficients


class OptimisedThetaForecaster(_LocalSmoothingForecaster):
    """The dynamic optimised Theta method: the Theta method with its trend's weight, the
    smoothing and the starting level fitted per series, on the seasonally adjusted series.

    See :mod:`forecast.forecasters.optimised_theta` for the method. A local model, fitted
    afresh on the history before every forecast origin: ``predict(df)`` forecasts any series,
    seen at fit or not, from ``df``'s history; ``fit`` keeps the forecasts from the end of
    each series and their coefficients.

    Parameters
    ----------
    season_length : int, default 1
        ``m``, in steps (12 for monthly data, 4 quarterly, 1: no season); a series is
        de-seasonalised only when it is seasonal by the 90 % autocorrelation test at lag ``m``
        and has three seasons of history.
    target, id_col, time_col, freq, missing, horizon, intervals, coverage, \
calibration_windows, target_transform
        As in :class:`forecast.RNNForecaster`; ``missing="mask"`` reads observed values
        only, as consecutive values (see :mod:`forecast.forecasters.optimised_theta`).

    Attributes
    ----------
    forecast_ : numpy.ndarray of shape (S, H, T)
        The forecasts from the end of each series and target at fit.
    alpha_ : numpy.ndarray of shape (S, T)
        The smoothing coefficient of each series and target at fit.
    theta_ : numpy.ndarray of shape (S, T)
        The weight of the trend (``>= 1``; 2 is the classical Theta method, 1e12 the
        whole trend).
    freq_, layout_, target_names_, covariate_names_, feature_names_in_, n_features_in_, \
series_ids_, cutoffs_, training_start_, quantile_levels_
        As in :class:`forecast.RNNForecaster`.
    conformal_quantiles_, conformal_scale_, n_calibration_
        With ``intervals``: as in :class:`forecast.RNNForecaster`.

    Examples
    --------
    >>> from forecast.baselines import OptimisedThetaForecaster
    >>> from forecast.datasets import load_air_passengers
    >>> df = load_air_passengers()
    >>> model = OptimisedThetaForecaster(season_length=12, horizon=12).fit(df)
    >>> model.predict().shape
    (12, 1)
    >>> bool(model.theta_[0, 0] >= 1.0)
    True
    """

    _state = ("forecast_", "alpha_", "theta_")
    _n_coefficients = 2

    def _forecast_rows(self, values: np.ndarray, seen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return optimised_theta_forecasts(
            values, seen, self.horizon, self.season_length, self._additive()
        )

    def _coefficient_states(self, coefficients: np.ndarray) -> dict[str, np.ndarray]:
        return {"alpha_": coefficients[..., 0], "theta_": coefficients[..., 1]}
