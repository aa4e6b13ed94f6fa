"""The Spark adapter: a job over partitions of whole series, through ``mapInPandas``.

``df.repartition(id_col)`` puts every row of a series in one partition (hash of the id;
``spark.sql.shuffle.partitions`` of them, adaptive execution may coalesce them), and
``sortWithinPartitions(id_col, time_col)`` orders each partition by series, so that
``mapInPandas`` can stream it: Arrow batches are gathered until they hold
:data:`ROWS_PER_CALL` rows, and the complete series among them go through one call of
:func:`~forecast.engines._partition.run_partition` (the last series, which the next batch
may continue, waits for it). A worker holds one such chunk, not its whole partition. ``groupBy(id)
.applyInPandas`` would call the model once per series: no batching over series.

With ``predict``'s ``future_covariates`` (a second frame), both are grouped by a hash
bucket of the id and ``cogroup(...).applyInPandas`` hands each call the history and the
future rows of one bucket's series (see :func:`_cogrouped`): a bucket is held whole, and
forecast :data:`ROWS_PER_CALL` rows of whole series at a time.

The model's bytes are a broadcast variable: sent to each executor once. The schema
(:mod:`forecast.engines._schema`) maps ``"id"`` and ``"time"`` to the input's own field
types, ``"float"`` to ``double``, ``"int"`` to ``bigint``, ``"str"`` to ``string``,
``"own"`` to the input's field of that name. A Spark Connect session has no broadcast: the
bytes then travel in the function's closure, once per task.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pandas as pd
from pyspark import StorageLevel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from forecast.engines._partition import KIND, MESSAGE, Job, raise_messages, run_partition

__all__ = ["ROWS_PER_CALL", "SparkResult", "execute", "from_pandas", "schema"]

#: Rows gathered before a call of the model on the whole series among them.
ROWS_PER_CALL = 200_000

_TYPES = {"float": T.DoubleType(), "int": T.LongType(), "str": T.StringType()}


def schema(df: DataFrame, columns: dict[str, str], id_col: str, time_col: str) -> T.StructType:
    """The result's schema: ``columns`` (name -> kind) typed from ``df``'s, and the two
    message columns."""
    given = {f.name: f.dataType for f in df.schema.fields}
    own = {"id": given[id_col], "time": given[time_col]}
    fields = [  # "own": the input's column of that name (fold_history's rows)
        T.StructField(name, given[name] if kind == "own" else own.get(kind) or _TYPES[kind], True)
        for name, kind in columns.items()
    ]
    fields += [
        T.StructField(KIND, T.StringType(), False),
        T.StructField(MESSAGE, T.StringType(), True),
    ]
    return T.StructType(fields)


def _chunks(
    batches: Iterator[pd.DataFrame], id_col: str, limit: int | None = None
) -> Iterator[pd.DataFrame]:
    """Whole series, about ``limit`` (:data:`ROWS_PER_CALL`) rows at a time, from batches
    sorted by id."""
    limit = ROWS_PER_CALL if limit is None else limit
    held: list[pd.DataFrame] = []
    rows = 0
    for batch in batches:
        held.append(batch)
        rows += len(batch)
        if rows < limit:
            continue
        frame = pd.concat(held, ignore_index=True)
        ids = frame[id_col]
        cut = ids.ne(ids.iloc[-1]).to_numpy().nonzero()[0]  # rows before the last series
        end = int(cut[-1]) + 1 if len(cut) else 0
        if end:
            yield frame.iloc[:end]
        held, rows = [frame.iloc[end:]], len(frame) - end
    if rows:
        yield pd.concat(held, ignore_index=True)


class SparkResult:
    """A job's result, persisted: its data rows by kind, and its messages read once."""

    def __init__(self, frame: DataFrame) -> None:
        self.frame = frame

    def messages(self, engine: str) -> dict[str, Any]:
        found = self.frame.filter(F.col(MESSAGE).isNotNull()).select(KIND, MESSAGE).collect()
        return raise_messages(pd.DataFrame(found, columns=[KIND, MESSAGE]), engine)

    def rows(self, kind: str, names: list[str]) -> DataFrame:
        quoted = [F.col("`" + name.replace("`", "``") + "`") for name in names]  # y_q0.1
        return self.frame.filter(F.col(KIND) == kind).select(*quoted)

    def collect(self, frame: DataFrame) -> pd.DataFrame:
        return pd.DataFrame(frame.collect(), columns=frame.columns)


