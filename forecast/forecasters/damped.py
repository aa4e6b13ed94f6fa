"""Exponential smoothing with a damped trend: a statistical benchmark with the forecasters' API.

The damped additive trend of Gardner & McKenzie (1985) is the exponential smoothing method
that M3's and M4's organisers found hardest to beat on yearly and "other" data, and one
third of the M4 competition's ``Comb`` benchmark. Per series and target, from the history
before every forecast origin:

1. with ``season_length >= 2``, the history is divided by its multiplicative seasonal
   indices (or has its additive components subtracted, when it holds a value ``<= 0``,
   an index is under 0.01 or it is on a log scale, ``target_transform="log"``, ``"log1p"``
   or ``"boxcox"``),
   exactly as :class:`~forecast.ThetaForecaster` does
   (:func:`forecast.forecasters._local_smoothing.normalised`; a history with a missing
   value is not de-seasonalised);
2. level ``l`` and trend ``b`` start from the least-squares line through the first
   :data:`_START_POINTS` observed values, then for each value ``y``::

       e = y - (l + phi * b)           # the one-step error
       l = l + phi * b + alpha * e
       b = phi * b + alpha * beta * e

   a missing value (``missing="mask"``) counts as ``e = 0``: the state moves on by its own
   forecast;
3. ``(alpha, beta, phi)`` is, per history, the point of the grid :data:`ALPHAS` x
   :data:`BETAS` x :data:`PHIS` with the smallest sum of squared one-step errors;
4. ``ŷ[n + h] = l + (phi + phi² + ... + phi^h) · b``, multiplied back by the seasonal
   indices of its step (or with its additive component added back).

Written here rather than taken from statsmodels or statsforecast (neither is a dependency,
and statsforecast pins ``pandas < 3``), and with a grid rather than a numerical optimiser:
every grid point of every history is smoothed at once, one loop over time steps, so a
backtest over thousands of series costs about a second (M3 monthly's 1,428 series: 0.8 s
for all 390 grid points, one thread, 2026-12-05). statsforecast's ``AutoETS`` optimises
the starting state too and chooses among error, trend and season forms (so does
:class:`~forecast.ETSForecaster`, without the season); on M3 "other" this method alone has
sMAPE 4.30 against AutoETS's 4.34, on M3 yearly 16.90 against 16.19
(``benchmarks/RESULTS.md``, issue 22).

Symbols: N forecast origins, L the longest history, H horizon, G grid points.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

from forecast.forecasters._local_smoothing import (
    _LocalSmoothingForecaster,
    least_squares_line,
    normalised,
)

__all__ = ["ALPHAS", "BETAS", "PHIS", "DampedTrendForecaster", "damped_trend_forecasts"]

#: The smoothing coefficients searched (level, trend as a share of alpha, damping).
ALPHAS = (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.99)
BETAS = (0.01, 0.05, 0.1, 0.2, 0.3, 0.5)
PHIS = (0.8, 0.85, 0.9, 0.95, 0.98)
_START_POINTS = 10  # the starting line is fitted on this many first observed values
_GRID_CELLS = 2_000_000  # histories are smoothed in blocks of at most (N x G) this many states


def _starting_line(x: np.ndarray, seen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Level and slope ``(N,)`` of the least-squares line through the first observed values,
    the level one step before the first of them (the state the first error is taken from)."""
    use = seen & (np.cumsum(seen, axis=1) <= _START_POINTS)
    slope, t_mean, x_mean = least_squares_line(x, use)
    before_first = seen.argmax(axis=1) - 1.0
    return x_mean + slope * (before_first - t_mean), slope


def _smooth_grid(
    x: np.ndarray, seen: np.ndarray, grid: np.ndarray, relative: bool = False
) -> tuple[np.ndarray, ...]:
    """Final level, trend and sum of squared one-step errors ``(N, G)`` at every grid point.

    With ``relative``, also the sum of squared relative errors ``(e / ŷ)²`` and of
    ``log ŷ`` over the observed values, and where an observed value's one-step forecast
    ``ŷ`` was ``<= 0``: what the likelihood of a multiplicative error needs
    (:mod:`forecast.forecasters.ets`). Where that flag is set the two sums mean nothing
    (they go on with ``e²`` and 0), and the caller discards them.
    """
    alpha, beta, phi = (grid[None, :, k] for k in range(3))
    start_level, start_slope = _starting_line(x, seen)
    first = seen.argmax(axis=1)
    level = np.repeat(start_level[:, None], len(grid), axis=1)
    trend = np.repeat(start_slope[:, None], len(grid), axis=1)
    errors = np.zeros_like(level)
    if relative:
        relative_errors, log_forecasts = np.zeros_like(level), np.zeros_like(level)
        not_positive = np.zeros(level.shape, dtype=bool)
    gain = alpha * beta  # the trend's share of each error, fixed per grid point
    for t in range(x.shape[1]):
        started = (t >= first)[:, None]  # before a history starts its state stays put
        predicted = level + phi * trend
        observed = seen[:, t, None]
        e = np.where(observed, x[:, t, None] - predicted, 0.0)
        errors += e * e
        if relative:
            not_positive |= observed & (predicted <= 0.0)
            safe = np.where(observed & ~not_positive, predicted, 1.0)
            # A tiny positive forecast and a large error overflow to inf: that grid point's
            # multiplicative likelihood is then as bad as it gets, which is right.
            with np.errstate(over="ignore"):
                relative_errors += (e / safe) ** 2
            log_forecasts += np.log(safe)
        level = np.where(started, predicted + alpha * e, level)
        trend = np.where(started, phi * trend + gain * e, trend)
    if relative:
        return level, trend, errors, relative_errors, log_forecasts, not_positive
    return level, trend, errors


