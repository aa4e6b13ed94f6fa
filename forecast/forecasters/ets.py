"""Exponential smoothing with the model chosen per series: a statistical benchmark and partner.

What statsforecast's ``AutoETS`` and R's ``forecast::ets`` do, in the form this library's
local models share (:mod:`forecast.forecasters._local_smoothing`). Per series and target,
from the history before every forecast origin:

1. with ``season_length >= 2``, the history is de-seasonalised exactly as
   :class:`~forecast.ThetaForecaster` and :class:`~forecast.DampedTrendForecaster` do it
   (:func:`forecast.forecasters._local_smoothing.normalised`);
2. six exponential smoothing models are fitted to it: the trend none (``N``: simple
   exponential smoothing), additive (``A``: Holt's linear trend) or damped additive
   (``Ad``), each with an additive or a multiplicative error (Hyndman et al. 2008's
   ``ANN``, ``AAN``, ``AAdN``, ``MNN``, ``MAN``, ``MAdN``). With an additive trend both
   errors give the same recursions (the damped trend's, :mod:`forecast.forecasters.damped`)
   and the same point forecasts; they differ in the likelihood, so in which smoothing
   coefficients fit best and in which model is chosen. Each model's coefficients are the
   point of its grid (``alpha`` in :data:`~forecast.forecasters.damped.ALPHAS`, and for a
   trend ``beta`` in :data:`~forecast.forecasters.damped.BETAS` and ``phi`` 1 or in
   :data:`~forecast.forecasters.damped.PHIS`) with the smallest ``-2 log likelihood``
   (up to constants, over the ``n`` observed values and their one-step errors ``e`` and
   forecasts ``ŷ``)::

       additive error:        n · log(Σ e² / n)
       multiplicative error:  n · log(Σ (e / ŷ)² / n) + 2 · Σ log ŷ

   a multiplicative error only for a history whose values (de-seasonalised) are all
   ``> 0`` and only at grid points whose one-step forecasts all are, and not on a log
   scale (``target_transform="log"``, ``"log1p"`` or ``"boxcox"``, where the values' sign
   and their ratios change with the data's units; there the season is additive too);
3. the model with the smallest AICc, ``-2 log L + 2k + 2k(k + 1) / (n - k - 1)``, is
   chosen, with ``k`` its coefficients, starting states and variance (3 without a trend,
   5 with Holt's, 6 damped); a model with ``n <= k + 1`` values is not a candidate, and a
   history too short for all of them (four values or fewer) gets simple exponential
   smoothing;
4. its forecast ``l + (phi + ... + phi^h) · b`` (``h · b`` for Holt's, ``l`` without a
   trend) is multiplied back by the seasonal indices of its step.

Why here rather than statsforecast's ``AutoETS``: statsforecast pins ``pandas < 3`` and is
not a dependency; and the grid smooths every coefficient of every history at once, so it
serves backtests over thousands of origins (M3 monthly's 1,428 series: 1.7 s for its 481
grid points, 0.8 s for the damped trend's 390, against 85 s for ``AutoETS``; one thread).
What ``AutoETS`` does and this does not: it optimises the starting states and the
coefficients numerically, and it models the season in its states (additive or
multiplicative, chosen by AICc too) rather than taking it off first. Alone, this is a little
less accurate than ``AutoETS`` (M3 monthly sMAPE 14.24 against 14.16). Starting states
fitted by least squares at every grid point fit the history better and forecast M3 worse
(monthly 14.44; ``benchmarks/RESULTS.md``, issue 22, update 7): the starting line is kept.

Why it is here at all: it errs differently from Theta and the damped trend. As the third
statistical model of :func:`forecast.presets.panel_forecaster` it made the combination's
sMAPE better on six of the seven M3 and M1 data sets and level on M3 quarterly (M3 "other"
4.14 against 4.24, M1 monthly 14.43 against 14.62; ``benchmarks/RESULTS.md``, issue 22,
update 6).

Symbols: N forecast origins, L the longest history, H horizon, G grid points.
"""

from __future__ import annotations

import itertools

import numpy as np

from forecast.forecasters._local_smoothing import _LocalSmoothingForecaster, normalised
from forecast.forecasters.damped import (
    ALPHAS,
    BETAS,
    PHIS,
    _chosen_states,
    _trend_forecasts,
)

__all__ = ["TRENDS", "ETSForecaster", "ets_forecasts"]

#: The trend forms and each one's number of coefficients, starting states and variance.
TRENDS = {"none": 3, "additive": 5, "damped": 6}


def _grid() -> tuple[np.ndarray, np.ndarray]:
    """Every model's ``(alpha, beta, phi)`` grid points ``(G, 3)`` and trend form ``(G,)``.

    Without a trend ``beta`` and ``phi`` are 0: the starting slope never enters the level,
    and the trend stays 0. Holt's trend is ``phi`` 1.
    """
    forms = {
        "none": [(a, 0.0, 0.0) for a in ALPHAS],
        "additive": [(a, b, 1.0) for a, b in itertools.product(ALPHAS, BETAS)],
        "damped": list(itertools.product(ALPHAS, BETAS, PHIS)),
    }
    points = np.array([p for form in TRENDS for p in forms[form]])
    which = np.concatenate([np.full(len(forms[f]), i) for i, f in enumerate(TRENDS)])
    return points, which


