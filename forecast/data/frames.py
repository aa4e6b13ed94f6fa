"""Frames of other libraries in and out: polars DataFrames, pyarrow Tables (through narwhals).

The estimators compute on pandas. Their public entry points (``BaseForecaster.fit``,
``predict`` and ``score``, :func:`forecast.backtest.backtest`, the plots) pass each frame
they are given through :func:`to_pandas` once, at the start, and the frames they return
through :func:`to_native`, so that

* a pandas frame (or Series) passes untouched, and nothing else is imported;
* a polars ``DataFrame`` gives a polars ``DataFrame`` back, a pyarrow ``Table`` a pyarrow
  ``Table`` (and so for any eager frame `narwhals <https://narwhals-dev.github.io/narwhals/>`_
  reads: it does the conversion, through Arrow, so no column is copied value by value here);
* date and datetime columns come back in their own type: a polars ``Date`` stays a
  ``Date``, a ``Datetime`` keeps its time unit and time zone;
* what pandas keeps in the index (the timestamps of a one-series forecast) becomes a
  column, named as the input's time column: polars and pyarrow frames have no index.

narwhals (and pyarrow, which it uses to convert) is an optional dependency:
``pip install "forecast-rnn[interop]"``. It is imported only when a frame that is not pandas
arrives; without it such a frame is refused with that command.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from forecast._exceptions import DataTypeError

__all__ = ["PANDAS", "FrameKind", "to_native", "to_pandas"]

# Libraries whose frames narwhals converts; one of them without narwhals gets a clear error.
_KNOWN = ("polars", "pyarrow", "modin", "cudf")


@dataclass(frozen=True)
class FrameKind:
    """What a user's frame was, to give back frames of the same kind.

    Attributes
    ----------
    backend : narwhals.Implementation or None
        The library of the frame; ``None`` for pandas.
    temporal : tuple of (str, narwhals dtype)
        The date and datetime columns and their types, to restore them on the way out.
    """

    backend: Any = None
    temporal: tuple[tuple[str, Any], ...] = ()

    @property
    def is_pandas(self) -> bool:
        return self.backend is None


#: A pandas frame: returned as it is.
PANDAS = FrameKind()


def _narwhals(df: Any, what: str) -> Any:
    """The narwhals module, or None when it is missing and ``df`` is not a frame it knows."""
    try:
        import narwhals
    except ImportError:
        library = type(df).__module__.partition(".")[0]
        if library in _KNOWN:
            raise DataTypeError(
                f"{what} is a {library} {type(df).__name__}; reading it needs narwhals and "
                "pyarrow: pip install 'forecast-rnn[interop]' (or pass a pandas DataFrame)."
            ) from None
        return None
    return narwhals


def to_pandas(df: Any, what: str = "The data") -> tuple[Any, FrameKind]:
    """``df`` as a pandas frame, and what it was; anything else is returned unchanged.

    Parameters
    ----------
    df : pandas.DataFrame, polars.DataFrame, pyarrow.Table, None or any
        A pandas frame or Series, or None, is returned as it is (with :data:`PANDAS`); an
        eager frame of another library is converted; anything else is returned unchanged
        for the caller to refuse with its own message.
    what : str
        How messages name ``df``.

    Returns
    -------
    frame : pandas.DataFrame or as given
    kind : FrameKind

    Raises
    ------
    DataTypeError
        A lazy frame (polars ``LazyFrame``: collect it first), or a polars or pyarrow
        frame without narwhals installed.

    Examples
    --------
    >>> import pyarrow as pa
    >>> frame, kind = to_pandas(pa.table({"y": [1.0, 2.0]}))
    >>> type(frame).__name__, kind.backend
    ('DataFrame', <Implementation.PYARROW: 'pyarrow'>)
    """
    if df is None or isinstance(df, pd.DataFrame | pd.Series):
        return df, PANDAS
    nw = _narwhals(df, what)
    if nw is None:
        return df, PANDAS
    frame = nw.from_native(df, pass_through=True)
    if isinstance(frame, nw.LazyFrame):
        raise DataTypeError(
            f"{what} is a lazy {type(df).__name__}: collect it first (df.collect()), so "
            "that forecast reads it once."
        )
    if not isinstance(frame, nw.DataFrame):
        return df, PANDAS
    temporal = tuple((name, dtype) for name, dtype in frame.schema.items() if dtype.is_temporal())
    return frame.to_pandas(), FrameKind(frame.implementation, temporal)


def to_native(
    frame: pd.DataFrame, kind: FrameKind, *, same_type: Mapping[str, str | None] | None = None
) -> Any:
    """``frame`` as a frame of ``kind``'s library: the inverse of :func:`to_pandas`.

    Parameters
    ----------
    frame : pandas.DataFrame
        A frame made from the user's data; a pandas index other than a plain ``RangeIndex``
        becomes columns (first) when the library has no index.
    kind : FrameKind
        What :func:`to_pandas` returned for the user's frame.
    same_type : mapping of str to str, optional
        Columns to give the type of another input column (a backtest's ``cutoff`` that of
        the time column); every column named like a date or datetime input column gets its
        type already.

    Returns
    -------
    pandas.DataFrame, polars.DataFrame, pyarrow.Table...
    """
    if kind.is_pandas:
        return frame
    import narwhals as nw

    if not (isinstance(frame.index, pd.RangeIndex) and frame.index.name is None):
        frame = frame.reset_index()
    out = nw.from_arrow(nw.from_native(frame, eager_only=True).to_arrow(), backend=kind.backend)
    types = dict(kind.temporal)
    like = {name: name for name in types} | {
        k: v for k, v in (same_type or {}).items() if v is not None
    }
    casts = [
        nw.col(name).cast(types[source])
        for name, source in like.items()
        if name in out.columns and source in types and out.schema[name] != types[source]
    ]
    return (out.with_columns(*casts) if casts else out).to_native()
