"""Input validation and conversion: a wide or long DataFrame becomes a :class:`Panel`.

Everything the user hands us passes through :func:`to_panel` before any training starts,
so every data error is raised here, with the column, series and timestamp it concerns and
the fix. The rest of the package only sees a validated :class:`Panel`:

* ``values``: one float32 array ``(T, F)`` with every series one after the other, targets in
  the first columns and past covariates after them;
* ``offsets``: where each series starts and ends in ``values``;
* ``times``: the timestamp of each row; ``freq``: the one frequency all series share.

Two layouts are accepted (see :class:`Layout`):

* **wide**: one series; a ``DatetimeIndex`` (or ``time_col``) and numeric columns;
* **long**: many series; ``id_col`` and ``time_col`` columns, or a ``MultiIndex (id, time)``.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

from forecast._exceptions import DataError, DataTypeError, InvalidParameterError
from forecast._validation import series_name
from forecast._warnings import warn, warn_once
from forecast.data.conventions import default_columns
from forecast.data.frequency import check_on_frequency, freq_code, in_zone
from forecast.data.gaps import gap_fix, insert_missing_rows, panel_freq
from forecast.data.past_covariates import choose_past
from forecast.data.representable import unfit_for, warn_if_rounded, what_is_wrong
from forecast.data.static import static_values as static_values_of

__all__ = ["Columns", "Layout", "Panel", "series_positions", "to_panel"]


@dataclass(frozen=True)
class Layout:
    """Where ids and timestamps live in the user's frame, to give the output the same shape.

    Attributes
    ----------
    id_col : str or None
        Column (or index level) naming the series; ``None`` for a wide, single-series frame.
    time_col : str or None
        Column (or index level) with the timestamps; ``None`` means the index of a wide frame.
    time_name : str or None
        Name used for the time index or column of the output.
    multiindex : bool
        Whether ids and timestamps came as a ``MultiIndex (id, time)`` (the output gets one).
    source : forecast.data.frames.FrameKind or None
        The library of the frame fitted on (polars, pyarrow), for ``predict()`` to answer in
        it; ``None`` for pandas. Set by ``fit``; not saved in model files.
    """

    id_col: str | None
    time_col: str | None
    time_name: Hashable | None
    multiindex: bool = False
    source: Any = field(default=None, compare=False, repr=False)

    @property
    def is_long(self) -> bool:
        """Whether the data has one row per (series, timestamp) with an id column."""
        return self.id_col is not None


@dataclass
class Panel:
    """Validated series, stored back to back in one float32 array.

    Attributes
    ----------
    values : numpy.ndarray of shape (T, F), float32
        All series concatenated; columns are ``target_names + covariate_names``.
    offsets : numpy.ndarray of shape (S + 1,), int64
        Series ``i`` occupies rows ``offsets[i]:offsets[i + 1]``.
    ids : list
        Series identifiers, ``[None]`` for a wide frame.
    times : pandas.DatetimeIndex of length T
        Timestamp of each row.
    target_names, covariate_names, future_names : list of str
        The columns in ``values``: targets, past covariates, known-future covariates.
    freq : pandas.DateOffset
        The frequency shared by all series.
    static : numpy.ndarray of shape (S, Z), float32, or None
        Static covariates, one row per series (not part of ``values``).
    static_names : list of str
        Their column names.
    rows : numpy.ndarray of shape (T,), int64, or None
        Position in the input frame of each row of ``values`` (so that a subset of rows can
        be cut from the user's own frame, e.g. the history before a backtest cutoff);
        ``None`` when the frame was already sorted by series and time (row i is row i);
        -1 for a row ``missing="mask"`` inserted for a missing timestamp.
    """

    values: np.ndarray
    offsets: np.ndarray
    ids: list[Any]
    times: pd.DatetimeIndex
    target_names: list[str]
    covariate_names: list[str]
    freq: pd.offsets.BaseOffset
    future_names: list[str] = field(default_factory=list)
    static: np.ndarray | None = None
    static_names: list[str] = field(default_factory=list)
    rows: np.ndarray | None = None

    @property
    def n_series(self) -> int:
        return len(self.ids)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @property
    def feature_names(self) -> list[str]:
        """Columns of ``values``: targets, past covariates, known-future covariates."""
        return [*self.target_names, *self.covariate_names, *self.future_names]

    def subset(self, keep: np.ndarray) -> Panel:
        """The panel restricted to the series at positions ``keep`` (in that order)."""
        keep = np.asarray(keep, dtype=np.int64)
        begin, end = self.offsets[keep], self.offsets[keep + 1]
        rows = np.concatenate([np.arange(a, b) for a, b in zip(begin, end, strict=True)])
        return Panel(
            values=self.values[rows],
            offsets=np.concatenate([[0], np.cumsum(end - begin)]).astype(np.int64),
            ids=[self.ids[i] for i in keep],
            times=self.times[rows],
            target_names=self.target_names,
            covariate_names=self.covariate_names,
            freq=self.freq,
            future_names=self.future_names,
            static=None if self.static is None else self.static[keep],
            static_names=self.static_names,
            rows=rows if self.rows is None else self.rows[rows],
        )

    def head(self, lengths: np.ndarray) -> Panel:
        """The panel with series ``i`` cut to its first ``lengths[i]`` rows (each >= 1).

        What converting the user's frame cut at those rows would give (the history before a
        cutoff), without converting it again.
        """
        lengths = np.asarray(lengths, dtype=np.int64)
        if lengths.shape != (self.n_series,) or (lengths < 1).any():
            raise ValueError(f"head needs one length >= 1 per series, got {lengths!r}")
        return self._rows_from(self.offsets[:-1], np.minimum(lengths, self.lengths))

    def drop_first(self, counts: np.ndarray) -> Panel:
        """Series ``i`` without its first ``counts[i]`` rows: a sliding window's history."""
        counts = np.asarray(counts, dtype=np.int64)
        if counts.shape != (self.n_series,) or (counts < 0).any() or (counts >= self.lengths).any():
            raise ValueError(f"drop_first needs 0 <= counts < lengths per series, got {counts!r}")
        return self._rows_from(self.offsets[:-1] + counts, self.lengths - counts)

    def _rows_from(self, starts: np.ndarray, counts: np.ndarray) -> Panel:
        """The panel with series ``i`` cut to ``counts[i]`` rows from row ``starts[i]``."""
        first = np.repeat(np.cumsum(counts) - counts, counts)
        rows = np.repeat(starts, counts) + (np.arange(counts.sum()) - first)
        return replace(
            self,
            values=self.values[rows],
            offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
            times=self.times[rows],
            rows=rows if self.rows is None else self.rows[rows],
        )

    def describe(self, positions: np.ndarray, counts: np.ndarray | None = None) -> str:
        """``"'a' has 3, 'b' has 4"`` for series at ``positions`` (10 at most, then a count);
        ``counts`` (one per position) default to the series' lengths."""
        positions = np.asarray(positions)
        counts = self.lengths[positions] if counts is None else np.asarray(counts)
        shown = ", ".join(
            f"{self.series_label(int(i))} has {c}"
            for i, c in zip(positions[:10], counts[:10], strict=True)
        )
        more = len(positions) - 10
        return shown + (f" (and {more} more)" if more > 0 else "")

    def astype(self, dtype: Any) -> Panel:
        """The panel with ``values`` as ``dtype``, refused as :func:`to_panel` would refuse it.

        A value beyond the range of ``dtype`` (float64 data narrowed to float32) is a
        :class:`~forecast.DataError` naming the column, series and timestamp.
        """
        dtype = np.dtype(dtype)
        if dtype == self.values.dtype:
            return self
        bad = unfit_for(self.values, dtype) & ~np.isnan(self.values)  # NaN: missing="mask"
        if bad.any():
            row, j = (int(k[0]) for k in np.nonzero(bad))
            series = int(self.series_of(row))
            what, fix = what_is_wrong(float(self.values[row, j]), dtype)
            raise DataError(
                f"Column {self.feature_names[j]!r} has {what} at {self.times[row]} in "
                f"{self.series_label(series)} ({int(bad[:, j].sum())} such value(s) in that "
                f"column). {fix}"
            )
        narrow = self.values.astype(dtype)
        warn_if_rounded(self.values, narrow, self.offsets, self.series_label, self.feature_names)
        return replace(self, values=narrow)

    @property
    def last_times(self) -> pd.DatetimeIndex:
        """The last timestamp of each series (its cutoff)."""
        return self.times[self.offsets[1:] - 1]

    def series_of(self, rows: Any) -> Any:
        """The series of each row of ``values``: an int for an int, an array for an array."""
        return np.searchsorted(self.offsets, rows, side="right") - 1

    def series_label(self, i: int) -> str:
        """How series ``i`` is named in messages."""
        return "the series" if self.ids == [None] else series_name(self.ids[i])