def _choose(
    sse: np.ndarray,
    relative: np.ndarray,
    log_forecasts: np.ndarray,
    not_positive: np.ndarray,
    n: np.ndarray,
    positive: np.ndarray,
    which: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the chosen grid point and whether its error is multiplicative ``(N,)``."""
    n_col = n[:, None]
    additive = n_col * np.log(np.maximum(sse, 1e-300) / n_col)
    multiplicative = n_col * np.log(np.maximum(relative, 1e-300) / n_col) + 2.0 * log_forecasts
    multiplicative = np.where(not_positive | ~positive[:, None], np.inf, multiplicative)
    best = np.full(len(n), np.inf)
    point = np.zeros(len(n), dtype=np.int64)  # the fallback: the first, no trend
    is_multiplicative = np.zeros(len(n), dtype=bool)
    rows = np.arange(len(n))
    for form, k in enumerate(TRENDS.values()):
        columns = np.flatnonzero(which == form)
        room = n - k - 1.0
        penalty = np.where(room > 0, 2.0 * k + 2.0 * k * (k + 1) / np.maximum(room, 1.0), np.inf)
        for error, likelihood in ((False, additive), (True, multiplicative)):
            within = columns[likelihood[:, columns].argmin(axis=1)]  # ties: the first
            criterion = likelihood[rows, within] + penalty
            better = criterion < best
            best = np.where(better, criterion, best)
            point = np.where(better, within, point)
            is_multiplicative = np.where(better, error, is_multiplicative)
    # Rows too short for any model (n <= 4): simple exponential smoothing by least squares.
    short = ~np.isfinite(best)
    if short.any():
        none = np.flatnonzero(which == 0)
        point[short] = none[sse[np.ix_(short, none)].argmin(axis=1)]
    return point, is_multiplicative


def ets_forecasts(
    histories: np.ndarray,
    seen: np.ndarray,
    horizon: int,
    season_length: int = 1,
    additive: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Forecasts ``(N, H)`` of the chosen models and their ``(alpha, beta, phi,
    multiplicative)`` ``(N, 4)`` (``multiplicative`` 1.0 for a multiplicative error).

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
        taken off additively (:func:`~forecast.forecasters._local_smoothing.normalised`)
        and only additive errors are fitted.
    """
    x, factors, offsets = normalised(histories, seen, horizon, season_length, additive)
    grid, which = _grid()
    n = seen.sum(axis=1).astype(np.float64)
    # A multiplicative error is relative to the forecast's distance from 0, which on a log
    # scale is set by the data's units (log y > 0 only for y > 1): additive errors only.
    positive = (np.where(seen, x, 1.0).min(axis=1) > 0) & (not additive)

    def choose(rows: slice, *sums: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        sse, relative, logs, not_positive = sums
        return _choose(sse, relative, logs, not_positive, n[rows], positive[rows], which)

    level, trend, (point, is_multiplicative) = _chosen_states(x, seen, grid, choose, relative=True)
    chosen = np.column_stack([grid[point], is_multiplicative])
    return _trend_forecasts(level, trend, chosen[:, 2], horizon) * factors + offsets, chosen


class ETSForecaster(_LocalSmoothingForecaster):
    """Exponential smoothing with the trend and error chosen per series by AICc.

    See :mod:`forecast.forecasters.ets` for the method: simple exponential smoothing,
    Holt's linear trend or a damped trend, each with an additive or a multiplicative error,
    fitted on the seasonally adjusted series and chosen per series and forecast origin.
    Like :class:`~forecast.ThetaForecaster` it is fitted afresh on the history before every
    forecast origin, so ``predict(df)`` forecasts any series from ``df``'s history; ``fit``
    keeps the forecasts from the end of each series and the model chosen for it.

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
        The ``(alpha, beta, phi)`` chosen for each series and target at fit: ``beta`` and
        ``phi`` 0 where no trend was chosen, ``phi`` 1 for Holt's linear trend.
    multiplicative_error_ : numpy.ndarray of shape (S, T)
        1.0 where the chosen model's error is multiplicative, 0.0 where it is additive.
    freq_, layout_, target_names_, covariate_names_, feature_names_in_, n_features_in_, \
series_ids_, cutoffs_, training_start_, quantile_levels_
        As in :class:`forecast.RNNForecaster`.
    conformal_quantiles_, conformal_scale_, n_calibration_
        With ``intervals``: as in :class:`forecast.RNNForecaster`.

    Examples
    --------
    >>> from forecast.baselines import ETSForecaster, NaiveForecaster
    >>> from forecast.datasets import load_air_passengers
    >>> df = load_air_passengers()
    >>> model = ETSForecaster(season_length=12, horizon=12).fit(df)
    >>> model.predict().shape
    (12, 1)
    >>> model.score(df) > NaiveForecaster(horizon=12).fit(df).score(df)
    True
    """

    _state = ("forecast_", "smoothing_", "multiplicative_error_")
    _n_coefficients = 4

    def _forecast_rows(self, values: np.ndarray, seen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return ets_forecasts(values, seen, self.horizon, self.season_length, self._additive())

    def _coefficient_states(self, coefficients: np.ndarray) -> dict[str, np.ndarray]:
        return {"smoothing_": coefficients[..., :3], "multiplicative_error_": coefficients[..., 3]}
