"""The Dask adapter: a job over partitions of whole series, through ``map_partitions``.

``df.shuffle(on=id_col)`` puts every row of a series in one partition (hash of the id; as
many partitions as ``df`` has), and each partition goes through one call of
:func:`~forecast.engines._partition.run_partition`. The model's bytes are one
``dask.delayed`` value that every partition's task depends on: the distributed scheduler
moves it to each worker once and keeps it there. ``meta`` (the result's empty frame) is
built from :mod:`forecast.engines._schema`: ``"id"`` and ``"time"`` with ``df``'s dtypes,
``"float"`` as ``float64``, ``"int"`` as ``Int64`` (nullable: the message rows have none),
``"str"`` as strings, ``"own"`` as the input's column (integers and booleans nullable).
Tz-aware timestamps come out in the model's zone, whatever zone the input's are in (the
worker converts them before the model reads them).

A categorical id (``category``, as pandas writes it to Parquet and ``read_parquet`` reads
it back) comes out of ``predict`` and ``backtest`` as its values, as in pandas, typed as
its categories (when Dask does not know them, as after ``read_parquet``, as the first
partition's: its ids are read once for that). ``fold_history`` returns the input's own
categorical, as pandas does; with unknown categories each partition keeps its own (their
values, not the placeholder that Dask's ``meta`` holds).

With ``predict``'s ``future_covariates``, that frame is shuffled on the id into as many
partitions, and ``map_partitions`` pairs the two frames' partitions by number.

The scheduler is whichever is active: a ``distributed.Client`` if one was created (the
command line creates one: a ``LocalCluster``, or ``--engine-address``), else Dask's local
threads.
"""

from __future__ import annotations

from typing import Any

import dask
import dask.dataframe as dd
import pandas as pd
from dask.dataframe.utils import has_known_categories

from forecast.engines._partition import KIND, MESSAGE, Job, raise_messages, run_partition

__all__ = ["DaskResult", "execute", "from_pandas", "meta"]


def _nullable(dtype: Any) -> Any:
    """``dtype``, or its nullable kind for integers and booleans: a partition's message rows
    hold nulls in every column (``"own"`` columns: the input's, in fold_history's rows)."""
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "Int64"
    return dtype


def _values(df: dd.DataFrame, name: str) -> Any:
    """The dtype of the values of ``df[name]``: a categorical's categories', any other dtype
    itself."""
    dtype = df._meta.dtypes[name]
    if not isinstance(dtype, pd.CategoricalDtype):
        return dtype
    if _unknown(dtype):
        # Unknown categories are a placeholder ('__UNKNOWN_CATEGORIES__'), whose dtype is not
        # the values' (a cast to it made every id null); one partition's column tells them.
        # Not object: Dask's to_parquet cannot infer a schema from an object meta.
        dtype = df[name].partitions[0].compute().dtype
    return dtype.categories.dtype


def _unknown(dtype: Any) -> bool:
    """Whether ``dtype`` is a categorical whose categories Dask does not know."""
    return isinstance(dtype, pd.CategoricalDtype) and not has_known_categories(
        pd.Series(dtype=dtype)
    )


def _time(dtype: Any, zone: Any) -> Any:
    """The result's timestamps: tz-aware ones in the model's zone (the worker converts them
    to it: :class:`~forecast.engines._partition.Job`), naive ones as given."""
    if zone is None or not isinstance(dtype, pd.DatetimeTZDtype):
        return dtype
    return pd.DatetimeTZDtype(dtype.unit, zone)