def series_positions(ids: Sequence[Any], among: Sequence[Any]) -> tuple[np.ndarray, list[Any]]:
    """The position in ``among`` of each of ``ids``, and those of ``ids`` not in it.

    Positions of ids not found are -1; the caller says what their absence means.
    """
    where = {sid: i for i, sid in enumerate(among)}
    positions = np.array([where.get(sid, -1) for sid in ids], dtype=np.int64)
    return positions, [sid for sid in ids if sid not in where]


# ---------------------------------------------------------------------------------------------
# Frame → Panel


def _to_datetime(values: Any, where: str) -> pd.DatetimeIndex:
    if isinstance(values, pd.PeriodIndex):
        return values.to_timestamp(how="start")
    categories = getattr(getattr(values, "cat", None), "categories", None)
    kind = pd.api.types.infer_dtype(values if categories is None else categories, skipna=True)
    if kind in ("integer", "floating", "mixed-integer-float", "decimal", "boolean"):
        # pandas.to_datetime reads numbers as nanoseconds since 1970: time steps 1, 2, 3
        # (or years 2001, 2002) would be dated 1970-01-01 00:00:00.000000001, and the
        # forecast dated wrong without a word.
        raise DataTypeError(
            f"The timestamps in {where} are numbers ({values.dtype}), not dates; as dates "
            "they would be nanoseconds after 1970-01-01. Convert them first, e.g. "
            "pandas.to_datetime(values, unit='s') for Unix seconds, "
            "pandas.to_datetime(values.astype(str), format='%Y') for years, or "
            "pandas.Timestamp('2000-01-01') + pandas.to_timedelta(values, unit='D') to make "
            "time steps days."
        )
    try:
        if pd.api.types.is_datetime64_any_dtype(values):
            # Already dates: an index over the same memory (to_datetime would copy N int64).
            return pd.DatetimeIndex(values)
        return pd.DatetimeIndex(pd.to_datetime(values))
    except (ValueError, TypeError) as exc:
        raise DataTypeError(
            f"Cannot read the timestamps in {where} as dates ({exc}). Convert them with "
            "pandas.to_datetime first."
        ) from exc


