"""Seasonal indices (or components) per series, and the position of each timestamp in its season.

What ``target_transform="deseasonalize"`` needs (:mod:`forecast.data.transforms`): each
series is divided by its seasonal indices (or has its additive components subtracted)
before the network sees it, and its forecasts get them back, as the M3 Theta method and
the ES-RNN of Smyl (2020) de-seasonalise before they forecast. Combined with a model of
the raw series, the two errors partly cancel (``benchmarks/RESULTS.md``, issue 22's
ablation).

* :func:`seasonal_indices`: classical multiplicative decomposition of one series (a centred
  moving average, then the mean ratio per position), used only when the autocorrelation at
  lag ``season_length`` is significant at 90 %, the test the M3 Theta method applies;
  otherwise all indices are 1 (the series is left as it is). Written here rather than taken
  from statsmodels (``seasonal_decompose``): it is twenty lines, and statsmodels is not a
  dependency.
* :func:`seasonal_components`: the same, with the additive decomposition for a seasonal
  series that is not positive; :func:`season_map` puts either kind as one divisor and
  offset per position, what ``"deseasonalize"`` and the local smoothing baselines take off.
* :func:`season_positions`: the position ``0 .. m - 1`` of each timestamp in its season,
  counted in steps of the frequency from a fixed epoch, so that a series forecast from a
  shorter or later history than it was fitted on gets the same positions (a count from the
  series' first row would shift with the history given).

Symbols: R rows, S series, T targets, m season length.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast._exceptions import InvalidParameterError
from forecast.data.frequency import month_step

__all__ = ["season_map", "season_positions", "seasonal_components", "seasonal_indices"]

_Z90 = 1.645  # one-sided 90 % normal quantile: M3 Theta's seasonality test
# Months per step of the offsets that fall once a month, quarter or year.
_MONTHS: tuple[tuple[tuple[type, ...], int], ...] = (
    (
        (
            pd.offsets.MonthBegin,
            pd.offsets.MonthEnd,
            pd.offsets.BusinessMonthBegin,
            pd.offsets.BusinessMonthEnd,
        ),
        1,
    ),
    (
        (
            pd.offsets.QuarterBegin,
            pd.offsets.QuarterEnd,
            pd.offsets.BQuarterBegin,
            pd.offsets.BQuarterEnd,
        ),
        3,
    ),
    ((pd.offsets.YearBegin, pd.offsets.YearEnd, pd.offsets.BYearBegin, pd.offsets.BYearEnd), 12),
)


def seasonal_indices(
    x: np.ndarray, season_length: int, positions: np.ndarray | None = None
) -> np.ndarray:
    """Multiplicative seasonal indices ``(m,)`` of ``x`` (mean 1), by season position.

    ``positions`` ``(len(x),)``: the season position of each value (:func:`season_positions`);
    by default ``x[0]`` is at position 0.

    All ones when ``x`` is not seasonal by the 90 % autocorrelation test, has fewer than
    three seasons of observed values, holds a value ``<= 0``, or has missing values (NaN).
    """
    m = int(season_length)
    x = np.asarray(x, dtype=np.float64)
    if np.any(x <= 0):
        return np.ones(m)
    found = _seasonal_ratios(x, m, positions, np.divide)
    return np.ones(m) if found is None else found / found.mean()


def seasonal_components(
    x: np.ndarray,
    season_length: int,
    positions: np.ndarray | None = None,
    *,
    additive: bool = False,
) -> tuple[str, np.ndarray]:
    """How ``x`` is seasonal, and its seasonal components ``(m,)`` by season position.

    As :func:`seasonal_indices` for a positive series: ``("multiplicative", indices)``
    (mean 1). A seasonal series with a value ``<= 0`` (sales that stop in winter, a
    temperature) has no ratios to take, and a multiplicative index under 0.01 would blow the
    values it divides up a hundredfold; both get the classical additive decomposition:
    ``("additive", offsets)`` (mean 0; the series minus its centred moving average, averaged
    by position), as statsforecast's Theta does. ``("none", ones)`` when ``x`` is not
    seasonal by the 90 % test, is shorter than three seasons or has missing values.

    Parameters
    ----------
    x : numpy.ndarray of shape (n,)
        One series, oldest value first.
    season_length : int
        ``m``; below 2, nothing is seasonal.
    positions : numpy.ndarray of shape (n,), optional
        The season position of each value (:func:`season_positions`); by default ``x[0]``
        is at position 0.
    additive : bool, default False
        Take the additive decomposition whatever the values' sign: for values on a log
        scale (``target_transform="log"`` or ``"boxcox"``), where a change of the data's
        units is a shift (or an affine map) of the values, which moves additive components
        with it but changes the ratios (and whether the values are all ``> 0``: a log is
        ``> 0`` only above 1).

    Returns
    -------
    kind : {"multiplicative", "additive", "none"}
    components : numpy.ndarray of shape (m,)
        The indices (divide by them), the offsets (subtract them) or ones.

    Examples
    --------
    >>> t = np.arange(24)
    >>> kind, offsets = seasonal_components(np.array([0.0, 2.0, 4.0, 2.0])[t % 4], 4)
    >>> kind, offsets.round(6).tolist()
    ('additive', [-2.0, 0.0, 2.0, 0.0])
    """
    m = int(season_length)
    x = np.asarray(x, dtype=np.float64)
    if not additive and np.all(x > 0):
        ratios = _seasonal_ratios(x, m, positions, np.divide)
        if ratios is None:
            return "none", np.ones(m)
        indices = ratios / ratios.mean()
        if indices.min() >= 0.01:
            return "multiplicative", indices
    differences = _seasonal_ratios(x, m, positions, np.subtract)
    if differences is None:
        return "none", np.ones(m)
    return "additive", differences - differences.mean()


def season_map(
    x: np.ndarray,
    season_length: int,
    positions: np.ndarray | None = None,
    *,
    additive: bool = False,
) -> np.ndarray:
    """:func:`seasonal_components` as one affine map per season position ``(m, 2)``: the
    divisor ``[:, 0]`` and the offset ``[:, 1]`` of ``y' = (y - offset) / divisor``.

    Multiplicative: the indices and 0; additive: 1 and the components; not seasonal: 1 and
    0. Taking a season off is then ``(y - offset) / divisor`` and putting it back
    ``y' * divisor + offset`` whatever its kind (both exact where it has none), as
    ``target_transform="deseasonalize"`` and the local models do. ``additive``: as in
    :func:`seasonal_components`.

    Examples
    --------
    >>> t = np.arange(24)
    >>> season_map(np.array([0.0, 2.0, 4.0, 2.0])[t % 4], 4).round(6).tolist()
    [[1.0, -2.0], [1.0, 0.0], [1.0, 2.0], [1.0, 0.0]]
    """
    kind, components = seasonal_components(x, season_length, positions, additive=additive)
    season = np.zeros((int(season_length), 2))
    season[:, 0] = components if kind == "multiplicative" else 1.0
    season[:, 1] = components if kind == "additive" else 0.0
    return season


def _seasonal_ratios(
    x: np.ndarray, m: int, positions: np.ndarray | None, against: np.ufunc
) -> np.ndarray | None:
    """``against(x, trend)`` averaged by season position ``(m,)``, the trend being the centred
    moving average; None when ``x`` is not seasonal by the 90 % autocorrelation test, is
    shorter than three seasons or has missing values."""
    n = len(x)
    if m < 2 or n < 3 * m or np.isnan(x).any():
        return None
    d = x - x.mean()
    denominator = float(np.dot(d, d))
    if denominator == 0:
        return None
    acf = np.array([np.dot(d[k:], d[: n - k]) for k in range(m + 1)]) / denominator
    limit = _Z90 * np.sqrt((1 + 2 * np.sum(acf[1:m] ** 2)) / n)
    if not abs(acf[m]) > limit:
        return None
    # The centred moving average: 2 x m for an even m, m for an odd one.
    weights = np.r_[0.5, np.ones(m - 1), 0.5] / m if m % 2 == 0 else np.ones(m) / m
    trend = np.convolve(x, weights, mode="valid")
    lead = (len(weights) - 1) // 2
    detrended = against(x[lead : lead + len(trend)], trend)
    if positions is None:
        positions = np.arange(n) % m
    at = np.asarray(positions)[lead : lead + len(trend)]
    return np.array([detrended[at == p].mean() for p in range(m)])


def _step_numbers(times: pd.DatetimeIndex, freq: pd.offsets.BaseOffset) -> np.ndarray:
    """Steps of ``freq`` from a fixed epoch to each timestamp (int64)."""
    # Wall-clock nanoseconds (pandas 3 keeps other units too: asi8 counts in the index's).
    nanos = np.asarray(times.tz_localize(None).as_unit("ns").asi8, dtype=np.int64)
    if isinstance(freq, pd.offsets.Day):  # a calendar day (not a Tick in pandas 3)
        return nanos // (freq.n * 86_400 * 10**9)
    if isinstance(freq, pd.offsets.Tick):  # a fixed duration: hours, minutes, seconds
        # In absolute time (UTC), not wall-clock: a forecast's positions are its origin's
        # plus 1, 2, ... steps, which across a DST change holds only in absolute time.
        utc = times if times.tz is None else times.tz_convert("UTC").tz_localize(None)
        absolute = np.asarray(utc.as_unit("ns").asi8, dtype=np.int64)
        return absolute // pd.Timedelta(freq).as_unit("ns").value
    if isinstance(freq, pd.offsets.Week):  # 7 days apart, anchored on a weekday or not
        return nanos // (freq.n * 7 * 86_400 * 10**9)
    # Months a step: month, quarter and year offsets; DateOffset(months=k), mid-month data.
    per_step = next((n * freq.n for kinds, n in _MONTHS if isinstance(freq, kinds)), None)
    per_step = per_step or month_step(freq)
    if per_step is None:
        raise InvalidParameterError(
            f"target_transform='deseasonalize' counts seasons in steps of the frequency, "
            f"which it cannot do for {freq.freqstr!r} (it can for fixed durations such as "
            "'h' or 'D', weeks, and month, quarter and year offsets). Use another "
            "target_transform, or resample the data."
        )
    months = np.asarray(times.year, dtype=np.int64) * 12 + np.asarray(times.month) - 1
    return months // per_step


def season_positions(
    times: pd.DatetimeIndex, freq: pd.offsets.BaseOffset, season_length: int
) -> np.ndarray:
    """The position ``0 .. season_length - 1`` of each of ``times`` in its season (int64).

    Counted in steps of ``freq`` from a fixed epoch: January is position 0 of a monthly
    season of 12, whatever the first month of a series is.
    """
    return np.mod(_step_numbers(pd.DatetimeIndex(times), freq), int(season_length))