def meta(
    df: dd.DataFrame, columns: dict[str, str], id_col: str, time_col: str, zone: Any = None
) -> pd.DataFrame:
    """The result's empty frame: ``columns`` (name -> kind) typed, and the message columns;
    tz-aware timestamps in ``zone`` (the model's), if given."""
    given = df._meta.dtypes
    types = {
        "id": _values(df, id_col) if "id" in columns.values() else None,
        "time": _time(given[time_col], zone),
        "float": "float64",
        "int": "Int64",
        "str": "string",
    }
    frame = pd.DataFrame(
        {
            name: pd.Series(dtype=_nullable(given[name]) if kind == "own" else types[kind])
            for name, kind in columns.items()
        }
    )
    frame[KIND] = pd.Series(dtype="string")
    frame[MESSAGE] = pd.Series(dtype="string")
    return frame


def _cast(out: pd.DataFrame, empty: pd.DataFrame) -> pd.DataFrame:
    """``out`` in ``empty``'s dtypes; a categorical of unknown categories stays the
    partition's own (a cast to the placeholder would null its values)."""
    dtypes = {k: v for k, v in empty.dtypes.to_dict().items() if not _unknown(v)}
    for name, dtype in dtypes.items():  # a message row's missing id: nullable integers
        if pd.api.types.is_integer_dtype(dtype) and name in out and out[name].isna().any():
            dtypes[name] = pd.Int64Dtype()
    return out.astype(dtypes)


def _partition(frame: pd.DataFrame, job: Job, raw: bytes, empty: pd.DataFrame) -> pd.DataFrame:
    return _cast(run_partition(job, raw, frame), empty)


def _pair(
    frame: pd.DataFrame, future: pd.DataFrame, job: Job, raw: bytes, empty: pd.DataFrame
) -> pd.DataFrame:
    return _cast(run_partition(job, raw, frame, future), empty)


def from_pandas(df: dd.DataFrame, frame: pd.DataFrame) -> dd.DataFrame:
    """``frame`` (the driver's) as a Dask frame, in as many partitions as ``df``."""
    return dd.from_pandas(frame, npartitions=df.npartitions)


class DaskResult:
    """A job's result, persisted: its data rows by kind, and its messages read once."""

    def __init__(self, frame: dd.DataFrame) -> None:
        self.frame = frame

    def messages(self, engine: str) -> dict[str, Any]:
        rows = self.frame[self.frame[MESSAGE].notnull()][[KIND, MESSAGE]].compute()
        return raise_messages(rows, engine)

    def rows(self, kind: str, names: list[str]) -> dd.DataFrame:
        return self.frame[self.frame[KIND] == kind][names]

    def collect(self, frame: dd.DataFrame) -> pd.DataFrame:
        return frame.compute()


def execute(
    df: dd.DataFrame,
    job: Job,
    raw: bytes,
    columns: dict[str, str],
    id_col: str,
    time_col: str,
    future: dd.DataFrame | None = None,
) -> DaskResult:
    """Run ``job`` over ``df``'s series (see the module docstring), with ``predict``'s
    ``future`` rows of each series if given; persisted, not computed into this process."""
    empty = meta(df, columns, id_col, time_col, job.zone)
    shipped = dask.delayed(raw, pure=True)
    if future is None:
        by_series = df.shuffle(on=id_col)
        frame = by_series.map_partitions(_partition, job, shipped, empty, meta=empty)
        return DaskResult(frame.persist())
    # Both shuffled on the id, of one dtype, into as many partitions: the hash sends a
    # series' history and future rows to partitions of the same number, which
    # map_partitions pairs (align_dataframes=False: by position; divisions are unknown).
    # Were a series' rows ever apart, its partition would lack its future rows and raise
    # the error naming it: never a forecast with another series' covariates.
    # A categorical hashes as its values: the future's ids are cast to those values' dtype
    # (left as they are when Dask does not know the categories, never to the placeholder).
    n = df.npartitions
    if not _unknown(df._meta.dtypes[id_col]):
        future = future.astype({id_col: _values(df, id_col)})
    left, right = df.shuffle(on=id_col, npartitions=n), future.shuffle(on=id_col, npartitions=n)
    frame = dd.map_partitions(
        _pair, left, right, job, shipped, empty, meta=empty, align_dataframes=False
    )
    return DaskResult(frame.persist())