def _chosen_states(
    x: np.ndarray,
    seen: np.ndarray,
    grid: np.ndarray,
    choose: Callable[..., tuple[np.ndarray, ...]],
    relative: bool = False,
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
    """Level and trend ``(N,)`` at the grid point ``choose`` picks for each history.

    The histories are smoothed in blocks of rows whose ``(rows x G)`` states stay under
    :data:`_GRID_CELLS` (bounded memory). ``choose(rows, *sums)`` gets a block's slice and
    :func:`_smooth_grid`'s sums ``(n, G)`` after the level and trend, and returns each row's
    grid point ``(n,)`` followed by any other per-row values to keep; all of them come back,
    ``(N,)`` each, as the third element.
    """
    n_rows = len(x)
    level, trend = np.empty(n_rows), np.empty(n_rows)
    picks: list[np.ndarray] = []
    block = max(1, _GRID_CELLS // len(grid))
    for lo in range(0, n_rows, block):
        rows = slice(lo, lo + block)
        levels, trends, *sums = _smooth_grid(x[rows], seen[rows], grid, relative)
        chosen = choose(rows, *sums)
        if not picks:
            picks = [np.empty(n_rows, dtype=value.dtype) for value in chosen]
        for kept, value in zip(picks, chosen, strict=True):
            kept[rows] = value
        pick = np.arange(len(levels))
        level[rows], trend[rows] = levels[pick, chosen[0]], trends[pick, chosen[0]]
    return level, trend, tuple(picks)


def _trend_forecasts(
    level: np.ndarray, trend: np.ndarray, phi: np.ndarray, horizon: int
) -> np.ndarray:
    """``l + (phi + phi² + ... + phi^h) · b`` ``(N, H)``: ``l + h · b`` with ``phi`` 1 (Holt's
    trend), ``l`` with ``phi`` 0 (none)."""
    steps = np.arange(1, horizon + 1, dtype=np.float64)
    return level[:, None] + np.cumsum(phi[:, None] ** steps[None, :], axis=1) * trend[:, None]


def damped_trend_forecasts(
    histories: np.ndarray,
    seen: np.ndarray,
    horizon: int,
    season_length: int = 1,
    additive: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Damped-trend forecasts ``(N, H)`` and the chosen ``(alpha, beta, phi)`` ``(N, 3)``.

    Parameters
    ----------
    histories : numpy.ndarray of shape (N, L)
        One history per row, right-aligned (its last value in the last column); what lies
        before a row's start, or is missing, is marked False in ``seen``.
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
    grid = np.array(list(itertools.product(ALPHAS, BETAS, PHIS)))
    level, trend, (best,) = _chosen_states(
        x,
        seen,
        grid,
        # ties (a flat history): the first grid point
        lambda rows, errors: (errors.argmin(axis=1),),
    )
    chosen = grid[best]
    return _trend_forecasts(level, trend, chosen[:, 2], horizon) * factors + offsets, chosen


class DampedTrendForecaster(_LocalSmoothingForecaster):
    """Exponential smoothing with a damped additive trend, on the seasonally adjusted series.

    See :mod:`forecast.forecasters.damped` for the method. Like
    :class:`~forecast.ThetaForecaster` it is fitted afresh on the history before every
    forecast origin, so ``predict(df)`` forecasts any series from ``df``'s history; ``fit``
    keeps the forecasts from the end of each series and the coefficients chosen for it.

    Parameters
    ----------
    season_length : int, default 1
        ``m``, in steps (12 for monthly data, 4 quarterly, 1: no season); a series is
        de-seasonalised only when it is seasonal by the 90 % autocorrelation test at lag ``m``
        and has three seasons of history.
    target, id_col, time_col, freq, missing, horizon, intervals, coverage, \
calibration_windows, target_transform
        As in :class:`forecast.RNNForecaster`; ``missing="mask"`` reads observed values
        only (a missing value moves the level and trend on by their own forecast, and a
        history with one is not de-seasonalised).

    Attributes
    ----------
    forecast_ : numpy.ndarray of shape (S, H, T)
        The forecasts from the end of each series and target at fit.
    smoothing_ : numpy.ndarray of shape (S, T, 3)
        The ``(alpha, beta, phi)`` chosen for each series and target at fit.
    freq_, layout_, target_names_, covariate_names_, feature_names_in_, n_features_in_, \
series_ids_, cutoffs_, training_start_, quantile_levels_
        As in :class:`forecast.RNNForecaster`.
    conformal_quantiles_, conformal_scale_, n_calibration_
        With ``intervals``: as in :class:`forecast.RNNForecaster`.

    Examples
    --------
    >>> from forecast.baselines import DampedTrendForecaster, NaiveForecaster
    >>> from forecast.datasets import load_air_passengers
    >>> df = load_air_passengers()
    >>> model = DampedTrendForecaster(season_length=12, horizon=12).fit(df)
    >>> model.predict().shape
    (12, 1)
    >>> model.score(df) > NaiveForecaster(horizon=12).fit(df).score(df)
    True
    """

    _state = ("forecast_", "smoothing_")
    _n_coefficients = 3

    def _forecast_rows(self, values: np.ndarray, seen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return damped_trend_forecasts(
            values, seen, self.horizon, self.season_length, self._additive()
        )
