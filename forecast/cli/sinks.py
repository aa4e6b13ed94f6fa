"""Where forecasts go, with the run's metadata: a file, standard output, or a database table.

**Run metadata.** Every forecast ``forecast predict`` writes carries four columns after the
forecast's own (``--no-metadata`` leaves them out):

=================== =================================================================
``forecast_origin`` the last timestamp of the series' history: the forecast starts after it
``model_checksum``  ``sha256:<hex>`` of the model file's bytes (``sha256sum`` gives the same
                    hex; ``forecast info --json`` shows it as ``checksum``)
``library_version`` the ``forecast`` version that made the forecast
``created_at``      when the run wrote its output, UTC, ISO 8601 to the second
=================== =================================================================

so a row in a table of many nights' forecasts says which model made it, from which data,
and when. ``forecast score`` accepts forecasts with or without them. The metrics ``forecast
backtest`` writes and the scores of ``forecast score`` carry the two of them that are not
about one model file's forecast, ``library_version`` and ``created_at``
(:data:`REPORT_METADATA`), so that a table of nightly scores says when each row was made.
(``backtest --model M`` rewrites M's card with its scores, so a checksum of M would not
name the file left behind: it is not among them.)

**Outputs.** ``--out PATH`` (CSV or Parquet, atomically, :mod:`forecast.cli.tables`), ``--out
-`` (CSV on stdout), or ``--out URL --out-table NAME``: rows appended to a database table
(created if missing) in one transaction, with :meth:`pandas.DataFrame.to_sql`: a failed run
appends nothing. Timestamps are written as the database's timestamp type; in SQLite, which
has none, as text, ISO 8601 with the UTC offset when they have a time zone (SQLAlchemy's
``DATETIME`` would drop it), so that ``forecast score`` reads back the same instants.
The same three for ``predict``, ``backtest`` and ``score``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from forecast._exceptions import DataError, UsageError
from forecast.cli.sources import engine_for, is_database_url, redact_url, refuse_file_url

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "METADATA_COLUMNS",
    "REPORT_METADATA",
    "add_output_flags",
    "add_sink_flags",
    "check_out",
    "check_sink",
    "origins",
    "overwrites",
    "run_metadata",
    "utc_now",
    "with_metadata",
    "with_run_columns",
    "write_output",
]

METADATA_COLUMNS = ("forecast_origin", "model_checksum", "library_version", "created_at")
REPORT_METADATA = ("library_version", "created_at")  # backtest's metrics, score's scores


def add_output_flags(parser: argparse.ArgumentParser, what: str, columns: Sequence[str]) -> None:
    """``--out-table NAME`` and ``--metadata/--no-metadata`` for a command writing ``what``
    with the run's metadata ``columns``."""
    s = argparse.SUPPRESS
    parser.add_argument(
        "--out-table", default=s, metavar="NAME",
        help=f"with a database URL as --out: append the {what} to this table",
    )  # fmt: skip
    parser.add_argument(
        "--metadata", action=argparse.BooleanOptionalAction, default=s,
        help=f"the run's metadata columns ({', '.join(columns)}) after the {what}'s "
        "(default: on)",
    )  # fmt: skip


def add_sink_flags(parser: argparse.ArgumentParser) -> None:
    """``predict``'s ``--out-table``, ``--no-metadata`` and ``--future-data`` flags."""
    s = argparse.SUPPRESS
    add_output_flags(parser, "forecast", METADATA_COLUMNS)
    parser.add_argument(
        "--future-data", default=s, metavar="SOURCE",
        help="known-future covariates over the horizon, for a model trained with them "
        "(a file, folder, glob, - or database URL, as --data)",
    )  # fmt: skip
    parser.add_argument("--future-table", default=s, help="with a URL as --future-data")
    parser.add_argument("--future-query", default=s, help="with a URL as --future-data")


