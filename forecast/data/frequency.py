"""Frequencies: resolve a user's ``freq``, infer one, check series follow it, continue it.

pandas does the calendar arithmetic (month ends, business days, holiday calendars); this
module turns its answers into errors that name the series, the gap and the fix.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from forecast._exceptions import DataError, InvalidParameterError
from forecast._validation import series_name
from forecast._warnings import warn, warn_once

__all__ = [
    "check_on_frequency",
    "follows_local_calendar",
    "freq_code",
    "future_times",
    "infer_freq",
    "month_step",
    "resolve_freq",
]

# A trading calendar skips a handful of days at most (holidays, the odd closure); a longer
# hole in business-day data is more likely missing data, which we report (never fill).
_MAX_BUSINESS_GAP = 5


def resolve_freq(freq: Any) -> pd.offsets.BaseOffset:
    """Turn a user's ``freq`` (an alias like ``"B"``, ``"MS"``, ``"h"``, or an offset) into one.

    Raises
    ------
    InvalidParameterError
        If pandas does not know the alias.
    """
    try:
        return to_offset(freq)
    except (ValueError, TypeError) as exc:
        raise InvalidParameterError(
            f"The 'freq' parameter must be a pandas frequency alias (e.g. 'D', 'B', 'MS', 'h') "
            f"or a pandas DateOffset. Got {freq!r} instead."
        ) from exc


def _is_business_day(offset: pd.offsets.BaseOffset) -> bool:
    return isinstance(offset, pd.offsets.BusinessDay | pd.offsets.CustomBusinessDay)


def follows_local_calendar(times: pd.DatetimeIndex, offset: pd.offsets.BaseOffset) -> bool:
    """Whether steps of ``offset`` over tz-aware ``times`` are taken on the local calendar.

    Days, weeks, months, business days ... step from local midnight to local midnight, so a
    day across a daylight-saving change lasts 23 or 25 hours (as ``pandas.date_range``
    makes them); hours, minutes and seconds are fixed lengths of absolute time. pandas 2
    treats ``Day`` as a fixed 24 hours, pandas 3 as a calendar day: this rule makes both
    give the same timestamps.
    """
    if times.tz is None:
        return False
    return isinstance(offset, pd.offsets.Day) or not isinstance(offset, pd.offsets.Tick)


def _wall_times(times: pd.DatetimeIndex, offset: pd.offsets.BaseOffset) -> pd.DatetimeIndex:
    """``times`` as local wall-clock times when ``offset`` steps on the local calendar."""
    return times.tz_localize(None) if follows_local_calendar(times, offset) else times


def _fixed_step(offset: pd.offsets.BaseOffset) -> pd.Timedelta | None:
    try:
        return pd.Timedelta(offset.nanos, unit="ns")
    except ValueError:  # month, week, business-day ... offsets have no fixed length
        return None


def infer_freq(times: pd.DatetimeIndex, label: str, hint: str = "") -> pd.offsets.BaseOffset:
    """Infer the frequency of one (sorted, duplicate-free) series or explain why we cannot.

    ``hint``: what to do about gaps, for the user's layout (:func:`forecast.data.gaps.gap_fix`);
    by default, resampling a wide frame.
    """
    if len(times) < 3:
        raise DataError(
            f"Cannot infer the frequency of {label}: it has {len(times)} timestamp(s) and "
            "inference needs 3. Pass freq= (e.g. freq='D')."
        )
    with warnings.catch_warnings():
        # pandas 3 warns that infer_freq will return an offset; to_offset accepts both.
        warnings.simplefilter("ignore")
        inferred = pd.infer_freq(times)
    offset = None if inferred is None else to_offset(inferred)
    if offset is not None and not isinstance(offset, pd.offsets.Day | pd.offsets.Tick):
        return offset  # month starts and ends, business days, weeks...
    months = _month_steps(times)
    if months is not None and _same_day_steps(times, months):
        # Mid-month data, which has no pandas alias; and three stamps on the 15th, a month
        # apart, are 31 days apart too: pandas answers '31D', and the forecast would drift
        # off the 15th. Months it is.
        return pd.DateOffset(months=int(months[0]))
    if offset is not None:
        return offset
    usual_months, odd = 0, np.empty(0, dtype=np.int64)
    if months is not None:  # on one day of the month (or month ends): steps in months
        usual_months = int(pd.Series(months).mode().iloc[0])
        odd = np.flatnonzero(months != usual_months)
    if odd.size:  # a missing month, named in months, not days
        usual: Any = f"{usual_months} month(s)"
        first_odd = int(odd[0])
    else:
        steps = times[1:] - times[:-1]
        usual = pd.Series(steps).mode().iloc[0]
        first_odd = int(np.flatnonzero(steps != usual)[0])
    gap = f"between {times[first_odd]} and {times[first_odd + 1]}"
    weekdays_only = bool((times.day_of_week < 5).all()) and bool((times == times.normalize()).all())
    if weekdays_only and not odd.size and usual <= pd.Timedelta(days=1):
        raise DataError(
            f"The timestamps of {label} are irregular (first gap {gap}) but fall on weekdays "
            "only: this looks like trading days, where weekends and holidays are missing. "
            "Pass freq='B' (business days), or "
            "freq=pandas.offsets.CustomBusinessDay(holidays=...) to name the holidays."
        )
    named = ""
    if odd.size and 1 < times[0].day <= 28:
        named = (
            f" (On day {times[0].day} of the month: freq=pandas.DateOffset(months={usual_months}).)"
        )
    raise DataError(
        f"The timestamps of {label} are irregular: the usual step is {usual}, but the first "
        f"other step is {gap}. Pass freq= if the data is regular at another frequency.{named} "
        + (hint or "Or resample it (e.g. df.resample('D').mean()) to make it regular.")
    )


def _same_day_steps(times: pd.DatetimeIndex, months: np.ndarray) -> bool:
    """Whether ``months`` (:func:`_month_steps`) are one whole number of months apart on a
    day from the 1st to the 28th (later days drift: a month from 31 January is 29 February,
    then the 29th). Day 1 comes here only at a time of day pandas has no alias for."""
    day = times[0].day  # a tz-aware timestamp's day is its local one
    return bool(months[0] >= 1 and (months == months[0]).all() and day <= 28)


def freq_code(offset: pd.offsets.BaseOffset) -> str:
    """``offset`` as Python code for a message: ``'MS'``, or ``pandas.DateOffset(months=3)``
    (whose repr, ``<DateOffset: months=3>``, is no alias)."""
    months = month_step(offset)
    return repr(offset.freqstr) if months is None else f"pandas.DateOffset(months={months})"


def month_step(offset: pd.offsets.BaseOffset) -> int | None:
    """``k`` for ``pandas.DateOffset(months=k)`` (what :func:`infer_freq` gives data stamped
    on one day of the month), else None."""
    if type(offset) is pd.DateOffset and set(offset.kwds) == {"months"}:
        return int(offset.kwds["months"]) * int(offset.n)
    return None


def _month_steps(times: pd.DatetimeIndex) -> np.ndarray | None:
    """The steps of ``times`` in whole months, when every timestamp is on one day of the
    month (or on month ends) at one time of day; else None.

    ``pandas.infer_freq`` knows month starts and ends only, so monthly, quarterly or yearly
    data stamped mid-month (the 15th, as climate and billing data often are) needs this;
    and a missing month is found here in months, where a step in days would point at
    February.
    """
    if times[1] - times[0] < pd.Timedelta(days=27):  # hours, days, weeks: no month steps
        return None
    wall = times.tz_localize(None) if times.tz is not None else times
    day = wall.day.to_numpy()
    time_of_day = (wall - wall.normalize()).to_numpy()
    if (time_of_day != time_of_day[0]).any():
        return None
    if (day != day[0]).any() and not wall.is_month_end.all():
        return None
    return np.diff(wall.year.to_numpy() * 12 + wall.month.to_numpy())


def check_on_frequency(
    panel_times: pd.DatetimeIndex,
    offsets: np.ndarray,
    ids: list,
    offset: pd.offsets.BaseOffset,
    hint: str = "",
) -> None:
    """Check that every series steps exactly by ``offset``.

    ``hint``: what to do about gaps, for the user's layout (:func:`forecast.data.gaps.gap_fix`);
    by default, resampling a wide frame.

    With a business-day offset, missing days are holidays of the calendar, not an error.
    The panel is checked in blocks of rows, not series by series (a pandas loop over series
    took 2 s for 10,000 series); errors still name the first series, in panel order, that
    fails.
    """

    def label(s: int) -> str:
        return "the series" if ids == [None] else series_name(ids[s])

    def series_of(rows: Any) -> Any:  # rows: an int or an array of them
        return np.searchsorted(offsets, rows, side="right") - 1

    # Computed on local wall-clock times for calendar offsets on tz-aware data (a day across
    # a daylight-saving change is 23 or 25 hours long); messages show the user's timestamps.
    wall = _wall_times(panel_times, offset)

    if month_step(offset) is not None:  # DateOffset(months=k): one grid, on one day
        time_of_day = (wall - wall.normalize()).to_numpy().astype("timedelta64[us]")
        stamp = np.asarray(wall.day, dtype=np.int64) * 86_400_000_000 + time_of_day.astype(np.int64)
        other = np.flatnonzero(stamp != stamp[0])
        if other.size:
            k = int(other[0])
            raise DataError(
                f"The timestamps are on different days of the month: {panel_times[0]} of "
                f"{label(0)}, {panel_times[k]} of {label(int(series_of(k)))}. freq="
                f"{freq_code(offset)} steps from one day and time of the month for the whole "
                "panel: put every timestamp on one (e.g. month starts: "
                "df[time_col].dt.to_period('M').dt.to_timestamp()), or fit those series apart."
            )

    step = _fixed_step(offset)
    if step is not None and not _is_business_day(offset):
        # Fixed-length steps (hours, minutes, days): compare consecutive differences.
        stamps, want = wall.asi8, _step_in_unit(step, wall)
        for first, _, stop, within in _row_blocks(len(panel_times), offsets):
            bad = np.flatnonzero(within & (np.diff(stamps[first:stop]) != want))
            if bad.size:
                k = first + int(bad[0])
                raise DataError(
                    f"The timestamps of {label(int(series_of(k)))} do not "
                    f"follow freq {freq_code(offset)}: the first gap is between "
                    f"{panel_times[k]} and {panel_times[k + 1]}. "
                    + (
                        hint
                        or f"Resample the data to {freq_code(offset)} (e.g. df.resample("
                        f"{freq_code(offset)}).mean()) or pass the frequency it really has."
                    )
                )
        return

    # Calendar offsets (month starts, business days, weeks): place every timestamp on the grid
    # of the offset and check positions (pandas does the calendar arithmetic).
    start = wall.min()
    grid = pd.date_range(
        start=start if offset.is_on_offset(start) else offset.rollback(start),
        end=wall.max(),
        freq=offset,
    )
    business = _is_business_day(offset)
    n_series = len(offsets) - 1
    off_grid_row = bad_pair = None
    if business:  # per series: how many pairs are further apart than a closure, the first
        hole_count = np.zeros(n_series, dtype=np.int64)
        first_hole = np.full(n_series, -1, dtype=np.int64)
    for first, end, stop, within in _row_blocks(len(panel_times), offsets):
        position = grid.get_indexer(wall[first:stop])
        off = np.flatnonzero(position[: end - first] < 0)
        if off_grid_row is None and off.size:
            off_grid_row = first + int(off[0])
        jumps = np.diff(position)
        if business:
            holes = first + np.flatnonzero(within & (jumps > _MAX_BUSINESS_GAP + 1))
            where, at, count = np.unique(series_of(holes), return_index=True, return_counts=True)
            hole_count[where] += count
            new = first_hole[where] < 0  # a series' first hole is in the first block with one
            first_hole[where[new]] = holes[at[new]]
        elif bad_pair is None:
            bad = np.flatnonzero(within & (jumps != 1))
            bad_pair = first + int(bad[0]) if bad.size else None
    # The first series that fails either way is reported, an off-grid stamp before a gap,
    # as a series-by-series check would; business-day holes warn per series until then.
    first_off = n_series if off_grid_row is None else int(series_of(off_grid_row))
    if business:
        for s in np.flatnonzero(hole_count[:first_off]):
            k = int(first_hole[s])
            warn(
                f"{label(int(s)).capitalize()} has {hole_count[s]} hole(s) longer than "
                f"{_MAX_BUSINESS_GAP} business days, the first between {panel_times[k]} and "
                f"{panel_times[k + 1]}. The observations are used in order, as consecutive "
                "steps; fill or cut the data if these are missing values rather than closures.",
            )
    first_bad = n_series if bad_pair is None else int(series_of(bad_pair))
    if off_grid_row is not None and first_off <= first_bad:
        extra = " (a weekend, or a holiday of the calendar)" if business else ""
        raise DataError(
            f"Timestamp {panel_times[off_grid_row]} of {label(first_off)} is not on freq "
            f"{freq_code(offset)}{extra}. Pass the frequency the data really has, or resample "
            "it to this one."
        )
    if bad_pair is not None:
        raise DataError(
            f"The timestamps of {label(first_bad)} do not follow freq {freq_code(offset)}: the "
            f"first gap is between {panel_times[bad_pair]} and {panel_times[bad_pair + 1]}. "
            + (hint or f"Resample the data to {freq_code(offset)} or pass the frequency it has.")
        )


# Rows per block of check_on_frequency: arrays over the whole panel (differences, grid
# positions: 8 bytes a row) would be twice the float32 data of a one-column panel.
_ROWS_PER_BLOCK = 1 << 16


def _row_blocks(n_rows: int, offsets: np.ndarray) -> Iterator[tuple[int, int, int, np.ndarray]]:
    """Blocks ``first, end, stop, within`` covering the rows of a panel in order.

    The block owns rows ``first .. end - 1`` and reads up to ``stop - 1`` (one row more, so
    that the pair ``(end - 1, end)`` is checked); ``within[i]`` says whether rows
    ``first + i`` and ``first + i + 1`` belong to the same series.
    """
    boundaries = offsets[1:-1] - 1  # pair k straddles series when k + 1 starts one
    for first in range(0, n_rows, _ROWS_PER_BLOCK):
        end = min(first + _ROWS_PER_BLOCK, n_rows)
        stop = min(end + 1, n_rows)
        within = np.ones(stop - first - 1, dtype=bool)
        lo, hi = np.searchsorted(boundaries, [first, stop - 1])
        within[boundaries[lo:hi] - first] = False
        yield first, end, stop, within


def _step_in_unit(step: pd.Timedelta, times: pd.DatetimeIndex) -> int:
    """``step`` as a count of ``times``' own unit (pandas keeps the unit the data came in:
    ns, us, ms or s), to compare with differences of ``times.asi8``; -1, which no difference
    of sorted timestamps equals, when the unit cannot express it."""
    count, rest = divmod(step.value, pd.Timedelta(1, unit=times.unit).value)
    return -1 if rest else int(count)


def future_times(
    last: pd.DatetimeIndex, freq: pd.offsets.BaseOffset, horizon: int
) -> list[pd.DatetimeIndex]:
    """The next ``horizon`` timestamps after each of ``last``.

    Parameters
    ----------
    last : pandas.DatetimeIndex of length S
        The last observed timestamp of each series.
    freq : pandas.DateOffset
    horizon : int

    Returns
    -------
    list of pandas.DatetimeIndex
        Element ``k`` holds, for every series, the timestamp ``k + 1`` steps ahead.
    """
    local = follows_local_calendar(last, freq)
    start = _wall_times(last, freq)
    with warnings.catch_warnings():
        # CustomBusinessDay (holiday calendars) has no vectorised addition; pandas warns
        # about it. The loop it falls back to is over series, which is what we need.
        warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
        steps = [start + (k * freq) for k in range(1, horizon + 1)]
    if not local:
        return steps
    return [_localize(step, last.tz) for step in steps]


def _localize(wall: pd.DatetimeIndex, tz: Any) -> pd.DatetimeIndex:
    """Local wall-clock times back in ``tz``; a time that does not exist there (skipped by a
    daylight-saving change, e.g. a midnight in zones that change at 00:00) moves forward to
    the first one that does, as the calendar's day starts then."""
    try:
        return wall.tz_localize(tz, nonexistent="shift_forward", ambiguous="raise")
    except ValueError as exc:  # pytz/zoneinfo's AmbiguousTimeError is a ValueError
        raise DataError(
            f"A future timestamp is ambiguous in time zone {tz} ({exc}): a daylight-saving "
            "change repeats that local time. Convert the data to UTC (df.tz_convert('UTC')) "
            "or to a zone without the change."
        ) from exc


def in_zone(times: pd.DatetimeIndex, zone: Any) -> pd.DatetimeIndex:
    """``times`` converted to ``zone`` when both have a zone and they differ (warned of).

    A model fitted on Europe/Berlin days reads a history written in UTC as the same instants
    on Berlin's calendar: otherwise its days would be 23:00 UTC, forecast on a UTC calendar
    that drifts an hour off Berlin's at each daylight-saving change, and its calendar
    features read the previous day. Naive timestamps are left as they are (wall times).
    """
    if zone is None or times.tz is None or str(times.tz) == str(zone):
        return times
    warn_once(
        f"The timestamps are in {times.tz}, the model's in {zone}: they were converted to "
        f"{zone} (the same instants on the calendar the model was fitted on), and the "
        f"forecasts are in {zone}."
    )
    return times.tz_convert(zone)
