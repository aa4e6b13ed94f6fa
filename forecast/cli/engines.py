"""``forecast predict --engine spark|dask``: a Parquet history forecast on Spark or Dask.

``--data`` (a Parquet file, a folder of parts or a glob) is read by the engine itself
(``spark.read.parquet``, ``dask.dataframe.read_parquet``), never by this process; the
fitted model's ``predict`` runs per partition of whole series (:mod:`forecast.engines`);
``--out`` is written by the engine as a **folder of Parquet parts** (Spark's
``write.parquet``, Dask's ``to_parquet``): one file per partition, written in parallel,
which any Parquet reader, ``forecast --data`` included, reads as one table. An existing
``--out`` is refused (never mixed with another run's parts), as are, before the engine
starts, the outputs ``check_out`` refuses on one machine where they apply to a folder
(:func:`_check_out`).

The engine is local by default (Spark ``local[*]``, a Dask ``LocalCluster`` of processes),
or the cluster at ``--engine-address`` (a Spark master URL such as ``spark://host:7077`` or
``yarn``; a Dask scheduler such as ``tcp://host:8786``). On a cluster, ``--data`` and
``--out`` must be paths every worker can reach (HDFS, S3, a shared file system).

The run's metadata columns (``model_checksum``, ``library_version``, ``created_at``) are
added as on one machine; ``forecast_origin`` (each series' last timestamp) is not (it
needs the history's ends per series: ``--no-metadata`` leaves all of them out).
``--on-bad-series``, ``--max-staleness`` and ``--fallback-season`` work per partition;
``--future-data`` (Parquet, read by the engine as ``--data`` is) gives known-future
covariates other than calendar features; ``--report``, ``--max-bad-fraction`` and
``--expect-ids`` need the whole panel in one place and are refused with ``--engine``;
so are the in-process readers' ``--table``, ``--query``, ``--date-format`` and
``--timezone`` (the engine reads typed Parquet timestamps as they were written).

A tz-aware model reads the history's tz-aware timestamps in its own zone, whatever zone
they were written in (:class:`forecast.engines._partition.Job`), as on one machine; its
forecasts are in that zone with Dask, and UTC instants with Spark, whose timestamps carry
no zone (written as Parquet timestamps marked UTC, not Spark's default INT96, which reads
back as naive times).
"""

from __future__ import annotations

import argparse
import glob
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from forecast._exceptions import DataError, UsageError

__all__ = ["ENGINE_OPTIONS", "add_flags", "run_predict"]

logger = logging.getLogger("forecast")

ENGINE_OPTIONS = ("engine", "engine_address")
_WHOLE_PANEL = (
    "report",
    "max_bad_fraction",
    "expect_ids",
    "expect_fitted_ids",
    "future_table",
    "future_query",
    "out_table",
)
# Options of the in-process readers: the engine reads --data itself, as typed Parquet.
_READER_ONLY = ("table", "query", "date_format", "timezone")


def add_flags(parser: argparse.ArgumentParser) -> None:
    """``predict``'s ``--engine`` and ``--engine-address``."""
    s = argparse.SUPPRESS
    parser.add_argument(
        "--engine", choices=("spark", "dask"), default=s,
        help="read --data (Parquet) and forecast on Spark or Dask, per partition of whole "
        "series; --out is then a folder of Parquet parts",
    )  # fmt: skip
    parser.add_argument(
        "--engine-address", metavar="URL", default=s,
        help="the Spark master (spark://host:7077, yarn) or Dask scheduler (tcp://host:8786); "
        "default: local (Spark local[*], a Dask LocalCluster)",
    )  # fmt: skip


def _check(option: Callable[..., Any], engine: str) -> tuple[str, str]:
    data, out = option("data"), option("out")
    if out is not None and not str(out).strip():
        raise UsageError(
            "--out is empty (an unset variable in a cron line?): --engine writes a folder of "
            "Parquet parts there; give its path."
        )
    if data is None or out is None or str(out) == "-":
        raise UsageError(
            f"--engine {engine} reads --data (Parquet: a file, a folder of parts or a glob) "
            "and writes --out (a folder of Parquet parts): give both."
        )
    given = [f"--{name.replace('_', '-')}" for name in _WHOLE_PANEL if option(name) is not None]
    if given:
        raise UsageError(
            f"{', '.join(given)} cannot be used with --engine: each needs the whole panel in "
            "one process. Leave them out, or run without --engine."
        )
    given = [f"--{name.replace('_', '-')}" for name in _READER_ONLY if option(name) is not None]
    if given:
        raise UsageError(
            f"{', '.join(given)} cannot be used with --engine: the engine reads --data as "
            "Parquet itself, with the timestamps typed as they were written (not parsed from "
            "text, not converted to another zone). Write the data to Parquet with the "
            "timestamps you want, or run without --engine."
        )
    for flag in ("data", "future_data"):  # here, not as a worker's FileNotFoundError
        _check_parquet(option(flag), flag)
    _check_out(str(out), (data, option("future_data")))
    return str(data), str(out)


