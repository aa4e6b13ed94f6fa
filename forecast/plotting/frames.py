"""The pandas side of plotting: series out of forecast frames, quantile columns, selections.

Nothing here imports matplotlib. A frame is split into one time-indexed frame per series
(:func:`split_series`), in any of our layouts: wide (a ``DatetimeIndex`` or ``time_col``),
long (``id_col`` and ``time_col``) or a ``MultiIndex (id, time)``.

Quantile columns (the layout agreed for forecasts with intervals): the point forecast of
target ``y`` is the column ``y``; its quantile ``q`` is the column
:func:`forecast.quantile_column` names (``y_q0.1``, ``y_q0.9``). A symmetric pair
``(q, 1 - q)`` is a ``1 - 2q`` interval.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from forecast._exceptions import DataError, DataTypeError
from forecast._warnings import warn
from forecast.data.conventions import default_columns
from forecast.data.output import QUANTILE_SUFFIX, quantile_columns
from forecast.evaluation.tables import interval_pairs

if TYPE_CHECKING:
    from forecast.protocol import Forecaster

__all__ = [
    "FrameLayout",
    "interval_columns",
    "point_and_quantiles",
    "quantile_columns",
    "select_ids",
    "split_series",
]


def interval_columns(quantiles: dict[float, str]) -> list[tuple[float, str, str]]:
    """``(coverage, lower column, upper column)`` per central interval, widest first.

    The pairs of :func:`forecast.evaluation.tables.interval_pairs` (the one place that pairs
    quantile levels), as column names.
    """
    columns = list(quantiles.values())
    return [(c, columns[lo], columns[hi]) for lo, hi, c in interval_pairs(list(quantiles))]


def point_and_quantiles(
    columns: Sequence[Any], target: str | None
) -> tuple[str, str | None, dict[float, str]]:
    """The target, its point-forecast column (or the median, or None) and quantile columns."""
    if target is None:
        plain = [c for c in columns if not QUANTILE_SUFFIX.search(str(c))]
        stems = [
            str(c)[: match.start()]
            for c in columns
            if c not in plain and (match := QUANTILE_SUFFIX.search(str(c)))
        ]
        if not plain and not stems:
            raise DataError("The forecast frame has no value columns to plot.")
        target = plain[0] if plain else stems[0]
    quantiles = quantile_columns(columns, target)
    if target in columns:
        point = target
    else:
        point = quantiles.get(0.5)
        if point is None and not quantiles:
            raise DataError(
                f"Target {target!r} is not in the forecast (columns: {list(columns)}); pass "
                "target= one of them."
            )
    return target, point, quantiles


@dataclass(frozen=True)
class FrameLayout:
    """Where a frame keeps its series ids and timestamps (``None``: the index / one series)."""

    id_col: str | None = None
    time_col: str | None = None

    @classmethod
    def of_model(cls, model: Forecaster) -> FrameLayout:
        layout = model.layout_
        return cls(layout.id_col, layout.time_col)

    @classmethod
    def guess(cls, frame: pd.DataFrame, id_col: str | None, time_col: str | None) -> FrameLayout:
        """Where ``frame`` (a forecast) keeps its series ids and timestamps.

        In order: a MultiIndex, the columns the caller named, Nixtla's ``unique_id, ds, y``
        (:func:`forecast.data.conventions.default_columns`, as ``fit`` reads them), a
        DatetimeIndex, else the only date column and the only text column.

        Raises
        ------
        DataTypeError
            No single date column, several text columns, or repeated timestamps with no
            text column to tell the series apart (integer ids need ``id_col=``).
        """
        if isinstance(frame.index, pd.MultiIndex):
            return cls(*_level_names(frame.index))
        if id_col is not None or time_col is not None:
            return cls(id_col, time_col)
        # The convention fit applies: integer ids in unique_id are ids, not a value column.
        nixtla_id, nixtla_time, _ = default_columns(frame, None, None, None)
        if nixtla_id is not None:
            return cls(nixtla_id, nixtla_time)
        if isinstance(frame.index, pd.DatetimeIndex):
            return cls()
        dates = [c for c in frame.columns if _holds_dates(frame[c])]
        texts = [
            c
            for c in frame.columns
            if not pd.api.types.is_numeric_dtype(frame[c]) and c not in dates
        ]
        if len(dates) != 1 or len(texts) > 1:
            raise DataTypeError(
                "Cannot tell where the timestamps (and series ids) are: the frame has no "
                f"DatetimeIndex, datetime columns {dates} and text columns {texts}. Pass "
                "time_col= (and id_col= for many series), or the fitted model instead of "
                "its forecast."
            )
        if not texts and frame[dates[0]].duplicated().any():
            # Several series whose ids are numbers: drawing them as one would merge them,
            # and a number column could as well be a value column.
            numbers = [c for c in frame.columns if c not in dates]
            raise DataTypeError(
                f"The timestamps in {dates[0]!r} repeat, so the frame holds several series, "
                "but no text column holds their ids. Pass id_col= naming the column that "
                f"does (one of {numbers}) and time_col={dates[0]!r}."
            )
        return cls(texts[0] if texts else None, dates[0])


def _holds_dates(column: pd.Series) -> bool:
    """Whether ``column`` holds timestamps: a datetime dtype, or ``datetime.date`` objects
    (what pandas makes of an Arrow ``date32``, which ``fit`` reads as dates too)."""
    if pd.api.types.is_datetime64_any_dtype(column):
        return True
    return column.dtype == object and pd.api.types.infer_dtype(column, skipna=True) in (
        "date",
        "datetime",
    )


def _level_names(index: pd.MultiIndex) -> list[Any]:
    if index.nlevels != 2:
        raise DataTypeError(f"A MultiIndex must have two levels (id, time); got {index.nlevels}.")
    return [n if n is not None else f"level_{i}" for i, n in enumerate(index.names)]


def split_series(data: pd.DataFrame | pd.Series, layout: FrameLayout) -> dict[Any, pd.DataFrame]:
    """One frame per series (``{None: frame}`` for a wide one), indexed by sorted timestamps."""
    frame = data.to_frame() if isinstance(data, pd.Series) else data
    if isinstance(frame.index, pd.MultiIndex):
        names = _level_names(frame.index)
        frame = frame.reset_index(names=names)
        layout = FrameLayout(*names)
    time_col = layout.time_col
    if time_col is not None and time_col not in frame.columns and frame.index.name == time_col:
        # One series fitted with time_col=: its forecast is indexed by that column.
        layout = FrameLayout(layout.id_col, None)
    for column in (layout.id_col, layout.time_col):
        if column is not None and column not in frame.columns:
            raise DataError(f"Column {column!r} is not in the frame: {list(frame.columns)}.")
    if layout.time_col is not None:
        frame = frame.set_index(pd.DatetimeIndex(pd.to_datetime(frame[layout.time_col])))
        frame = frame.drop(columns=layout.time_col)
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise DataTypeError(
            "Plots need timestamps: a DatetimeIndex, or time_col= naming the column that "
            f"holds them. Got a {type(frame.index).__name__}."
        )
    if layout.id_col is None:
        return {None: frame.sort_index()}
    return {
        key: part.drop(columns=layout.id_col).sort_index()
        for key, part in frame.groupby(layout.id_col, sort=False)
    }


def select_ids(
    available: Sequence[Any], ids: Any, max_series: int, function: str
) -> tuple[list[Any], int]:
    """The ids to plot (at most ``max_series``, warning when some are left out) and how many
    series there were to choose from."""
    if ids is None:
        wanted = list(available)
    elif isinstance(ids, str) or not isinstance(ids, Iterable):
        wanted = [ids]
    else:
        wanted = list(ids)
    known = set(available)
    unknown = [i for i in wanted if i not in known]
    if unknown:
        shown = ", ".join(map(repr, list(available)[:10]))
        raise DataError(
            f"{function}: unknown series {unknown[:10]}; the data has {len(available)} "
            f"series: {shown}{', ...' if len(available) > 10 else ''}."
        )
    if len(wanted) > max_series:
        left = len(wanted) - max_series
        warn(
            f"{function} shows the first {max_series} of {len(wanted)} series; {left} left "
            f"out. Choose them with ids=[...], or raise max_series={max_series}.",
        )
        wanted = wanted[:max_series]
    return wanted, len(available)
