"""Gaps made explicit: missing timestamps become rows of NaN, in a frame or in a panel.

* :func:`fill_gaps` (public): per series, the timestamps missing on the series' frequency
  grid are inserted as rows of NaN, in a wide or long frame, for users who want to look at
  or impute the gaps themselves;
* :func:`insert_missing_rows`: the same on a panel's arrays, which ``to_panel`` does with
  ``missing="mask"`` (:mod:`forecast.data.masking` then imputes and masks them), except on
  a business-day frequency, where a missing weekday is a closure of the calendar;
* :func:`nan_fix`, :func:`gap_fix`: the fixes the NaN and gap errors suggest, with code
  that is right for the layout the user passed (a long frame is filled per series: never
  ``df.ffill()`` across series, never ``df.resample`` on a long frame).

Grids are built by pandas (``date_range``): month ends, business days, holiday calendars.
On tz-aware data, calendar frequencies step on local wall-clock time (as
:func:`forecast.data.frequency.follows_local_calendar` says).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from forecast._exceptions import DataError, DataTypeError
from forecast._validation import series_name
from forecast._warnings import warn
from forecast.data.frequency import (
    _is_business_day,
    _localize,
    _wall_times,
    follows_local_calendar,
    freq_code,
    infer_freq,
    month_step,
    resolve_freq,
)

__all__ = ["fill_gaps", "gap_fix", "insert_missing_rows", "nan_fix"]


def nan_fix(layout: Any, column: str) -> str:
    """What to do about NaN in ``column``, for the layout (``id_col``, or None) of the data."""
    id_col = getattr(layout, "id_col", None)
    if id_col is None:
        fill = "fill them (e.g. df.ffill() or df.interpolate()) or drop them (df.dropna())"
    else:  # per series: a plain df.ffill() would carry one series' value into the next
        fill = (
            f"fill them per series (e.g. df[{column!r}] = "
            f"df.groupby({id_col!r})[{column!r}].ffill()) or drop those rows"
        )
    return (
        "Fit with missing='mask' to train and forecast through missing values (imputed "
        f"inputs with an observed channel, missing targets left out of the loss), or {fill}."
    )


def gap_fix(freq: str | None, layout: Any) -> str:
    """What to do about missing timestamps, for the layout (``id_col``, ``time_col``);
    ``freq`` as code (:func:`~forecast.data.frequency.freq_code`)."""
    id_col, time_col = layout.id_col, layout.time_col
    f = "..." if freq is None else freq  # code: 'MS', pandas.DateOffset(months=1)
    if id_col is None:
        args = f"df, freq={f}" + ("" if time_col is None else f", time_col={time_col!r}")
        fill = "then fill them (e.g. .interpolate())"
        if time_col is None:  # a DatetimeIndex: resampling works on the one series
            fill += f", or resample (e.g. df.resample({f if freq else repr('D')}).mean())"
    else:
        args = f"df, freq={f}, id_col={id_col!r}, time_col={time_col!r}"
        fill = f"then fill them per series (e.g. df.groupby({id_col!r}).ffill())"
    return (
        f"If timestamps are missing, fit with missing='mask'{' and freq=' if freq is None else ''}"
        f" to forecast through the gaps, or make them rows of NaN with "
        f"forecast.fill_gaps({args}) and {fill}; else pass the frequency the data really has."
    )


# Under missing="mask", how many of the longest series inference tries for one without gaps.
_MASKED_TRIES = 50


def panel_freq(
    freq: Any,
    times: pd.DatetimeIndex,
    offsets: np.ndarray,
    labels: list[str],
    layout: Any,
    masked: bool = False,
) -> pd.offsets.BaseOffset:
    """``freq`` resolved, or inferred from the longest series (the hint names the fixes).

    Under ``missing="mask"`` (``masked``) gaps are expected: when the longest series has one,
    the next longest are tried (up to 50), so that a panel whose longest series is the one
    with gaps is read as it would be if another were longest (a fit from parts reads a
    sample of its first part, where that is likelier). Their grids are checked after.
    """
    if freq is not None:
        return freq if isinstance(freq, pd.offsets.BaseOffset) else resolve_freq(freq)
    hint = (
        "With missing='mask', pass freq= (e.g. freq='D'): no series has enough timestamps "
        "without gaps to infer it from."
        if masked
        else gap_fix(None, layout)
    )
    order = np.argsort(-np.diff(offsets), kind="stable")[: _MASKED_TRIES if masked else 1]
    first_error: DataError | None = None
    for i in order:
        stamps = times[offsets[i] : offsets[i + 1]]
        try:
            return infer_freq(stamps, labels[i], hint)
        except DataError as exc:
            first_error = first_error or exc
    assert first_error is not None
    raise first_error


def _grid(
    wall: pd.DatetimeIndex, offset: pd.offsets.BaseOffset, anchor: pd.Timestamp | None = None
) -> pd.DatetimeIndex:
    """Every step of ``offset`` from the first of ``wall`` (rolled back onto it) to the last.

    ``DateOffset(months=k)`` is on every timestamp (pandas' ``is_on_offset``), so its grid
    is anchored on ``anchor`` (the data's first timestamp; default the first of ``wall``)
    and stepped back to the first of ``wall`` (a ``fill_gaps`` start bound).
    """
    start = wall.min()
    months = month_step(offset)
    if months is not None:
        anchor = start if anchor is None else anchor
        back = ((anchor.year - start.year) * 12 + anchor.month - start.month) // months
        first = anchor - pd.DateOffset(months=back * months)
        first = first if first >= start else first + offset
    else:
        first = start if offset.is_on_offset(start) else offset.rollback(start)
    return pd.date_range(start=first, end=wall.max(), freq=offset)


def _ranges(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """``concatenate([arange(a, b) for a, b in zip(starts, stops)])``, without the loop."""
    counts = stops - starts
    first = np.repeat(np.cumsum(counts) - counts, counts)
    return np.repeat(starts, counts) + (np.arange(counts.sum()) - first)


def insert_missing_rows(
    values: np.ndarray,
    times: pd.DatetimeIndex,
    offsets: np.ndarray,
    rows: np.ndarray | None,
    offset: pd.offsets.BaseOffset,
) -> tuple[np.ndarray, pd.DatetimeIndex, np.ndarray, np.ndarray | None]:
    """A panel's arrays with each series' missing timestamps inserted as rows of NaN.

    ``values (R, F)``, ``times`` (sorted within each series), ``offsets (S + 1,)`` and
    ``rows`` (the input row of each row, or None for "row i is row i") of a panel; the
    inserted rows get ``rows == -1``. Each series spans its own first to last timestamp
    (nothing is added before or after). Returned unchanged when nothing is missing, or
    when a timestamp is off the grid of ``offset`` (which the frequency check then names).

    Returned unchanged too on a business-day offset (``"B"``, ``CustomBusinessDay``): there a
    missing weekday is a day the market was closed, not a gap (the observations are used in
    order, as :func:`~forecast.data.frequency.check_on_frequency` reads them), so a masked
    fit on complete trading data is the unmasked fit; only its NaN values are masked.
    """
    if _is_business_day(offset):
        return values, times, offsets, rows
    wall = _wall_times(times, offset)
    grid = _grid(wall, offset)
    position = grid.get_indexer(wall)  # (R,)
    if (position < 0).any():
        return values, times, offsets, rows
    first, last = position[offsets[:-1]], position[offsets[1:] - 1]
    lengths = last - first + 1
    if np.array_equal(lengths, np.diff(offsets)):
        return values, times, offsets, rows
    new_offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    series = np.repeat(np.arange(len(lengths)), np.diff(offsets))
    target = new_offsets[series] + position - first[series]  # (R,) where each row goes
    filled = np.full((int(new_offsets[-1]), values.shape[1]), np.nan, dtype=values.dtype)
    filled[target] = values
    new_rows = np.full(len(filled), -1, dtype=np.int64)
    new_rows[target] = np.arange(len(values)) if rows is None else rows
    stamps = grid[_ranges(first, last + 1)]
    if follows_local_calendar(times, offset):
        stamps = _localize(stamps, times.tz)
    return filled, pd.DatetimeIndex(stamps), new_offsets, new_rows


def fill_gaps(
    df: pd.DataFrame,
    *,
    freq: Any,
    id_col: str | None = None,
    time_col: str | None = None,
    start: Any = None,
    end: Any = None,
    static: str | Sequence[str] = (),
) -> pd.DataFrame:
    """Insert each series' missing timestamps as rows of NaN, in a wide or long frame.

    For users who want to look at, count or impute the gaps themselves; the estimators'
    ``missing="mask"`` does this internally. Rows are put in time order within each series
    (series of a long frame in the order they first appear); the existing rows are kept
    unchanged, so dropping the inserted rows gives the input back.

    Parameters
    ----------
    df : pandas.DataFrame
        Wide (one series: a ``DatetimeIndex``, or ``time_col``) or long (``id_col`` and
        ``time_col`` columns, or a ``MultiIndex (id, time)``).
    freq : str or pandas.DateOffset
        The frequency the data should follow (``"D"``, ``"MS"``, ``"B"``, a
        ``CustomBusinessDay``...). Required: with gaps it cannot be inferred reliably.
        Every step of it is inserted: with ``"B"``, every weekday, holidays too (the
        estimators, even with ``missing="mask"``, take a missing business day for a closure
        and insert nothing); a ``CustomBusinessDay`` with the holidays leaves them out.
    id_col, time_col : str, optional
        The series id and timestamp columns (see above).
    start, end : timestamp-like, optional
        Extend every series to start at ``start`` and/or end at ``end`` (default: each
        series' own first and last timestamp). A series with rows outside them keeps them.
    static : sequence of str, optional
        Columns of a long frame that hold one value per series (static covariates: a
        store's size, a region), copied onto the inserted rows. Named, not guessed: a
        target that happens to be constant (a series of zeros) must get NaN there. A
        column constant within every series but not named is said in a warning.

    Returns
    -------
    pandas.DataFrame
        The same columns and layout. In a long frame the id column and the ``static``
        columns are copied onto the inserted rows; every other column is NaN there.
        Integer columns that receive NaN become float64 (bool ones, object), as pandas'
        ``reindex`` makes them.

    Raises
    ------
    DataError
        A timestamp not on ``freq``'s grid, a duplicate timestamp in a series, or a
        ``static`` column that is missing or not constant within a series.

    Examples
    --------
    >>> import pandas as pd
    >>> from forecast import fill_gaps
    >>> df = pd.DataFrame({"store": ["a", "a", "b", "b"],
    ...                    "date": pd.to_datetime(["2024-01-01", "2024-01-03",
    ...                                            "2024-01-01", "2024-01-02"]),
    ...                    "y": [1.0, 3.0, 5.0, 6.0]})
    >>> fill_gaps(df, freq="D", id_col="store", time_col="date")
      store       date    y
    0     a 2024-01-01  1.0
    1     a 2024-01-02  NaN
    2     a 2024-01-03  3.0
    3     b 2024-01-01  5.0
    4     b 2024-01-02  6.0
    """
    offset = freq if isinstance(freq, pd.offsets.BaseOffset) else resolve_freq(freq)
    if not isinstance(df, pd.DataFrame):
        raise DataTypeError(f"fill_gaps needs a pandas DataFrame, got {type(df).__name__}.")
    multiindex = isinstance(df.index, pd.MultiIndex) and id_col is None and time_col is None
    if multiindex:
        if df.index.nlevels != 2:
            raise DataTypeError("A MultiIndex must have 2 levels (id, time).")
        id_name, time_name = str(df.index.names[0] or "id"), str(df.index.names[1] or "time")
        frame = df.reset_index(names=[id_name, time_name])
        out = fill_gaps(
            frame,
            freq=offset,
            id_col=id_name,
            time_col=time_name,
            start=start,
            end=end,
            static=static,
        )
        return out.set_index([id_name, time_name]).rename_axis(df.index.names)
    static = [static] if isinstance(static, str) else list(static)
    if id_col is None:
        if static:
            raise DataError(
                f"static={static!r} names columns copied onto a long frame's inserted rows; "
                "a wide frame (one series) has none: leave it out."
            )
        return _fill_wide(df, offset, time_col, start, end)
    if time_col is None:
        raise DataError(f"id_col={id_col!r} needs time_col= too (a long frame).")
    for col in (id_col, time_col):
        if col not in df.columns:
            raise DataError(f"{col!r} is not a column of the data. Columns: {list(df.columns)}.")
    return _fill_long(df, offset, id_col, time_col, start, end, static)


def _bounds(times: pd.DatetimeIndex, start: Any, end: Any) -> tuple[Any, Any]:
    def stamp(value: Any) -> pd.Timestamp:
        ts = pd.Timestamp(value)
        if times.tz is not None and ts.tz is None:
            ts = ts.tz_localize(times.tz)
        return ts

    return (None if start is None else stamp(start)), (None if end is None else stamp(end))


def _fill_wide(
    df: pd.DataFrame, offset: pd.offsets.BaseOffset, time_col: str | None, start: Any, end: Any
) -> pd.DataFrame:
    frame = df if time_col is None else df.set_index(time_col)
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise DataTypeError(
            "fill_gaps needs a DatetimeIndex, time_col= (a wide frame) or id_col= and "
            "time_col= (a long frame)."
        )
    times = frame.index
    dup = times.duplicated()
    if dup.any():
        raise DataError(f"Duplicate timestamp {times[dup][0]}: aggregate or drop duplicates first.")
    lo, hi = _bounds(times, start, end)
    grid_of = _series_grid(times, offset, lo, hi, "the series")
    out = frame.sort_index().reindex(grid_of)
    out.index.name = times.name
    return out if time_col is None else out.reset_index()


def _series_grid(
    times: pd.DatetimeIndex,
    offset: pd.offsets.BaseOffset,
    lo: Any,
    hi: Any,
    label: str,
) -> pd.DatetimeIndex:
    """The grid of one series from its first (or ``lo``) to its last (or ``hi``) timestamp."""
    extra = [t for t in (lo, hi) if t is not None]
    span = pd.DatetimeIndex(times.append(pd.DatetimeIndex(extra))) if extra else times
    wall, data = _wall_times(span, offset), _wall_times(times, offset)
    grid = _grid(wall, offset, anchor=data.min())
    off = np.flatnonzero(grid.get_indexer(data) < 0)
    if off.size:
        raise DataError(
            f"Timestamp {times[off[0]]} of {label} is not on freq {freq_code(offset)}: "
            "fill_gaps inserts the missing steps of that frequency. Pass the frequency the "
            "data really has."
        )
    if follows_local_calendar(times, offset):
        grid = _localize(grid, times.tz)
    return pd.DatetimeIndex(grid)


def _fill_long(
    df: pd.DataFrame,
    offset: pd.offsets.BaseOffset,
    id_col: str,
    time_col: str,
    start: Any,
    end: Any,
    constant: list[str],
) -> pd.DataFrame:
    times = pd.DatetimeIndex(pd.to_datetime(df[time_col]))
    lo, hi = _bounds(times, start, end)
    ids = df[id_col]
    grouped = df.groupby(id_col, sort=False, dropna=False)
    for c in constant:  # the static columns named: copied onto the inserted rows
        if c not in df.columns or c in (id_col, time_col):
            raise DataError(f"static={c!r} is not a column of the data besides the id and time.")
        varies = grouped[c].nunique(dropna=False) > 1
        if varies.any():
            raise DataError(
                f"static column {c!r} is not constant within "
                f"{series_name(varies.index[varies.to_numpy()][0])}: leave it out of static=."
            )
    unnamed = [
        c
        for c in df.columns
        if c not in (id_col, time_col, *constant)
        and not df[c].isna().any()
        and bool((grouped[c].nunique() == 1).all())
    ]
    parts = []
    for sid, rows in grouped.indices.items():
        stamps = times[rows]
        label = series_name(sid)
        dup = stamps.duplicated()
        if dup.any():
            raise DataError(
                f"Duplicate timestamp {stamps[dup][0]} in {label}: aggregate or drop "
                "duplicates first."
            )
        grid = _series_grid(stamps, offset, lo, hi, label)
        part = df.iloc[rows].set_index(pd.DatetimeIndex(stamps, name=time_col)).sort_index()
        part = part.drop(columns=[time_col]).reindex(grid)
        part[id_col] = ids.iloc[rows[0]]
        for c in constant:
            part[c] = df[c].iloc[rows[0]]
        part.index.name = time_col
        parts.append(part.reset_index())
    if not parts:
        return df.copy()
    out = pd.concat(parts, ignore_index=True)[list(df.columns)]
    if unnamed and len(out) > len(df):
        warn(
            f"Columns {unnamed} are constant within each series but not named in static=: "
            "they are NaN on the inserted rows. Pass static=[...] to copy a static covariate."
        )
    for c in (id_col, *constant):
        if out[c].dtype != df[c].dtype:
            out[c] = out[c].astype(df[c].dtype)
    if out[time_col].dtype != df[time_col].dtype and pd.api.types.is_datetime64_any_dtype(
        df[time_col]
    ):
        out[time_col] = out[time_col].astype(df[time_col].dtype)
    return out
