"""Known-future covariates at predict time: from the user's frame to an array.

At fit, they come from the training frame (:func:`forecast.data.panel.to_panel`). At predict,
they must cover the ``horizon`` timestamps after each series' cutoff;
:func:`future_block` takes them from a ``future_covariates=`` frame laid out like the
training data, and names the series and dates that are missing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast._exceptions import DataError
from forecast._validation import series_name
from forecast.data.frequency import future_times
from forecast.data.panel import Layout

__all__ = ["future_block"]


def _future_frame_index(frame: pd.DataFrame, layout: Layout) -> pd.DataFrame:
    """``frame`` with a (id, time) or time index, whatever layout it came in."""
    if layout.is_long:
        if isinstance(frame.index, pd.MultiIndex):
            frame = frame.reset_index()
        for col in (layout.id_col, layout.time_col):
            if col not in frame.columns:
                raise DataError(
                    f"future_covariates needs column {col!r} (as at fit) to say which series "
                    f"and timestamp each row is for. Columns: {list(frame.columns)}."
                )
        keys = [frame[layout.id_col], pd.DatetimeIndex(pd.to_datetime(frame[layout.time_col]))]
        return frame.set_index(pd.MultiIndex.from_arrays(keys))
    if layout.time_col is not None and layout.time_col in frame.columns:
        return frame.set_index(pd.DatetimeIndex(pd.to_datetime(frame[layout.time_col])))
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise DataError(
            "future_covariates must be indexed by the future timestamps (a DatetimeIndex), "
            f"like the training data; got a {type(frame.index).__name__}."
        )
    return frame


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
        No frame, missing columns, or missing/NaN values, naming the series and dates.
    """
    if frame is None:
        raise DataError(
            f"This model uses known-future covariates {names}: pass their values for the next "
            f"{horizon} step(s) of every series as predict(..., future_covariates=frame)."
        )
    absent = [c for c in names if c not in frame.columns]
    if absent:
        raise DataError(
            f"future_covariates lacks column(s) {absent}; the model was fitted with {names}."
        )
    indexed = _future_frame_index(frame, layout)
    if not indexed.index.is_unique:
        raise DataError(
            "future_covariates has duplicate timestamps"
            + (" within a series" if layout.is_long else "")
            + "; give one row per series and timestamp."
        )
    steps = np.stack([t.to_numpy() for t in future_times(cutoffs, freq, horizon)], axis=1)
    wanted_times = pd.DatetimeIndex(steps.reshape(-1))  # (S * H,)
    if layout.is_long:
        wanted = pd.MultiIndex.from_arrays(
            [np.repeat(np.asarray(ids, dtype=object), horizon), wanted_times]
        )
    else:
        wanted = wanted_times
    values = indexed[names].reindex(wanted).to_numpy(dtype=np.float64, na_value=np.nan)
    missing = np.isnan(values).any(axis=1).reshape(len(ids), horizon)
    if missing.any():
        s = int(np.flatnonzero(missing.any(axis=1))[0])
        nan = np.isnan(values.reshape(len(ids), horizon, len(names))[s]).any(axis=0)
        columns = [n for n, bad in zip(names, nan, strict=True) if bad]
        dates = [str(pd.Timestamp(t)).removesuffix(" 00:00:00") for t in steps[s][missing[s]]]
        who = "the series" if not layout.is_long else series_name(ids[s])
        more = int(missing.any(axis=1).sum()) - 1
        raise DataError(
            f"future_covariates has no values (or NaN) in {columns} for {who} at {dates[:5]}"
            + (f" and {len(dates) - 5} more" if len(dates) > 5 else "")
            + (f" ({more} other series too)" if more > 0 else "")
            + f": the model needs {names} at the {horizon} step(s) after each series' last "
            "timestamp (model.make_future_frame() lays them out, calendar features filled)."
        )
    return values.reshape(len(ids), horizon, len(names)).astype(np.float32)