def from_pandas(df: DataFrame, frame: pd.DataFrame) -> DataFrame:
    """``frame`` (the driver's) as a Spark frame of ``df``'s session."""
    return df.sparkSession.createDataFrame(frame)


def _buckets(df: DataFrame) -> int:
    """How many groups of series the cogroup makes: at least one per partition of ``df``
    (about one input split's rows each) and ``spark.sql.shuffle.partitions``."""
    shuffle = int(df.sparkSession.conf.get("spark.sql.shuffle.partitions") or 200)
    try:
        return max(shuffle, df.rdd.getNumPartitions())
    except Exception:  # Spark Connect: no RDD
        return shuffle


def _cogrouped(
    df: DataFrame, future: DataFrame, apply: Any, out_schema: T.StructType, id_col: str
) -> DataFrame:
    """``apply(history, future)`` on the groups of series of one hash bucket of the id.

    ``groupBy(id).cogroup`` would call the model once per series; a bucket of the id's hash
    (the same on both sides: the future's id is cast to the history's type) batches many
    whole series per call, each with all its future rows.
    """
    given = {f.name: f.dataType for f in df.schema.fields}
    future = future.withColumn(id_col, F.col(id_col).cast(given[id_col]))
    bucket = F.pmod(F.hash(F.col(id_col)), F.lit(_buckets(df)))
    return df.groupBy(bucket).cogroup(future.groupBy(bucket)).applyInPandas(apply, out_schema)


def execute(
    df: DataFrame,
    job: Job,
    raw: bytes,
    columns: dict[str, str],
    id_col: str,
    time_col: str,
    future: DataFrame | None = None,
) -> SparkResult:
    """Run ``job`` over ``df``'s series (see the module docstring), with ``predict``'s
    ``future`` rows of each series if given; persisted, not collected."""
    out_schema = schema(df, columns, id_col, time_col)
    dates = tuple(f.name for f in out_schema.fields if isinstance(f.dataType, T.DateType))
    naive = None  # a timestamp column's instants arrive as the session zone's wall times
    if isinstance(df.schema[time_col].dataType, T.TimestampType):
        naive = df.sparkSession.conf.get("spark.sql.session.timeZone")
    job = replace(job, dates=dates, naive_zone=naive)
    inline: bytes | None = None  # what the closure carries: the bytes only without broadcast
    try:
        shipped: Any = df.sparkSession.sparkContext.broadcast(raw)
    except Exception:  # Spark Connect: no SparkContext, so no broadcast variables
        shipped, inline = None, raw

    def apply(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        model: bytes = shipped.value if inline is None else inline
        for chunk in _chunks(batches, id_col):
            yield run_partition(job, model, chunk)

    limit = ROWS_PER_CALL  # the driver's, carried by the closure

    def apply_both(history: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
        """One bucket: its series forecast ``limit`` rows of whole series at a time."""
        model: bytes = shipped.value if inline is None else inline
        if len(history) <= limit:
            return run_partition(job, model, history, rows)
        history = history.sort_values([id_col, time_col], kind="stable", ignore_index=True)
        batches = (history.iloc[i : i + limit] for i in range(0, len(history), limit))
        out = [
            run_partition(job, model, chunk, rows[rows[id_col].isin(chunk[id_col].unique())])
            for chunk in _chunks(batches, id_col, limit)
        ]
        return pd.concat(out, ignore_index=True)

    if future is not None:
        frame = _cogrouped(df, future, apply_both, out_schema, id_col)
    else:
        by_series = df.repartition(id_col).sortWithinPartitions(id_col, time_col)
        frame = by_series.mapInPandas(apply, out_schema)
    return SparkResult(frame.persist(StorageLevel.MEMORY_AND_DISK))
