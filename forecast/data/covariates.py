"""Known-future covariates at predict time: from the user's frame to an array.

At fit, they come from the training frame (:func:`forecast.data.panel.to_panel`). At predict,
they must cover the ``horizon`` timestamps after each series' cutoff;
:func:`future_block` takes them from a ``future_covariates=`` frame laid out like the
training data, and names the series and dates that are missing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

from forecast._exceptions import DataError, DataTypeError
from forecast._validation import series_name
from forecast.data.frequency import future_times
from forecast.data.panel import Layout, _to_datetime
from forecast.data.representable import unfit_for, what_is_wrong

__all__ = ["future_block"]

_DTYPE = np.dtype(np.float32)  # what the network reads them in


def _future_frame_index(frame: pd.DataFrame, layout: Layout) -> pd.DataFrame:
    """``frame`` with a (id, time) or time index, whatever layout it came in.

    As at fit (:func:`forecast.data.panel.to_panel`): a long frame's ids and timestamps are
    its id and time columns, or, when it has neither, its ``MultiIndex (id, time)`` (which
    ``set_index([...], drop=False)`` keeps beside the columns: then the columns are read).
    """
    if layout.is_long:
        keys = [layout.id_col, layout.time_col]
        if isinstance(frame.index, pd.MultiIndex) and not set(keys) & set(frame.columns):
            by_name = set(frame.index.names) == set(keys)
            if not by_name and frame.index.nlevels != 2:
                raise DataTypeError(
                    f"future_covariates has a MultiIndex of {frame.index.nlevels} levels; "
                    f"give it 2 (id, time), or columns {keys} (as at fit)."
                )
            frame = frame.reset_index() if by_name else frame.reset_index(names=keys)
        for col in keys:
            if col not in frame.columns:
                raise DataError(
                    f"future_covariates needs column {col!r} (as at fit) to say which series "
                    f"and timestamp each row is for. Columns: {list(frame.columns)}."
                )
        where = f"future_covariates column {layout.time_col!r}"
        times = _to_datetime(frame[layout.time_col], where)
        return frame.set_index(pd.MultiIndex.from_arrays([frame[layout.id_col], times]))
    if layout.time_col is not None and layout.time_col in frame.columns:
        where = f"future_covariates column {layout.time_col!r}"
        return frame.set_index(_to_datetime(frame[layout.time_col], where))
    if not isinstance(frame.index, pd.DatetimeIndex | pd.PeriodIndex):
        raise DataError(
            "future_covariates must be indexed by the future timestamps (a DatetimeIndex or "
            f"PeriodIndex), like the training data; got a {type(frame.index).__name__}."
        )
    # As fit reads a wide frame's index: a PeriodIndex is its periods' start times.
    return frame.set_axis(_to_datetime(frame.index, "the future_covariates index"))


def _in_zone(
    indexed: pd.DataFrame, zone: Any, layout: Layout, wanted: pd.DatetimeIndex
) -> pd.DataFrame:
    """``indexed`` (:func:`_future_frame_index`) with its timestamps in ``zone`` (None:
    naive), that of the cutoffs and of the timestamps ``wanted`` over the horizon.

    Timestamps in another zone are the same instants, converted (as ``predict(df)`` reads a
    history). A naive frame for a zoned model, or the reverse, is refused naming both:
    a wall time is no instant, and looking it up among instants found nothing, which was
    reported as missing values at every step.
    """
    long = layout.is_long
    times = pd.DatetimeIndex(indexed.index.get_level_values(1) if long else indexed.index)
    if (times.tz is None) == (zone is None):
        if zone is None or str(times.tz) == str(zone):
            return indexed
        times = times.tz_convert(zone)
        if long:
            ids = indexed.index.get_level_values(0)
            return indexed.set_axis(pd.MultiIndex.from_arrays([ids, times]))
        return indexed.set_axis(times)
    col = layout.time_col
    example = f"{times[0]}" if len(times) else "none"
    first = f"{wanted[0]}" if len(wanted) else "none"
    if zone is None:
        raise DataError(
            f"future_covariates' timestamps are in {times.tz} (e.g. {example}), the "
            f"model's have no time zone (e.g. {first}). Drop the zone, keeping the wall "
            "times: "
            + (f"future[{col!r}].dt.tz_localize(None)" if long else "future.tz_localize(None)")
            + " (first .tz_convert(...) to the zone whose wall times the model was fitted on)."
        )
    to = f"tz_localize({str(zone)!r})"
    raise DataError(
        f"future_covariates' timestamps have no time zone (e.g. {example}), the model's are "
        f"in {zone} (e.g. {first}): naive times name no instant to match. Localise them to "
        "the model's zone: "
        + (
            f"future[{col!r}] = future[{col!r}].dt.{to}."
            if long
            else f"future.{to} (a PeriodIndex: future.to_timestamp().{to})."
        )
    )


def _check_columns(frame: pd.DataFrame, names: list[str]) -> None:
    """The frame's columns: each name once, the model's covariates there and numeric (as
    ``fit`` wants them: a column of strings is refused there, even of number-like ones)."""
    repeated = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
    if repeated:
        raise DataError(
            f"future_covariates has repeated column names {repeated}: give each column once "
            "(e.g. df.loc[:, ~df.columns.duplicated()])."
        )
    absent = [c for c in names if c not in frame.columns]
    if absent:
        raise DataError(
            f"future_covariates lacks column(s) {absent}; the model was fitted with {names}."
        )
    for c in names:
        column = frame[c]
        if not (is_numeric_dtype(column) or is_bool_dtype(column)):
            raise DataTypeError(
                f"future_covariates column {c!r} must be numeric, as at fit; it has dtype "
                f"{column.dtype}. Convert it, as for fit (pandas.to_numeric(future[{c!r}]))."
            )


def _check_representable(
    values: np.ndarray, names: list[str], who: Callable[[int], str], steps: np.ndarray
) -> None:
    """Refuse infinities and values float32 cannot hold in ``values (S, H, C)``, the first
    named by column, series and timestamp (scaled, they overflowed: 'refit the model')."""
    bad = unfit_for(values, _DTYPE) & ~np.isnan(values)
    if not bad.any():
        return
    s, h, c = (int(i[0]) for i in np.nonzero(bad))
    value = float(values[s, h, c])
    what, fix = what_is_wrong(value, _DTYPE, col=names[c])
    fix = "Give finite values." if np.isinf(value) else fix  # not 'before fitting'
    raise DataError(
        f"future_covariates column {names[c]!r} has {what} for {who(s)} at "
        f"{pd.Timestamp(steps[s, h])} ({int(bad.sum())} such value(s)). {fix}"
    )


def future_block(
    frame: pd.DataFrame | None,
    names: list[str],
    layout: Layout,
    ids: list,
    cutoffs: pd.DatetimeIndex,
    freq: pd.offsets.BaseOffset,
    horizon: int,
) -> np.ndarray:
    """Known-future covariate values over the horizon of every series, ``(S, H, C)`` float32.

    Parameters
    ----------
    frame : pandas.DataFrame or None
        The user's ``future_covariates=`` frame: the columns ``names`` at (at least) the
        ``horizon`` timestamps after each series' last timestamp; extra rows are ignored.
    names : list of str
        The known-future covariate columns the model was fitted with.
    layout : Layout
        How ids and timestamps are given (as at fit).
    ids, cutoffs : list, pandas.DatetimeIndex
        Series and their last observed timestamps.
    freq : pandas.DateOffset
    horizon : int
        The trained horizon H: the network reads the covariates of all H steps.

    Raises
    ------
    DataError
        No frame, missing or repeated columns, missing/NaN values, or values float32
        cannot hold (infinite, beyond its range), naming the series and dates.
    DataTypeError
        A covariate column that is not numeric, timestamps that are not dates.
    """
    if frame is None:
        raise DataError(
            f"This model uses known-future covariates {names}: pass their values for the next "
            f"{horizon} step(s) of every series as predict(..., future_covariates=frame)."
        )
    _check_columns(frame, names)
    indexed = _future_frame_index(frame, layout)
    if not indexed.index.is_unique:
        raise DataError(
            "future_covariates has duplicate timestamps"
            + (" within a series" if layout.is_long else "")
            + "; give one row per series and timestamp."
        )
    steps = np.stack([t.to_numpy() for t in future_times(cutoffs, freq, horizon)], axis=1)
    wanted_times = pd.DatetimeIndex(steps.reshape(-1))  # (S * H,)
    indexed = _in_zone(indexed, cutoffs.tz, layout, wanted_times)
    if layout.is_long:
        wanted = pd.MultiIndex.from_arrays(
            [np.repeat(np.asarray(ids, dtype=object), horizon), wanted_times]
        )
    else:
        wanted = wanted_times
    values = indexed[names].reindex(wanted).to_numpy(dtype=np.float64, na_value=np.nan)
    label = (lambda s: series_name(ids[s])) if layout.is_long else (lambda s: "the series")
    block = values.reshape(len(ids), horizon, len(names))
    missing = np.isnan(values).any(axis=1).reshape(len(ids), horizon)
    if missing.any():
        s = int(np.flatnonzero(missing.any(axis=1))[0])
        nan = np.isnan(block[s]).any(axis=0)
        columns = [n for n, bad in zip(names, nan, strict=True) if bad]
        dates = [str(pd.Timestamp(t)).removesuffix(" 00:00:00") for t in steps[s][missing[s]]]
        more = int(missing.any(axis=1).sum()) - 1
        raise DataError(
            f"future_covariates has no values (or NaN) in {columns} for {label(s)} at {dates[:5]}"
            + (f" and {len(dates) - 5} more" if len(dates) > 5 else "")
            + (f" ({more} other series too)" if more > 0 else "")
            + f": the model needs {names} at the {horizon} step(s) after each series' last "
            "timestamp (model.make_future_frame() lays them out, calendar features filled)."
        )
    _check_representable(block, names, label, steps)
    return block.astype(np.float32)