def _datetime_like(index: pd.Index) -> bool:
    """Timestamps of any dtype _to_datetime converts: Arrow timestamps and dates too (by
    the dtype: pandas 2.2 does not call an Index of Arrow timestamps datetime-like)."""
    dtype = index.dtype
    if isinstance(index, pd.PeriodIndex) or pd.api.types.is_datetime64_any_dtype(dtype):
        return True
    if isinstance(dtype, pd.ArrowDtype):
        arrow = str(dtype.pyarrow_dtype)
        return arrow.startswith(("timestamp", "date"))
    if not pd.api.types.is_object_dtype(dtype):
        return False
    return pd.api.types.infer_dtype(index, skipna=True) in ("date", "datetime")


def _split_layout(
    df: pd.DataFrame, id_col: str | None, time_col: str | None
) -> tuple[pd.DataFrame, Layout, pd.DatetimeIndex, np.ndarray | None]:
    """Find ids and timestamps; return the remaining columns, the layout, times and ids."""
    if not isinstance(df, pd.DataFrame):
        if isinstance(df, pd.Series):
            df = df.to_frame(name=df.name if df.name is not None else "y")
        else:
            raise DataTypeError(
                f"Expected a pandas DataFrame, got {type(df).__name__}. Wrap arrays as "
                "pandas.DataFrame(values, index=pandas.DatetimeIndex(...))."
            )
    if df.empty:
        raise DataError("The DataFrame is empty: there is nothing to fit or forecast from.")

    from_multiindex = isinstance(df.index, pd.MultiIndex) and (
        (id_col is None and time_col is None)
        or (id_col not in df.columns and time_col not in df.columns)
    )
    if from_multiindex:
        if df.index.nlevels != 2:
            raise DataTypeError(
                f"A MultiIndex must have 2 levels (id, time); this one has {df.index.nlevels}. "
                "Pass id_col= and time_col= for a long frame with columns."
            )
        id_name: Any = id_col or df.index.names[0] or "unique_id"
        time_name: Any = time_col or df.index.names[1] or "ds"
        df = df.reset_index(names=[id_name, time_name])
        id_col, time_col = id_name, time_name

    for name, col in (("id_col", id_col), ("time_col", time_col)):
        if col is not None and col not in df.columns:
            raise DataError(
                f"{name}={col!r} is not a column of the data. Columns: {list(df.columns)}."
            )
    if id_col is not None and time_col is None:
        raise DataError(
            f"id_col={id_col!r} needs time_col= too: a long frame has one row per series and "
            "timestamp."
        )

    if time_col is not None:
        times = _to_datetime(df[time_col], f"column {time_col!r}")
        layout = Layout(
            id_col=id_col, time_col=time_col, time_name=time_col, multiindex=from_multiindex
        )
        rest = df.drop(columns=[c for c in (id_col, time_col) if c is not None])
    else:
        if not _datetime_like(df.index):
            dated = [c for c in df.columns if pd.api.types.is_datetime64_any_dtype(df[c])]
            hint = f" Column {dated[0]!r} holds dates: pass time_col={dated[0]!r}." if dated else ""
            raise DataTypeError(
                f"The index is a {type(df.index).__name__}, not datetime-like, and no "
                f"time_col was given. Set a DatetimeIndex (df.set_index('date')) or pass "
                f"time_col=.{hint}"
            )
        times = _to_datetime(df.index, "the index")
        layout = Layout(id_col=None, time_col=None, time_name=df.index.name)
        rest = df
    ids = df[id_col].to_numpy() if id_col is not None else None
    return rest, layout, times, ids