def _check_out(out: str, inputs: tuple[Any, ...]) -> None:
    """Refuse an ``--out`` folder that cannot be written, before the engine starts: the
    checks of :func:`forecast.cli.sinks.check_out` that apply to a folder of Parquet parts.

    Refused: a name with a CSV extension (a job that reads ``forecast.csv`` would find a
    folder of Parquet); an existing path (never mixed with another run's parts); a folder
    in an input folder (read back as a part the next night); one under a file, or whose
    nearest existing folder takes no files. The engine creates missing folders, so a missing
    parent is not refused. A URL (``hdfs://``, ``s3://``) is the engine's to check.
    """
    from forecast.cli.sinks import overwrites
    from forecast.cli.sources import _CSV
    from forecast.io.atomic import unwritable

    if "://" in out:
        return
    if out.lower().endswith(_CSV):
        raise UsageError(
            f"--out {out!r} names a CSV file, but --engine writes a folder of Parquet parts: "
            "name a folder (such as forecast/ or forecast.parquet), or run without --engine."
        )
    for spec in inputs:
        clash = overwrites(out, spec)
        if clash is not None:
            raise UsageError(f"--out '{out}' {clash}: write the output elsewhere.")
    if os.path.lexists(out):
        raise UsageError(
            f"--out {out!r} exists; --engine writes a new folder of Parquet parts and never "
            "mixes them with another run's: remove it or name another."
        )
    folder = Path(os.path.abspath(out)).parent
    while not os.path.lexists(folder) and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise UsageError(f"Cannot write '{out}': '{folder}' is not a folder.")
    # A probe file where the first folder will be created: permissions, a read-only file
    # system, answer as they will for the engine (which would fail after starting).
    problem = unwritable(folder / ".forecast-write-probe")
    if problem is not None:
        raise UsageError(f"Cannot write '{out}': {problem}.")


def _check_parquet(spec: Any, flag: str) -> None:
    """Refuse a local ``--data`` (``--future-data``) that is missing or not Parquet, naming
    it; a URL (``s3://``, ``hdfs://``) is the engine's to read."""
    if spec is None or "://" in str(spec):
        return
    name = f"--{flag.replace('_', '-')} {str(spec)!r}"
    path = Path(spec)
    if path.is_dir():
        files = [p for p in sorted(path.rglob("*")) if p.is_file()]
    elif path.exists():
        files = [path]
    else:
        files = [Path(p) for p in sorted(glob.glob(str(spec), recursive=True))]
        if not files:
            raise DataError(f"{name}: no such file or folder, and no file matches it.")
    # pyarrow's rule: names starting with '.' or '_' (Spark's _SUCCESS) are not parts
    rel = [(p, p.relative_to(path).parts if path.is_dir() else (p.name,)) for p in files]
    files = [p for p, parts in rel if not any(x.startswith((".", "_")) for x in parts)]
    if not files:
        raise DataError(
            f"{name} holds no Parquet parts (names starting with '.' or '_' are skipped)."
        )
    for file in files:
        with open(file, "rb") as f:
            magic = f.read(4)
        if magic != b"PAR1":
            raise DataError(
                f"{name}: '{file}' is not a Parquet file; --engine reads Parquet only (a file, "
                "a folder of parts or a glob). Convert it, or run without --engine."
            )


def _spark(address: str | None, progress: bool = False) -> tuple[Any, Callable[[], None]]:
    """The active Spark session (the caller's, left as it is) or a new one.

    A new session shows Spark's ``[Stage ...]`` console progress bars only when
    ``progress`` (stderr is a terminal and not ``--quiet``): Spark draws them whenever
    its console is not silenced, and in a cron job's or a CI log they are line noise.
    """
    from pyspark.sql import SparkSession

    existing = SparkSession.getActiveSession()
    if existing is not None and address is None:
        return existing, lambda: None
    if address is None or address.startswith("local"):
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers: this Python
    session = (
        SparkSession.builder.master(address or "local[*]")
        .appName("forecast predict")
        .config("spark.ui.showConsoleProgress", "true" if progress else "false")
        .getOrCreate()
    )
    return session, session.stop


