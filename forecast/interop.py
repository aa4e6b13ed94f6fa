"""Converters for users moving over: Darts' ``TimeSeries`` and sktime's multi-index panels.

``forecast`` reads pandas frames (and polars, pyarrow: :mod:`forecast.data.frames`) in two
layouts: **wide** (one series, timestamps in a ``DatetimeIndex`` or ``time_col``) and
**long** (``id_col``, ``time_col`` and value columns; Nixtla's ``unique_id, ds, y`` need no
arguments). These functions move data between that and the other libraries' containers:

=================  =============================================  ============================
library            their container                                here
=================  =============================================  ============================
Darts              one ``TimeSeries`` (components = columns),     :func:`to_darts`,
                   or a list, the id as a static covariate        :func:`from_darts`
sktime             ``pd.DataFrame`` with a ``MultiIndex``         :func:`to_sktime`,
                   ``(instance, time)`` ("pd-multiindex")         :func:`from_sktime`
=================  =============================================  ============================

Darts and sktime are optional (``pip install "forecast-rnn[darts]"``, ``"forecast-rnn[sktime]"``),
imported only by the functions that need them. The conversions use the libraries' own
constructors (Darts' ``TimeSeries.from_group_dataframe``), so each library checks its data
its own way. What has no counterpart is refused, not dropped: Darts' ``TimeSeries`` has no
time zone (convert to UTC or to local wall times first), a probabilistic ``TimeSeries``
has samples where a frame has one value, and sktime's hierarchies have more than one id
level.

Covariates: a Darts model takes past and future covariates as separate ``TimeSeries``;
``to_darts(df, target=["price"])`` makes them from the same frame, and ``from_darts`` of a
covariate series gives a frame to merge on the id and time columns. sktime keeps ``y`` and
``X`` as two frames of the same index: select their columns from :func:`to_sktime`'s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from forecast._exceptions import DataError, DataTypeError
from forecast.data.conventions import default_columns
from forecast.data.frames import to_pandas

if TYPE_CHECKING:
    from darts import TimeSeries

__all__ = ["from_darts", "from_sktime", "to_darts", "to_sktime"]


def _darts() -> Any:
    """The darts module, or the command that installs it."""
    try:
        import darts
    except ImportError:
        raise DataTypeError(
            "This converter needs Darts: pip install 'forecast-rnn[darts]'."
        ) from None
    return darts


def _long_or_wide(
    df: Any, id_col: str | None, time_col: str | None, target: str | list[str] | None
) -> tuple[pd.DataFrame, str | None, str | None, list[str] | None]:
    """The frame (pandas) and its id and time columns, resolved as ``fit`` resolves them."""
    frame, _ = to_pandas(df)
    if not isinstance(frame, pd.DataFrame):
        raise DataTypeError(f"Expected a DataFrame, got {type(df).__name__}.")
    id_col, time_col, target = default_columns(frame, id_col, time_col, target)
    if isinstance(frame.index, pd.MultiIndex) and id_col is None and time_col is None:
        if frame.index.nlevels != 2:
            raise DataTypeError(
                f"A MultiIndex must have 2 levels (id, time); this one has "
                f"{frame.index.nlevels}. Pass id_col= and time_col= for a long frame with "
                "columns."
            )
        id_col = str(frame.index.names[0] or "unique_id")
        time_col = str(frame.index.names[1] or "ds")
        frame = frame.reset_index(names=[id_col, time_col])
    for name, col in (("id_col", id_col), ("time_col", time_col)):
        if col is not None and col not in frame.columns:
            raise DataError(f"{name}={col!r} is not a column of the data: {list(frame.columns)}.")
    if id_col is not None and time_col is None:
        raise DataError(f"id_col={id_col!r} needs time_col= too.")
    index = frame.index
    if time_col is None and not (
        isinstance(index, pd.PeriodIndex) or pd.api.types.is_datetime64_any_dtype(index)
    ):
        # fit refuses this frame too; converted as it is, its date column would be a value
        # column of a series indexed 0, 1, 2 (a polars or pyarrow frame has no index).
        dated = [c for c in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[c])]
        hint = f" Column {dated[0]!r} holds dates: pass time_col={dated[0]!r}." if dated else ""
        raise DataTypeError(
            f"The index is a {type(index).__name__}, not datetime-like, and no time_col was "
            f"given. Pass time_col= (or a frame indexed by its timestamps).{hint}"
        )
    targets = None if target is None else [target] if isinstance(target, str) else list(target)
    return frame, id_col, time_col, targets


def _times(frame: pd.DataFrame, time_col: str | None) -> pd.Index:
    return frame.index if time_col is None else pd.Index(frame[time_col])


def to_darts(
    df: Any,
    *,
    target: str | list[str] | None = None,
    id_col: str | None = None,
    time_col: str | None = None,
    static_covariates: str | list[str] | None = None,
    freq: str | None = None,
) -> TimeSeries | list[TimeSeries]:
    """A frame as Darts ``TimeSeries``: one for a wide frame, a list for a long one.

    Parameters
    ----------
    df : pandas.DataFrame, polars.DataFrame or pyarrow.Table
        Wide or long, as ``fit`` takes it (Nixtla's ``unique_id, ds, y`` with no arguments;
        a ``MultiIndex (id, time)``).
    target : str or list of str, optional
        The columns that become the series' components; default every numeric column but
        the static covariates (``y`` for Nixtla's format).
    id_col, time_col : str, optional
        As for ``fit``.
    static_covariates : str or list of str, optional
        Columns constant within each series, kept as Darts static covariates (the id is
        one already, named ``id_col``).
    freq : str, optional
        Passed to Darts; inferred by Darts when omitted.

    Returns
    -------
    darts.TimeSeries or list of darts.TimeSeries
        A list holds one series per id, in the order Darts groups them (sorted ids); each
        has the static covariate ``id_col`` with its id.

    Raises
    ------
    DataTypeError
        Darts is not installed, or the timestamps have a time zone (a ``TimeSeries`` has
        none: ``df[time_col].dt.tz_convert("UTC").dt.tz_localize(None)`` first, or
        ``.dt.tz_localize(None)`` for local wall times, which are irregular across DST), or
        a wide frame has no ``time_col`` and no datetime-like index (as ``fit`` refuses it).

    Examples
    --------
    >>> from forecast.interop import to_darts
    >>> from forecast.datasets import load_air_passengers
    >>> series = to_darts(load_air_passengers())  # doctest: +SKIP
    >>> series.components.tolist(), str(series.freq)  # doctest: +SKIP
    (['passengers'], '<MonthBegin>')
    """
    darts = _darts()
    frame, id_col, time_col, targets = _long_or_wide(df, id_col, time_col, target)
    times = _times(frame, time_col)
    if isinstance(times.dtype, pd.DatetimeTZDtype):
        where = "the index" if time_col is None else f"column {time_col!r}"
        raise DataTypeError(
            f"The timestamps in {where} have the time zone {times.dtype.tz}, and a Darts "
            "TimeSeries has none. Convert them first: to UTC with "
            ".tz_convert('UTC').tz_localize(None), or to local wall times with "
            ".tz_localize(None) (irregular across DST changes)."
        )
    statics = [] if static_covariates is None else list(np.atleast_1d(static_covariates))
    if targets is None:
        skip = {id_col, time_col, *statics}
        targets = [
            c for c in frame.columns if c not in skip and pd.api.types.is_numeric_dtype(frame[c])
        ]
    if id_col is None:
        return darts.TimeSeries.from_dataframe(
            frame, time_col=time_col, value_cols=targets, freq=freq, static_covariates=None
        )
    return list(
        darts.TimeSeries.from_group_dataframe(
            frame,
            group_cols=id_col,
            time_col=time_col,
            value_cols=targets,
            static_cols=statics or None,
            freq=freq,
        )
    )


def _darts_frame(series: Any, time_col: str | None, where: str) -> pd.DataFrame:
    """One deterministic ``TimeSeries`` as a frame indexed by its timestamps."""
    index = series.time_index
    if not isinstance(index, pd.DatetimeIndex):
        raise DataTypeError(
            f"{where} is indexed by {type(index).__name__}, not timestamps; forecast needs "
            "dates. Rebuild it with TimeSeries.from_times_and_values(dates, ...)."
        )
    if not series.is_deterministic:
        raise DataError(
            f"{where} has {series.n_samples} samples per step; a frame holds one value. "
            "Pass series.quantile(0.5) (or .mean()) instead."
        )
    values = series.values(copy=False)  # (time, components)
    frame = pd.DataFrame(values, index=index.copy(), columns=list(series.components))
    frame.index.name = time_col if time_col is not None else (index.name or "ds")
    return frame


def from_darts(
    series: Any, *, id_col: str = "unique_id", time_col: str | None = None
) -> pd.DataFrame:
    """Darts ``TimeSeries`` as a pandas frame ``fit`` reads: the inverse of :func:`to_darts`.

    Parameters
    ----------
    series : darts.TimeSeries or sequence of darts.TimeSeries
        Deterministic series indexed by timestamps.
    id_col : str, default "unique_id"
        For a list: the static covariate that holds each series' id. Series without static
        covariates are numbered ``0, 1, ...`` in list order instead.
    time_col : str, optional
        The name of the timestamps (index of a wide frame, column of a long one); default
        the series' time index name, else ``"ds"``.

    Returns
    -------
    pandas.DataFrame
        One series: wide, indexed by its timestamps (with the series' ``freq``), one column
        per component. A list: long, ``id_col, time_col``, the components, then the other
        static covariates (constant within each series: pass them as
        ``static_covariates=`` to an estimator).

    Raises
    ------
    DataError
        A probabilistic series; series with static covariates but none named ``id_col``;
        series with different components.
    DataTypeError
        A series indexed by integers, not timestamps.
    """
    darts = _darts()
    if isinstance(series, darts.TimeSeries):
        frame = _darts_frame(series, time_col, "The series")
        return frame.set_axis(pd.DatetimeIndex(frame.index, freq=series.freq))
    series = list(series)
    if not series:
        raise DataError("from_darts got an empty list of series.")
    statics = [s.static_covariates for s in series]
    have = [st is not None and id_col in st.columns for st in statics]
    if not all(have) and any(st is not None and len(st.columns) for st in statics):
        names = sorted({str(c) for st in statics if st is not None for c in st.columns})
        raise DataError(
            f"The series have the static covariates {names}, but not {id_col!r} in every "
            "series, so their ids are unknown. Pass id_col= with the one that holds the id."
        )
    parts = []
    for i, (s, st) in enumerate(zip(series, statics, strict=True)):
        if list(s.components) != list(series[0].components):
            raise DataError(
                f"Series {i} has the components {list(s.components)}, series 0 "
                f"{list(series[0].components)}: a long frame has one set of columns."
            )
        part = _darts_frame(s, time_col, f"Series {i}").reset_index()
        sid = st[id_col].iloc[0] if all(have) else i
        part.insert(0, id_col, sid)
        if st is not None:
            for name in st.columns:
                if name != id_col:
                    part[name] = st[name].iloc[0]
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def to_sktime(df: Any, *, id_col: str | None = None, time_col: str | None = None) -> pd.DataFrame:
    """A frame in sktime's layout: a ``MultiIndex (instance, time)`` for a long one.

    Parameters
    ----------
    df : pandas.DataFrame, polars.DataFrame or pyarrow.Table
        Wide or long, as ``fit`` takes it.
    id_col, time_col : str, optional
        As for ``fit`` (Nixtla's ``unique_id, ds`` with no arguments).

    Returns
    -------
    pandas.DataFrame
        Long: sktime's ``"pd-multiindex"`` panel, indexed by ``(id_col, time_col)`` sorted
        (sktime's order), every other column kept. Wide: indexed by its timestamps
        (sktime's ``"pd.DataFrame"``). Select ``y`` and ``X`` from its columns.

    Raises
    ------
    DataTypeError
        A wide frame with no ``time_col`` and no datetime-like index (a polars or pyarrow
        frame has no index: name its time column), as ``fit`` refuses it.

    Examples
    --------
    >>> import pandas as pd
    >>> from forecast.interop import to_sktime
    >>> df = pd.DataFrame({"unique_id": ["b", "a"], "ds": ["2024-01-01"] * 2, "y": [1.0, 2.0]})
    >>> to_sktime(df).index.tolist()
    [('a', Timestamp('2024-01-01 00:00:00')), ('b', Timestamp('2024-01-01 00:00:00'))]
    """
    frame, id_col, time_col, _ = _long_or_wide(df, id_col, time_col, None)
    if time_col is not None:
        frame = frame.assign(**{time_col: pd.to_datetime(frame[time_col])})
    if id_col is None:
        return frame if time_col is None else frame.set_index(time_col)
    return frame.set_index([id_col, time_col]).sort_index()


def from_sktime(
    X: pd.DataFrame | pd.Series, *, id_col: str = "unique_id", time_col: str = "ds"
) -> pd.DataFrame:
    """sktime's panel (or single series) as a frame ``fit`` reads: the inverse of :func:`to_sktime`.

    Parameters
    ----------
    X : pandas.DataFrame or pandas.Series
        ``"pd-multiindex"`` (a ``MultiIndex (instance, time)``), or one series indexed by
        time (``"pd.DataFrame"``, ``"pd.Series"``). A ``PeriodIndex`` becomes the periods'
        start timestamps.
    id_col, time_col : str
        Names of the id and time columns of the long frame returned for a panel.

    Returns
    -------
    pandas.DataFrame
        A panel: long, columns ``id_col, time_col`` and ``X``'s columns, in ``X``'s row
        order. One series: wide, indexed by its timestamps.

    Raises
    ------
    DataError
        A hierarchy (more than two index levels): join the upper levels into one id first.
    """
    frame = X.to_frame() if isinstance(X, pd.Series) else X
    index = frame.index
    if not isinstance(index, pd.MultiIndex):
        if isinstance(index, pd.PeriodIndex):
            frame = frame.set_axis(index.to_timestamp(how="start"))
        return frame
    if index.nlevels != 2:
        raise DataError(
            f"The frame has {index.nlevels} index levels (a hierarchy); forecast's long frame "
            "has one id and one time column. Join the upper levels into one id first "
            "(X.index = X.index.droplevel(...) or a combined key)."
        )
    times = index.levels[1]
    if isinstance(times, pd.PeriodIndex):
        index = index.set_levels(list(times.to_timestamp(how="start")), level=1)
    return frame.set_axis(index).reset_index(names=[id_col, time_col])