def utc_now() -> str:
    """The current time, UTC, ISO 8601 to the second (``2026-12-03T17:45:00Z``)."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_metadata(model_path: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """The columns every row of this run shares: the model file's checksum (when the run
    forecasts from one), the library version, the creation time."""
    from forecast._version import __version__

    shared = {"library_version": __version__, "created_at": utc_now()}
    if model_path is None:
        return shared
    from forecast.io.model_file import file_checksum

    return {"model_checksum": file_checksum(model_path), **shared}


def with_run_columns(frame: pd.DataFrame, shared: dict[str, Any]) -> pd.DataFrame:
    """``frame`` with a column per item of ``shared`` after its own (a copy).

    Raises
    ------
    DataError
        ``frame`` has a column of that name already (the data's, which it would overwrite).
    """
    clash = [c for c in shared if c in frame.columns]
    if clash:
        raise DataError(
            f"The output already has column(s) {clash}, which the run's metadata would "
            "overwrite; rename them in the data, or pass --no-metadata."
        )
    out = frame.copy()
    for key, value in shared.items():
        out[key] = value
    return out


def with_metadata(
    forecast: pd.DataFrame,
    origins: pd.Series,
    shared: dict[str, str],
    *,
    id_col: str | None,
) -> pd.DataFrame:
    """``forecast`` with the metadata columns after its own.

    ``origins``: each series' last history timestamp, indexed by series id (one row, any
    index, for a wide frame). ``id_col``: the forecast's id column, None for a wide frame.
    """
    if id_col is None:
        origin: Any = origins.iloc[0]
    else:
        origin = forecast[id_col].map(origins)
        if origin.isna().any():  # an id the origins do not know: a bug of ours
            missing = forecast.loc[origin.isna(), id_col].unique()[:3].tolist()
            raise RuntimeError(f"No forecast origin for series {missing}.")
    return with_run_columns(forecast, {"forecast_origin": origin, **shared})


def origins(model: Any, df: pd.DataFrame | None) -> pd.Series:
    """Each series' forecast origin (its last timestamp), indexed by id.

    From ``df`` when given (the history the forecast starts after), else the model's
    training data (``cutoffs_``).
    """
    import pandas as pd

    layout = model.layout_
    if df is None:
        return pd.Series(list(model.cutoffs_), index=list(model.series_ids_))
    if layout.id_col is None:
        times = df[layout.time_col] if layout.time_col else df.index
        return pd.Series([pd.Series(times).max()])
    return df.groupby(layout.id_col, sort=False)[layout.time_col].max()


def check_sink(out: Any, out_table: str | None) -> None:
    """Refuse a database output without a table, or a table without a database, up front;
    and a URL of files (``s3://``), which is neither."""
    if is_database_url(out):
        refuse_file_url(str(out), "--out")
    if out_table is not None and not is_database_url(out):
        raise UsageError(
            f"--out-table appends to a database table; --out must then be a database URL "
            f"(such as sqlite:///forecasts.db). Got --out {out!r}."
        )
    if out_table is None and is_database_url(out):
        raise UsageError(
            f"--out {redact_url(str(out))!r} is a database: name the table to append to with "
            "--out-table NAME."
        )


def check_out(
    out: Any, *, table: bool = True, inputs: Sequence[Any] = (), flag: str = "--out"
) -> None:
    """Refuse an output that cannot be written, before any work (not after an hour's fit).

    Refused: an empty value (an unset ``$OUT`` in a cron line, which would otherwise mean
    standard output); a path that is one of the run's ``inputs`` or inside an input folder
    (the input would be destroyed, or read back as a part the next night); a missing or
    read-only folder, a file system that takes no files; for a ``table``, an extension that
    names no format, or one whose package is missing (Parquet without pyarrow, ``.zst``
    without zstandard); a database URL whose driver is missing, whose file cannot be
    created, or that does not connect.
    """
    from forecast.io.atomic import unwritable

    if out is None:
        return
    text = os.fspath(out) if isinstance(out, os.PathLike) else str(out)
    if not text.strip():
        raise UsageError(
            f"{flag} is empty (an unset variable in a cron line?): give a file, - for "
            "standard output, or a database URL."
        )
    if text == "-":
        return
    if is_database_url(text):
        _check_database(text, flag)
        return
    if table:
        from forecast.cli.tables import check_output

        check_output(text)
        _need_compression(text)
    for spec in inputs:
        clash = overwrites(text, spec)
        if clash is not None:
            raise UsageError(f"{flag} '{text}' {clash}: write the output elsewhere.")
    problem = unwritable(text)
    if problem is not None:
        raise UsageError(f"Cannot write '{text}': {problem}.")


def overwrites(out: str, spec: Any) -> str | None:
    """How writing ``out`` harms the input ``spec`` (replaces it, or adds a file to its
    folder of parts), or None. Paths are compared resolved (links, ``..``)."""
    if spec is None:
        return None
    spec_text = os.fspath(spec) if isinstance(spec, os.PathLike) else str(spec)
    if spec_text in ("", "-") or is_database_url(spec_text):
        return None
    target, source = os.path.realpath(out), os.path.realpath(spec_text)
    if os.path.isdir(source) and os.path.commonpath([target, source]) == source:
        return f"is inside the input folder '{spec_text}', where the next run reads it as a part"
    if target == source:
        return f"would overwrite the input '{spec_text}'"
    return None


def _need_compression(path: str) -> None:
    """Refuse ``.csv.zst`` without zstandard, which pandas would need only at the write."""
    import importlib.util

    if path.lower().endswith(".zst") and importlib.util.find_spec("zstandard") is None:
        raise UsageError(
            f"Cannot write '{path}': a .zst file needs the zstandard package, which is not "
            "installed (`pip install zstandard`); or write .csv.gz."
        )


def _check_database(url: str, flag: str) -> None:
    """The driver is there, and a file database can be created (not created here: a failed
    run leaves no empty database), or a server database connects."""
    import sqlalchemy

    from forecast.io.atomic import unwritable

    engine = engine_for(url)
    try:
        database = engine.url.database
        if engine.dialect.name in ("sqlite", "duckdb") and database:
            if database == ":memory:" or database.startswith("file:"):
                return
            if not os.path.exists(database):
                problem = unwritable(database)
                if problem is not None:
                    raise UsageError(f"Cannot write {flag} {redact_url(url)}: {problem}.")
                return
        with engine.connect():
            pass
    except sqlalchemy.exc.SQLAlchemyError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"Cannot open {flag} {redact_url(url)}: {first}") from None
    finally:
        engine.dispose()


