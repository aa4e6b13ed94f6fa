"""Known-future features a user should not hand-write: calendar positions and holidays.

Use them as ``future_covariates``: they are known for any future date.

>>> import pandas as pd
>>> from forecast.features import calendar_features
>>> calendar_features(pd.date_range("2024-01-01", periods=3, freq="MS")).round(3)
            month
2024-01-01 -0.500
2024-02-01 -0.409
2024-03-01 -0.318
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from pandas.tseries.holiday import AbstractHolidayCalendar

from forecast._exceptions import DataError, DataTypeError
from forecast.data.frequency import infer_freq, month_step, resolve_freq

__all__ = ["CALENDAR_FEATURES", "calendar_features"]

# Each feature: how to read it from timestamps, and how many values it takes (to scale it).
CALENDAR_FEATURES: dict[str, tuple[Any, int]] = {
    "minute_of_hour": (lambda t: t.minute, 60),
    "hour_of_day": (lambda t: t.hour, 24),
    "day_of_week": (lambda t: t.day_of_week, 7),
    "day_of_month": (lambda t: t.day - 1, 31),
    "day_of_year": (lambda t: t.day_of_year - 1, 366),
    "week_of_year": (lambda t: t.isocalendar().week.to_numpy() - 1, 53),
    "month": (lambda t: t.month - 1, 12),
    "quarter": (lambda t: t.quarter - 1, 4),
}

# The positions that vary within a year at each resolution (finer ones never change).
_BY_RESOLUTION = {
    "minute": ["minute_of_hour", "hour_of_day", "day_of_week"],
    "hour": ["hour_of_day", "day_of_week", "day_of_month"],
    "day": ["day_of_week", "day_of_month", "day_of_year", "month"],
    "week": ["week_of_year", "month"],
    "month": ["month"],
    "quarter": ["quarter"],
}


def _resolution(offset: pd.offsets.BaseOffset) -> str:
    months = month_step(offset)  # data stamped mid-month (a DateOffset has no rule code)
    if months is not None and months < 12:
        return "quarter" if months == 3 else "month"
    name = "" if months is not None else offset.rule_code.split("-")[0] if offset.rule_code else ""
    if isinstance(offset, pd.offsets.Minute | pd.offsets.Second | pd.offsets.Milli):
        return "minute"
    if isinstance(offset, pd.offsets.Hour | pd.offsets.BusinessHour):
        return "hour"
    if isinstance(offset, pd.offsets.Day | pd.offsets.BusinessDay | pd.offsets.CustomBusinessDay):
        return "day"
    if isinstance(offset, pd.offsets.Week):
        return "week"
    if name in {"MS", "ME", "BMS", "BME", "SMS", "SME"} or isinstance(
        offset, pd.offsets.MonthBegin | pd.offsets.MonthEnd
    ):
        return "month"
    if isinstance(offset, pd.offsets.QuarterBegin | pd.offsets.QuarterEnd):
        return "quarter"
    raise DataError(
        f"No calendar position varies within a period of freq {offset.freqstr!r} (yearly or "
        "coarser data): there is nothing to encode. Use features of your own instead."
    )


def calendar_features(
    times: pd.DatetimeIndex | pd.Series | Iterable[Any],
    freq: Any = None,
    *,
    features: Iterable[str] | None = None,
    holidays: AbstractHolidayCalendar | Iterable[Any] | None = None,
) -> pd.DataFrame:
    """Numeric calendar features of timestamps, for use as known-future covariates.

    Each feature is the position in its cycle scaled to ``[-0.5, 0.5]``: ``value / (n - 1)
    - 0.5`` for a cycle of ``n`` values (e.g. ``month``: January -0.5, December 0.5), so the
    network sees values of the same order as standardised data.

    Parameters
    ----------
    times : pandas.DatetimeIndex, pandas.Series of datetimes, or array-like
        The timestamps (a long frame's time column works: the result keeps its index).
    freq : str, pandas.DateOffset or None
        Picks the features that vary at this resolution (e.g. daily data: day of week, day
        of month, day of year, month); inferred from ``times`` when ``None``.
    features : iterable of str, optional
        Choose features by name instead (keys of ``CALENDAR_FEATURES``).
    holidays : pandas holiday calendar or dates, optional
        Adds ``is_holiday`` (1.0 on those dates, else 0.0).

    Returns
    -------
    pandas.DataFrame
        One float32 column per feature, indexed like ``times`` (a Series' index, or the
        timestamps themselves).

    Raises
    ------
    DataTypeError, DataError
        Timestamps that cannot be read; a frequency with no calendar position (yearly).

    Examples
    --------
    >>> import pandas as pd
    >>> from pandas.tseries.holiday import USFederalHolidayCalendar
    >>> days = pd.bdate_range("2024-07-03", periods=3)
    >>> calendar_features(days, "B", holidays=USFederalHolidayCalendar()).round(3)
                day_of_week  day_of_month  day_of_year  month  is_holiday
    2024-07-03       -0.167        -0.433        0.004  0.045         0.0
    2024-07-04        0.000        -0.400        0.007  0.045         1.0
    2024-07-05        0.167        -0.367        0.010  0.045         0.0
    """
    index = times.index if isinstance(times, pd.Series) else None
    try:
        stamps = pd.DatetimeIndex(pd.to_datetime(times))  # type: ignore[arg-type]
    except (ValueError, TypeError) as exc:
        raise DataTypeError(
            f"calendar_features needs timestamps; could not read them ({exc})."
        ) from exc
    if features is None:
        offset = (
            infer_freq(stamps.unique().sort_values(), "the timestamps")
            if freq is None
            else resolve_freq(freq)
        )
        names = _BY_RESOLUTION[_resolution(offset)]
    else:
        names = list(features)
        unknown = [n for n in names if n not in CALENDAR_FEATURES]
        if unknown:
            raise DataError(
                f"Unknown calendar features {unknown}; choose from {list(CALENDAR_FEATURES)}."
            )
    columns = {}
    for name in names:
        read, n = CALENDAR_FEATURES[name]
        columns[name] = (np.asarray(read(stamps), dtype=np.float64) / (n - 1) - 0.5).astype(
            np.float32
        )
    if holidays is not None:
        if isinstance(holidays, AbstractHolidayCalendar):
            days = holidays.holidays(stamps.min().normalize(), stamps.max())
        else:
            days = pd.DatetimeIndex(pd.to_datetime(list(holidays)))
        columns["is_holiday"] = stamps.normalize().isin(days).astype(np.float32)
    return pd.DataFrame(columns, index=index if index is not None else stamps)