@dataclass(frozen=True)
class Columns:
    """The role of each used column: what the model forecasts and what it reads."""

    targets: list[str]
    past: list[str]
    future: list[str] = field(default_factory=list)
    static: list[str] = field(default_factory=list)
    chosen: bool = False  # past covariates chosen by name: other numeric columns are ignored

    @property
    def all(self) -> list[str]:
        return [*self.targets, *self.past, *self.future, *self.static]


def _is_numeric(column: pd.Series) -> bool:
    return is_numeric_dtype(column) or is_bool_dtype(column)


def _names(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _check_numeric(rest: pd.DataFrame, names: list[str], role: str) -> None:
    for c in names:
        if not _is_numeric(rest[c]):
            raise DataTypeError(
                f"{role} column {c!r} must be numeric; it has dtype {rest[c].dtype}. Convert "
                f"it (pandas.to_numeric(df[{c!r}]), or one-hot encode a category)."
            )


def _check_at_predict(rest: pd.DataFrame, columns: Columns) -> Columns:
    """At predict: exactly the numeric columns seen at fit, no more, no fewer."""
    expected = columns.all
    numeric = [c for c in rest.columns if _is_numeric(rest[c])]
    missing = [c for c in expected if c not in rest.columns]
    unseen = [c for c in numeric if c not in expected and not columns.chosen]
    if missing or unseen:
        parts = [
            f"missing {missing}" if missing else "",
            f"not seen at fit {unseen}" if unseen else "",
        ]
        raise DataError(
            "The data has other columns than at fit: "
            + "; ".join(p for p in parts if p)
            + f". The model was fitted on {expected}."
        )
    _check_numeric(rest, expected, "Fitted")
    return columns


def _select_columns(
    rest: pd.DataFrame,
    target: str | list[str] | None,
    columns: Columns | None,
    future: str | list[str] | None = None,
    static: str | list[str] | None = None,
    past_covariates: str | list[str] | None = None,
) -> Columns:
    """Decide the role of every column (at fit) or check them against ``columns`` (predict)."""
    names = [str(c) for c in rest.columns]
    if len(set(names)) != len(names):
        dup = sorted({c for c in names if names.count(c) > 1})
        raise DataError(f"Column names must be unique; repeated: {dup}.")
    if columns is not None:
        return _check_at_predict(rest, columns)

    future_names, static_names = _names(future), _names(static)
    for role, listed in (("future_covariates", future_names), ("static_covariates", static_names)):
        absent = [c for c in listed if c not in rest.columns]
        if absent:
            raise DataError(f"{role} {absent} are not columns of the data. Columns: {names}.")
    both = sorted(set(future_names) & set(static_names))
    if both:
        raise InvalidParameterError(
            f"Columns {both} are listed both as future_covariates and static_covariates; "
            "give each column one role."
        )
    _check_numeric(rest, future_names, "Future covariate")
    _check_numeric(rest, static_names, "Static covariate")
    reserved = set(future_names) | set(static_names)
    numeric = [c for c in rest.columns if _is_numeric(rest[c]) and c not in reserved]

    if target is None:
        targets = [c for c in numeric if c not in _names(past_covariates)]
        if not targets:
            raise DataError(
                f"No numeric column to forecast. Columns: {names}; pass target= with the "
                "column to forecast (and convert it to numbers)."
            )
    else:
        targets = _names(target)
        if not targets:
            raise InvalidParameterError("The 'target' parameter must not be an empty list.")
        for t in targets:
            if t not in rest.columns:
                raise DataError(f"Target column {t!r} is not in the data. Columns: {names}.")
            if t in reserved:
                raise InvalidParameterError(
                    f"Column {t!r} is both a target and a future/static covariate; give it one "
                    "role."
                )
        _check_numeric(rest, targets, "Target")
    past = choose_past(rest, numeric, targets, past_covariates, reserved)
    ignored = [c for c in rest.columns if c not in targets and c not in past and c not in reserved]
    if ignored and past_covariates is None:
        warn(
            f"Non-numeric columns {ignored} are not used by the model (only numeric columns "
            "become past covariates). Drop them, or encode them as numbers, to silence this.",
        )
    chosen = past_covariates is not None
    return Columns(targets, past, future=future_names, static=static_names, chosen=chosen)


def _float_values(
    rest: pd.DataFrame,
    used: list[str],
    order: np.ndarray | None,
    times: pd.DatetimeIndex,
    codes: np.ndarray,
    labels: list[str],
    dtype: np.dtype,
    layout: Layout | None = None,
    allow_nan: bool = False,
    offsets: np.ndarray | None = None,
) -> np.ndarray:
    """The used columns as one ``(R, F)`` array of ``dtype`` in sorted order.

    NaN, infinities and values ``dtype`` cannot hold (beyond its range, or non-zero below its
    smallest normal number) are refused, the earliest one named.

    Filled one column at a time, so the float64 intermediate is one column, not the table.
    """
    values = np.empty((len(rest), len(used)), dtype=dtype)
    first_bad: list[tuple[int, int, int, float]] = []  # (row, column, count, value)
    for j, name in enumerate(used):
        column = rest[name].to_numpy(dtype=np.float64, na_value=np.nan)
        if order is not None:
            column = column[order]
        bad = unfit_for(column, dtype) & ~(allow_nan & np.isnan(column))
        if bad.any():
            row = int(np.argmax(bad))
            first_bad.append((row, j, int(bad.sum()), float(column[row])))
            continue  # refused below; not cast (an overflow warning would come first)
        values[:, j] = column
        if offsets is not None:  # the rows of each series, for the rounding check
            warn_if_rounded(column, values[:, j], offsets, labels.__getitem__, name)
    if first_bad:
        row, j, count, value = min(first_bad)  # the earliest offending row, then column
        what, fix = what_is_wrong(value, dtype, layout, used[j])
        raise DataError(
            f"Column {used[j]!r} has {what} at {times[row]} in {labels[codes[row]]} "
            f"({count} such value(s) in that column). {fix}"
        )
    return values


def _series_codes(raw_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Series number of every row (int32) and the ids, numbered in their canonical order.

    Series are numbered by sorted id (:func:`_canonical_order`), not by first appearance, so
    that the fitted model is a function of the data, not of its row order: the numbering
    decides the order of the windows' shuffle and of the forecasts.

    When every series is one block of consecutive rows (the usual layout) the codes start as
    a running count of id changes: N int32, where ``pandas.factorize`` (used otherwise) makes
    N int64 plus a hash table, the peak of a big panel's ``fit``.
    """
    change = raw_ids[1:] != raw_ids[:-1]
    firsts = np.concatenate([[0], np.flatnonzero(change) + 1])
    uniques = raw_ids[firsts]
    if len(pd.unique(uniques)) == len(firsts):
        codes = np.zeros(len(raw_ids), dtype=np.int32)
        np.cumsum(change, dtype=np.int32, out=codes[1:])
    else:
        factorized, uniques = pd.factorize(raw_ids)
        codes = factorized.astype(np.int32)
    order = _canonical_order(uniques)
    if np.array_equal(order, np.arange(len(order))):
        return codes, uniques
    rank = np.empty(len(order), dtype=np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    return rank[codes], uniques[order]


def _canonical_order(uniques: Any) -> np.ndarray:
    """The order that sorts series ids; ids of mixed kinds by (kind, text) instead.

    Ids that compare (all numbers, all strings, all dates) are sorted as they are; ids that
    do not (``1`` beside ``"a"``) fall back to a key that any two ids have, so the order is
    still the same for every row order of the same data.
    """
    values = np.asarray(uniques, dtype=object)
    try:
        return np.argsort(values, kind="stable")
    except TypeError:
        keys = [(type(v).__name__, str(v)) for v in values]
        return np.array(sorted(range(len(keys)), key=keys.__getitem__), dtype=np.int64)


def to_panel(
    df: pd.DataFrame,
    *,
    target: str | list[str] | None = None,
    id_col: str | None = None,
    time_col: str | None = None,
    freq: Any = None,
    future: str | list[str] | None = None,
    static: str | list[str] | None = None,
    columns: Columns | tuple[list[str], list[str]] | None = None,
    dtype: Any = np.float32,
    past: str | list[str] | None = None,
    missing: str = "raise",
    zone: Any = None,
) -> tuple[Panel, Layout]:
    """Validate a wide or long frame and convert it to a :class:`Panel`.

    Parameters
    ----------
    df : pandas.DataFrame
        Wide (``DatetimeIndex`` or ``time_col``) or long (``id_col`` and ``time_col``, or a
        two-level ``MultiIndex``).
    target : str, list of str or None
        Columns to forecast; ``None`` means every numeric column. Ignored when ``columns``
        is given.
    id_col, time_col : str or None
        Columns naming the series and holding the timestamps. When both are None (and
        ``columns`` is), a frame with the columns ``unique_id``, ``ds`` and ``y`` is read as
        Nixtla's long format (:mod:`forecast.data.conventions`).
    freq : str, pandas.DateOffset or None
        The frequency; inferred when ``None``. Business-day frequencies (``"B"``,
        ``CustomBusinessDay``) allow missing days (holidays): observations are used in order.
    future, static : str, list of str or None
        Known-future covariates (part of ``values``, after the past covariates) and static
        covariates (one value per series, in ``Panel.static``).
    past : str, list of str or None
        Past covariates (:mod:`forecast.data.past_covariates`); None: every other numeric.
    columns : Columns, (targets, past covariates) or None
        At predict time, the columns seen at fit; the frame must have exactly these numeric
        columns. ``target``, ``future`` and ``static`` are then ignored.
    dtype : numpy dtype, default numpy.float32
        Of ``Panel.values``: float32 feeds the network; metrics and baselines ask for
        float64 so that they see the user's numbers unrounded.
    missing : {"raise", "mask"}, default "raise"
        ``"mask"``: NaN kept, missing timestamps as NaN rows (:mod:`.gaps`; none on business days).
    zone : str, tzinfo or None
        A fitted model's time zone: tz-aware timestamps in another zone are converted to it
        (with a warning) before any check, so that its calendar (days, hours, daylight
        saving) is the one the model was fitted on, whichever zone the data was written in.

    Returns
    -------
    panel : Panel
    layout : Layout

    Raises
    ------
    DataTypeError
        Not a DataFrame, no datetime-like index or ``time_col``, a non-numeric target.
    DataError
        Missing column, duplicate timestamps, NaN or inf values, irregular timestamps.
    """
    if columns is None:  # at fit; predict passes the fitted layout
        id_col, time_col, target = default_columns(df, id_col, time_col, target)
    rest, layout, times, raw_ids = _split_layout(df, id_col, time_col)
    times = in_zone(times, zone)
    if isinstance(columns, tuple):
        columns = Columns(targets=list(columns[0]), past=list(columns[1]))
    roles = _select_columns(rest, target, columns, future, static, past)
    used = [*roles.targets, *roles.past, *roles.future]

    # Series codes in canonical (sorted id) order; rows sorted by (series, time), stable.
    if raw_ids is None:
        codes = np.zeros(len(rest), dtype=np.int32)
        ids: list[Any] = [None]
    else:
        if pd.isna(raw_ids).any():
            row = int(np.flatnonzero(pd.isna(raw_ids))[0])
            raise DataError(
                f"Column {layout.id_col!r} is missing in row {row}: every row needs a series id."
            )
        codes, uniques = _series_codes(raw_ids)
        ids = [u.item() if isinstance(u, np.generic) else u for u in uniques]
    if times.hasnans:
        row = int(np.flatnonzero(times.isna())[0])
        raise DataError(f"Timestamp missing (NaT) in row {row} of the data; drop or fix that row.")
    # Already-sorted data (the usual case) is used as it is, without an N-long permutation
    # and reordered copies. (Comparisons, not np.diff: N booleans, not N int64 differences.)
    stamps = times.asi8
    same_series, later = codes[1:] == codes[:-1], stamps[1:] > stamps[:-1]
    order: np.ndarray | None = None
    if not np.all((codes[1:] > codes[:-1]) | (same_series & (later | (stamps[1:] == stamps[:-1])))):
        order = np.lexsort((stamps, codes))
        in_series_unsorted = (
            np.any((np.diff(codes[order]) == 0) & (np.diff(order) < 0))
            if raw_ids is not None
            else True
        )
        # Interleaved series (rows sorted by date, then id) is a normal database layout; only
        # time going backwards within a series deserves a word.
        if in_series_unsorted:  # once per backtest, not once per refit (once_per_scope)
            warn_once(
                "The timestamps were not in increasing order; the rows were sorted by time"
                + (" within each series" if raw_ids is not None else "")
                + ".",
            )
        codes, times = codes[order], times[order]
        stamps = times.asi8
        same_series = codes[1:] == codes[:-1]
    offsets = np.concatenate([[0], np.flatnonzero(~same_series) + 1, [len(codes)]]).astype(np.int64)

    labels = ["the series" if raw_ids is None else series_name(i) for i in ids]
    dup = np.flatnonzero(same_series & (stamps[1:] == stamps[:-1]))
    if dup.size:
        k = int(dup[0])
        raise DataError(
            f"Duplicate timestamp {times[k]} in {labels[codes[k]]}. Each timestamp may appear "
            "once per series; aggregate the duplicates (e.g. df.groupby(...).mean()) or drop them."
        )

    mask = missing == "mask"
    values = _float_values(
        rest, used, order, times, codes, labels, np.dtype(dtype), layout, mask, offsets
    )
    static_values = static_values_of(rest, roles.static, order, codes, offsets, labels, times)
    offset = panel_freq(freq, times, offsets, labels, layout, masked=mask)
    if mask:  # missing timestamps (not closures) become rows of NaN (input row -1)
        values, times, offsets, order = insert_missing_rows(values, times, offsets, order, offset)
    check_on_frequency(times, offsets, ids, offset, gap_fix(freq_code(offset), layout))

    # Read-only: one panel serves the calibration and final fits, an ensemble's members and
    # the calibration scores; none may change what the others read.
    values.setflags(write=False)
    panel = Panel(
        values=values,
        offsets=offsets,
        ids=ids,
        times=times,
        target_names=list(roles.targets),
        covariate_names=list(roles.past),
        freq=offset,
        future_names=list(roles.future),
        static=static_values,
        static_names=list(roles.static),
        rows=order,
    )
    return panel, layout