def write_output(frame: pd.DataFrame, out: Any, out_table: str | None = None) -> str:
    """Write ``frame`` to a file, ``-`` or (``out_table``) a database table; says where."""
    if out_table is None:
        from forecast.cli.tables import write_table

        write_table(frame, out)
        return "stdout" if str(out) == "-" else str(out)
    append_to_table(frame, str(out), out_table)
    return f"table {out_table} of {redact_url(str(out))}"


def append_to_table(frame: pd.DataFrame, url: str, table: str) -> None:
    """Append ``frame`` (its index too, unless a plain range) to ``table``, in one transaction."""
    import pandas as pd
    import sqlalchemy

    rows = frame
    if not (isinstance(frame.index, pd.RangeIndex) and frame.index.name is None):
        rows = frame.reset_index()
    schema, _, name = table.rpartition(".")
    engine = engine_for(url)
    if engine.dialect.name == "sqlite":
        rows = _offsets_as_text(rows)
    try:
        with engine.begin() as conn:  # commits at the end, rolls back on any error
            rows.to_sql(name, conn, schema=schema or None, if_exists="append", index=False)
    except (sqlalchemy.exc.SQLAlchemyError, pd.errors.DatabaseError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise DataError(
            f"Cannot append to table {table!r} of {redact_url(url)}: {first}. Nothing was "
            "written (one transaction)."
        ) from None
    finally:
        engine.dispose()


def _offsets_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its tz-aware timestamp columns as ISO 8601 text with their UTC offsets.

    SQLite has no timestamp type: SQLAlchemy's ``DATETIME`` stores the wall time and drops
    the offset, so the two 02:00 of a fall-back night become one time, repeated, and every
    row loses its instant. The text keeps the instant, and reads back as a CSV's offsets do
    (:func:`forecast.cli.dates.parse_dates`: in ``--timezone``, else the model's zone).
    """
    import pandas as pd

    aware = [
        c for c in frame.columns
        if isinstance(frame[c].dtype, pd.DatetimeTZDtype)
    ]  # fmt: skip
    if not aware:
        return frame
    out = frame.copy()
    for c in aware:
        out[c] = [None if pd.isna(t) else t.isoformat() for t in frame[c]]
    return out