def _dask(address: str | None) -> tuple[Any, Callable[[], None]]:
    from distributed import Client, LocalCluster

    if address is not None:
        client = Client(address)
        return client, client.close
    cluster = LocalCluster(processes=True, dashboard_address=None)
    client = Client(cluster)

    def close() -> None:
        client.close()
        cluster.close()

    return client, close


def _write_spark(forecast: Any, out: str, zoned: bool) -> None:
    """``forecast`` as Parquet parts; a tz-aware model's timestamps as UTC instants marked
    as such (``TIMESTAMP_MICROS``): Spark's default INT96 reads back as naive times, which
    a reader would take as the model zone's wall times."""
    conf = forecast.sparkSession.conf
    key = "spark.sql.parquet.outputTimestampType"
    before = conf.get(key, None)
    if zoned:
        conf.set(key, "TIMESTAMP_MICROS")
    try:
        forecast.write.parquet(out)
    finally:  # the session may be the caller's: left as it was
        if zoned and before is None:
            conf.unset(key)
        elif zoned:
            conf.set(key, before)


def _text_ids(frame: Any, model: Any, engine: str) -> Any:
    """``frame`` with its ids as text where the model's are (a model fitted from CSV, whose
    ids the command line reads as text, given Parquet with integer ids), as the in-process
    ``predict`` types them (:func:`forecast.cli.sources.typed_ids`); missing ids stay so."""
    id_col = model.layout_.id_col
    if id_col is None or id_col not in frame.columns:
        return frame
    if not all(isinstance(i, str) for i in model.series_ids_):
        return frame
    if engine == "spark":
        from pyspark.sql import functions as F

        return frame.withColumn(id_col, F.col(id_col).cast("string"))
    return frame.assign(**{id_col: frame[id_col].astype("string")})  # NA stays missing


def run_predict(args: argparse.Namespace, option: Callable[..., Any]) -> int:
    """``forecast predict --engine ...`` (see the module docstring); returns the exit code."""
    from forecast.cli.sinks import run_metadata
    from forecast.engines import require
    from forecast.forecasters.builtin import load

    engine, address = option("engine"), option("engine_address")
    data, out = _check(option, engine)
    require(engine, cluster=True)
    path = option("model", required=True)
    model = load(path)
    metadata = run_metadata(path) if option("metadata") is not False else {}
    future = option("future_data")
    names = list(model.future_names_)
    others = [n for n in names if n not in model.__dict__.get("calendar_features_", [])]
    if (future is None and others) or (future is not None and not names):
        raise UsageError(
            f"This model was trained with known-future covariates {names}: give their values "
            "over the horizon with --future-data PATH (Parquet, read by the engine: id and "
            "time columns and those columns)."
            if others
            else "--future-data gives known-future covariates, but this model was trained "
            "without any; leave the flag out."
        )
    isolation: dict[str, Any] = {
        name: option(name)
        for name in ("on_bad_series", "max_staleness", "fallback_season")
        if option(name) is not None
    }
    start = time.perf_counter()
    if engine == "spark":
        stderr = sys.stderr
        progress = stderr is not None and stderr.isatty() and not getattr(args, "quiet", False)
        client, close = _spark(address, progress)
    else:
        client, close = _dask(address)
    try:
        if engine == "spark":
            from pyspark.sql import functions as F

            frame = _text_ids(client.read.parquet(data), model, engine)
            if future is not None:
                isolation["future_covariates"] = _text_ids(
                    client.read.parquet(future), model, engine
                )
            forecast = model.predict(frame, horizon=option("horizon"), **isolation)
            for name, value in metadata.items():
                forecast = forecast.withColumn(name, F.lit(value))
            zoned = getattr(model.__dict__.get("cutoffs_"), "tz", None) is not None
            _write_spark(forecast, out, zoned)
        else:
            import dask.dataframe as dd

            frame = _text_ids(dd.read_parquet(data), model, engine)
            if future is not None:
                isolation["future_covariates"] = _text_ids(dd.read_parquet(future), model, engine)
            forecast = model.predict(frame, horizon=option("horizon"), **isolation)
            forecast = forecast.assign(**metadata)
            Path(out).mkdir(parents=True)
            forecast.to_parquet(out)
    finally:
        close()
    logger.info(
        "wrote the forecast to %s (%s)",
        out,
        engine,
        extra={
            "fields": {
                "event": "predict",
                "engine": engine,
                "output": out,
                "seconds": round(time.perf_counter() - start, 3),
            }
        },
    )
    return 0
