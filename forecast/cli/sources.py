"""Where ``--data`` (and ``--future-data``, ``--actuals``...) is read from.

One argument names the source; what it is decides how it is read:

* a **file**: CSV or Parquet by extension (:func:`forecast.cli.tables.read_table`);
* a **folder** of parts, or a **glob** (``"parts/*.parquet"``, ``"day=*/**/*.csv"``): every
  file in it (recursively; names starting with ``.`` or ``_``, such as Spark's ``_SUCCESS``,
  are skipped, as pyarrow skips them), all Parquet or all CSV, read as one table in
  the order of their paths. **Hive-style partitions** (``id=A/part-0.parquet``) become columns
  (``id``), their values as text (URI-decoded, as pyarrow writes them: ``A%2CB`` is ``A,B``);
  a part that has a column of its partition folder's name is refused. Parquet parts are
  read with ``pyarrow.dataset`` (one schema for all parts); CSV parts each with pandas, as a
  single CSV file is (pyarrow's CSV reader infers each column's type from the first part
  only and would refuse a later part whose floats follow integers);
* ``-``: CSV on standard input;
* a **database**: a SQLAlchemy URL (``sqlite:///jobs.db``, ``duckdb:///warehouse.duckdb``,
  ``postgresql+psycopg://user@host/db``) with ``--table NAME`` (``schema.name`` allowed) or
  ``--query "SELECT ..."``, read with :func:`pandas.read_sql_query`. Needs the optional
  extra ``forecast-rnn[sql]`` (SQLAlchemy; the database's own driver besides, e.g.
  ``duckdb-engine`` or ``psycopg[binary]``). SQLAlchemy is imported only when a URL is given.
  A SQLite or DuckDB file that does not exist is refused before connecting, which would
  create it.

Dates in the time column are parsed after reading, the same way for every source
(:mod:`forecast.cli.dates`: ``--date-format`` or ISO 8601, and ``--timezone``).

**Series ids** (``id_col``) are never re-typed by a text reader: in CSV (files, parts,
stdin) and hive folder names they are read as text, so ``007`` stays ``007`` (pandas would
read ``7``, and each CSV part on its own, one series could become two: ``7`` and
``"007"``); Parquet and databases keep their own types. With a fitted model's ids
(``series_ids``: ``predict``'s ``--data`` and ``--future-data``), they are then typed as the
model's are (:func:`typed_ids`).
"""

from __future__ import annotations

import argparse
import glob
import io
import os
import re
import sys
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from forecast._exceptions import DataError, UsageError
from forecast.cli.dates import add_timezone_flag, parse_dates

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "add_source_flags",
    "engine_for",
    "id_options",
    "is_database_url",
    "read_source",
    "redact_url",
    "refuse_file_url",
    "typed_ids",
]

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_GLOB = re.compile(r"[*?\[]")
_PARQUET = (".parquet", ".pq")
_CSV = (".csv", ".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zst", ".csv.zip")


def is_database_url(spec: Any) -> bool:
    """Whether ``spec`` is a SQLAlchemy URL (``dialect[+driver]://...``), not a path."""
    return isinstance(spec, str) and bool(_URL.match(spec)) and not os.path.exists(spec)


# Schemes of files elsewhere, not of databases: SQLAlchemy would take them for dialects.
_FILE_SCHEMES = {"file", "s3", "s3a", "gs", "gcs", "http", "https", "ftp", "sftp", "hdfs",
                 "abfs", "abfss", "az", "adl"}  # fmt: skip
SUPPORTED = (
    "a local file, folder or glob (CSV or Parquet), - (CSV on standard input), or a "
    "database URL (sqlite:///jobs.db, duckdb:///wh.duckdb, postgresql+psycopg://host/db)"
)


def refuse_file_url(spec: str, what: str) -> None:
    """Refuse a URL of files (``file://``, ``s3://``...) as ``what`` (``"The data source"``,
    ``"--out"``), which :func:`is_database_url` would take for a database's."""
    scheme = spec.split("://", 1)[0].lower()
    if scheme == "file":
        raise UsageError(f"{what} '{spec}' is a file URL: give the path itself ({spec[7:]!r}).")
    if scheme in _FILE_SCHEMES:
        raise UsageError(
            f"{what} '{redact_url(spec)}' is a remote file ({scheme}://), which forecast does "
            f"not read or write: copy it to a local path (or mount it). Supported: {SUPPORTED}."
        )


def redact_url(url: str) -> str:
    """``url`` with its password hidden, for messages and logs."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


def add_source_flags(parser: argparse.ArgumentParser) -> None:
    """``--table``, ``--query``, ``--date-format`` and ``--timezone`` on a command that reads
    ``--data``."""
    s = argparse.SUPPRESS
    parser.add_argument("--table", default=s, help="with a database URL as --data: its table")
    parser.add_argument(
        "--query", default=s, help="with a database URL as --data: a SELECT query to read"
    )
    parser.add_argument(
        "--date-format", default=s, metavar="FORMAT",
        help="strptime format of the dates, e.g. '%%d/%%m/%%Y' (default: ISO 8601)",
    )  # fmt: skip
    add_timezone_flag(parser)


# ------------------------------------------------------------------------------ sources


def read_source(
    spec: Any,
    *,
    time_col: str | None = None,
    time_index: Hashable | None = None,
    date_format: str | None = None,
    table: str | None = None,
    query: str | None = None,
    role: str = "data",
    timezone: Any = None,
    model_zone: Any = None,
    convention: bool = False,
    id_col: str | None = None,
    series_ids: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """Read the table that ``spec`` names (see the module docstring), dates parsed.

    Parameters
    ----------
    spec : str or path-like
        A file, a folder, a glob, ``"-"`` (CSV on stdin) or a SQLAlchemy URL.
    time_col : str, optional
        Column whose values are parsed as dates.
    time_index : hashable, optional
        A column to parse and make the index (a wide frame saved with its index), if present.
    date_format : str, optional
        ``strptime`` format of the dates; default ISO 8601.
    table, query : str, optional
        For a database URL: the table to read, or a SELECT query (exactly one).
    role : str
        What the source is (``"data"``, ``"actuals"``), for messages.
    timezone, model_zone : str or tzinfo, optional
        ``--timezone``, and a saved model's zone (:func:`~forecast.cli.dates.parse_dates`).
    convention : bool
        Without ``time_col``, parse the time column of Nixtla's convention (``ds`` of a frame
        with ``unique_id, ds, y``, :func:`~forecast.data.conventions.default_columns`): the
        one a model without column arguments is fitted on, whose dates need ``--date-format``
        and ``--timezone`` as much as a named column's.
    id_col : str, optional
        The series id column: read as text from CSV and hive folder names.
    series_ids : sequence, optional
        A fitted model's ids: ``id_col`` is typed as they are (:func:`typed_ids`).

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    DataError
        A source that cannot be read, holds nothing, or has no ``time_col`` or no dates there;
        an id that cannot be typed as the model's.
    UsageError
        ``--table``/``--query`` without a URL or a URL with neither, an unknown extension,
        a missing optional package.
    """
    spec_text = os.fspath(spec) if isinstance(spec, os.PathLike) else str(spec)
    database = is_database_url(spec_text)
    if not database and (table is not None or query is not None):
        raise UsageError(
            f"--table and --query read from a database; {role} source '{spec_text}' is not a "
            "database URL (such as sqlite:///jobs.db or postgresql+psycopg://host/db)."
        )
    if database:
        refuse_file_url(spec_text, f"The {role} source")
        frame, where = _read_database(spec_text, table, query, role), redact_url(spec_text)
    elif spec_text == "-":
        frame, where = _read_stdin(role, id_col), f"{role} from standard input"
    elif os.path.isdir(spec_text):
        files = sorted(_data_files(Path(spec_text)))
        frame = _read_parts(files, Path(spec_text), spec_text, role, id_col)
        where = f"{role} '{spec}'"
    elif _GLOB.search(spec_text) and not os.path.exists(spec_text):
        files = sorted(Path(p) for p in glob.glob(spec_text, recursive=True) if os.path.isfile(p))
        base = Path(_glob_base(spec_text))
        frame, where = _read_parts(files, base, spec_text, role, id_col), f"{role} '{spec}'"
    else:
        from forecast.cli.tables import read_table

        frame, where = read_table(spec_text, id_col=id_col), f"{role} file '{spec}'"
    if convention and time_col is None and time_index is None:
        from forecast.data.conventions import default_columns

        time_col = default_columns(frame, None, None, None)[1]
    if series_ids is not None and id_col is not None and id_col in frame.columns:
        frame[id_col] = typed_ids(frame[id_col], series_ids, id_col, where)
    zones = (timezone, model_zone)
    return _with_dates(frame, where, time_col, time_index, date_format, zones)


def id_options(model: Any) -> dict[str, Any]:
    """``read_source``'s ``id_col`` and ``series_ids`` for data that ``model`` reads: a
    fitted model's id column and ids; an estimator's id column (Nixtla's ``unique_id`` when
    it names no column), no ids (it fits on them as read)."""
    if model is None:
        return {}
    if hasattr(model, "layout_"):
        id_col = model.layout_.id_col
        ids = list(model.series_ids_) if id_col is not None else None
        return {"id_col": None if id_col is None else str(id_col), "series_ids": ids}
    id_col, time_col = getattr(model, "id_col", None), getattr(model, "time_col", None)
    if id_col is None and time_col is None:
        id_col = "unique_id"  # forecast.data.conventions: unique_id, ds, y
    return {"id_col": None if id_col is None else str(id_col)}


def _text_ids(id_col: str | None) -> dict[str, Any] | None:
    """``read_csv``'s ``dtype``: the id column as text (never ``007`` -> ``7``)."""
    return None if id_col is None else {id_col: str}


def typed_ids(values: pd.Series, fitted: Sequence[Any], id_col: str, where: str) -> pd.Series:
    """``values`` (a source's series ids) typed as a fitted model's ids ``fitted`` are.

    A model fitted on integer ids (Parquet, a database, or CSV before ids were read as
    text) gets integers: ``"007"`` is ``7``, and an id that is not an integer is an error.
    A model fitted on text ids gets text: an integer ``42`` (Parquet) is ``"42"``, which
    matches the model's ``"42"``, not its ``"0042"``. Ids of other types are left as given.

    Raises
    ------
    DataError
        An id that is not an integer where the model's ids are (the first one named).
    """
    import numpy as np
    import pandas as pd

    fitted = list(fitted)
    known = values.notna()
    if not fitted or not known.any():
        return values
    if all(isinstance(i, int | np.integer) and not isinstance(i, bool) for i in fitted):
        if pd.api.types.is_integer_dtype(values.dtype):
            return values
        out = []
        for value in values[known]:
            number = _integer(value)
            if number is None:
                raise DataError(
                    f"Series id {value!r} in column {id_col!r} of the {where} is not an "
                    f"integer, but the model's series ids are (e.g. {fitted[0]!r}): give the "
                    "ids the model was fitted with."
                )
            out.append(number)
        if known.all():
            return pd.Series(out, index=values.index, name=values.name, dtype="int64")
        typed = pd.Series(pd.NA, index=values.index, name=values.name, dtype="Int64")
        typed[known] = out
        return typed
    if all(isinstance(i, str) for i in fitted):
        if values[known].map(lambda v: isinstance(v, str)).all():
            return values
        # numbers as their text (np.int64(42) -> "42"), nulls left null
        return values.where(~known, values[known].map(str)).astype(object)
    return values


def _integer(value: Any) -> int | None:
    """``value`` as an int if it is one (``"007"``, ``7``, ``7.0``), else None."""
    import numpy as np

    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return int(value) if float(value).is_integer() else None
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value.strip())
    return None


def _with_dates(
    frame: pd.DataFrame,
    where: str,
    time_col: str | None,
    time_index: Hashable | None,
    date_format: str | None,
    zones: tuple[Any, Any],
) -> pd.DataFrame:
    if time_col is not None:
        if time_col not in frame.columns:
            raise DataError(
                f"{where[0].upper()}{where[1:]} has no column {time_col!r} (the time column). "
                f"Columns: {list(frame.columns)}."
            )
        frame[time_col] = parse_dates(frame[time_col], time_col, where, date_format, *zones)
    elif time_index is not None and time_index in frame.columns:
        frame = frame.set_index(time_index)
        frame.index = parse_dates(frame.index, time_index, where, date_format, *zones)
    return frame


def _read_stdin(role: str, id_col: str | None = None) -> pd.DataFrame:
    import pandas as pd

    if sys.stdin is None or sys.stdin.isatty():
        raise UsageError(
            f"The {role} source '-' reads CSV from standard input, which is a terminal; pipe "
            "the data in (… | forecast predict --data - ...)."
        )
    raw = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
    if not raw.strip():
        raise DataError(f"The {role} on standard input is empty (no CSV header, no rows).")
    try:
        return pd.read_csv(io.BytesIO(raw), dtype=_text_ids(id_col))
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataError(
            f"Cannot read the {role} on standard input as CSV: {' '.join(str(exc).split())}"
        ) from None


def _glob_base(pattern: str) -> str:
    """The folder above the first wildcard of ``pattern`` (where hive partitions start)."""
    head = _GLOB.split(pattern, maxsplit=1)[0]
    return os.path.dirname(head) or "."


def _hidden(path: Path, base: Path) -> bool:
    try:
        parts = path.relative_to(base).parts
    except ValueError:
        parts = (path.name,)
    return any(p.startswith((".", "_")) for p in parts)


def _data_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and not _hidden(p, folder)]


def _kind(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith(_PARQUET):
        return "parquet"
    if name.endswith(_CSV):
        return "csv"
    return None


def _read_parts(
    files: list[Path], base: Path, spec: str, role: str, id_col: str | None = None
) -> pd.DataFrame:
    import pandas as pd

    files = [f for f in files if not _hidden(f, base)]
    if not files:
        raise DataError(
            f"The {role} source '{spec}' holds no data files (CSV or Parquet parts; names "
            "starting with '.' or '_' are skipped)."
        )
    kinds = {f: _kind(f) for f in files}
    unknown = [str(f) for f, k in kinds.items() if k is None]
    if unknown:
        raise UsageError(
            f"The {role} source '{spec}' holds files that are neither CSV nor Parquet: "
            f"{unknown[:3]}{' ...' if len(unknown) > 3 else ''}. Move them away, or name the "
            "parts with a glob ('folder/*.parquet')."
        )
    if len(set(kinds.values())) > 1:
        raise UsageError(
            f"The {role} source '{spec}' mixes CSV and Parquet parts; read one kind, with a "
            "glob such as 'folder/**/*.parquet'."
        )
    try:
        if kinds[files[0]] == "parquet":
            return _read_parquet_parts(files, base, id_col)
        frames = []
        for f in files:
            part = pd.read_csv(f, dtype=_text_ids(id_col))
            for key, value in _hive_keys(f, base):
                _refuse_both(f, key, value, part.columns)
                part[key] = value
            frames.append(part)
        return pd.concat(frames, ignore_index=True)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(
            f"Cannot read the {role} parts of '{spec}': {' '.join(str(exc).split())}"
        ) from None


def _refuse_both(part: Path, key: str, value: str, columns: Any) -> None:
    """A part's column of its partition folder's name: which one holds the value is unknown
    (pyarrow would silently take the folder's)."""
    if key in columns:
        raise DataError(
            f"Part '{part}' has a column {key!r} and sits in the partition folder "
            f"{key}={value}; rename one of them."
        )


def _hive_keys(path: Path, base: Path) -> list[tuple[str, str]]:
    """``[(key, value)]`` of the ``key=value`` folders between ``base`` and ``path``."""
    try:
        folders = path.relative_to(base).parts[:-1]
    except ValueError:
        return []
    # URI-decoded, as pyarrow writes and reads them (A%2CB is A,B)
    pairs = [p.split("=", 1) for p in folders if "=" in p]
    return [(unquote(key), unquote(value)) for key, value in pairs]


def _hive_type(key: str, values: list[str], id_col: str | None) -> Any:
    """The Arrow type of hive partition ``key``: text for the id column (and by default)."""
    import pyarrow as pa

    if key != id_col and all(re.fullmatch(r"-?\d{1,9}", v) for v in values):
        return pa.int32()
    return pa.string()


def _read_parquet_parts(files: list[Path], base: Path, id_col: str | None = None) -> pd.DataFrame:
    try:
        import pyarrow.dataset as ds
    except ImportError:
        raise UsageError(
            "Parquet parts need pyarrow, which is not installed. Install it with "
            "`pip install 'forecast-rnn[parquet]'`."
        ) from None
    import pyarrow as pa
    import pyarrow.parquet as pq

    keys: dict[str, list[str]] = {}
    for f in files:
        found = _hive_keys(f, base)
        if found:  # the footer only: the columns a folder name would hide
            names = pq.read_schema(f).names
            for key, value in found:
                _refuse_both(f, key, value, names)
                keys.setdefault(key, []).append(value)
    # The id key's values as text, as in CSV parts (inferred, '007' would be 7); the other
    # keys as pyarrow infers them (int32 where every value is one), so that a numeric key a
    # model reads as a covariate stays a number.
    schema = pa.schema([(key, _hive_type(key, values, id_col)) for key, values in keys.items()])
    dataset = ds.dataset(
        [str(f) for f in files],
        format="parquet",
        partitioning=ds.partitioning(schema, flavor="hive"),
        partition_base_dir=str(base),
    )
    try:
        frame: pd.DataFrame = dataset.to_table().to_pandas()
    except pa.ArrowException as exc:  # ArrowTypeError is no ValueError: parts that disagree
        raise DataError(
            f"Cannot read the Parquet parts under '{base}' as one table: "
            f"{' '.join(str(exc).split())}. Write every part with the same column types."
        ) from None
    return frame


# ------------------------------------------------------------------------------ databases


def engine_for(url: str) -> Any:
    """A SQLAlchemy engine for ``url``; a clear error without SQLAlchemy or the driver."""
    try:
        import sqlalchemy
    except ImportError:
        raise UsageError(
            f"Database URL '{redact_url(url)}' needs SQLAlchemy, which is not installed. "
            "Install it with `pip install 'forecast-rnn[sql]'` (and the database's driver)."
        ) from None
    try:
        return sqlalchemy.create_engine(url)
    except ImportError as exc:  # the dialect's driver (psycopg, duckdb_engine...)
        raise UsageError(
            f"Database URL '{redact_url(url)}' needs a driver that is not installed: {exc}."
        ) from None
    except sqlalchemy.exc.ArgumentError as exc:
        raise UsageError(
            f"'{redact_url(url)}' is not a database URL SQLAlchemy knows: {exc}. Supported: "
            f"{SUPPORTED}."
        ) from None
    except sqlalchemy.exc.NoSuchModuleError as exc:
        raise UsageError(
            f"Database URL '{redact_url(url)}': {exc}. Supported: {SUPPORTED}."
        ) from None


def _read_database(url: str, table: str | None, query: str | None, role: str) -> pd.DataFrame:
    import pandas as pd

    engine = engine_for(url)  # first: a scheme that names no database is refused as such
    if (table is None) == (query is None):
        raise UsageError(
            f"The {role} source '{redact_url(url)}' is a database: give --table NAME or "
            "--query 'SELECT ...' (one of them)."
        )
    _refuse_missing_file(engine, url, role)
    import sqlalchemy

    try:
        with engine.connect() as conn:
            if table is not None:
                # SELECT * through SQLAlchemy's quoting, not read_sql_table: that reflects
                # the table through the dialect's catalogue, which duckdb_engine lacks
                # (pg_catalog.pg_collation); dates are parsed afterwards, for every source.
                schema, _, name = table.rpartition(".")
                rows = sqlalchemy.table(name, schema=schema or None)
                statement = sqlalchemy.select(sqlalchemy.text("*")).select_from(rows)
                return pd.read_sql_query(statement, conn)
            return pd.read_sql_query(sqlalchemy.text(str(query)), conn)
    except (sqlalchemy.exc.SQLAlchemyError, pd.errors.DatabaseError, ValueError) as exc:
        what = f"table {table!r}" if table is not None else "the query"
        raise DataError(f"Cannot read {what} from {redact_url(url)}: {_reason(exc)}") from None
    finally:
        engine.dispose()


def _refuse_missing_file(engine: Any, url: str, role: str) -> None:
    """Refuse a SQLite or DuckDB file that does not exist, naming it: connecting creates it
    (SQLite an empty file, DuckDB a 12 KB one), so a mistyped URL would leave a database
    behind and report only that the table is missing. ``:memory:`` and SQLite's ``file:``
    URIs (whose ``mode`` decides) are the driver's."""
    database = engine.url.database
    if engine.dialect.name not in ("sqlite", "duckdb") or not database:
        return
    if database == ":memory:" or database.startswith("file:"):
        return
    if not os.path.exists(database):
        engine.dispose()
        where = "" if os.path.isabs(database) else f" (relative to '{os.getcwd()}')"
        raise DataError(
            f"The {role} source {redact_url(url)}: database file '{database}'{where} does not "
            "exist; check the URL (sqlite:///relative.db, sqlite:////absolute/path.db). A "
            "read does not create a database."
        )


def _reason(exc: BaseException) -> str:
    """The database's own message (``no such table: sales``), on one line: not the first line
    of pandas' ``Execution failed on sql 'SELECT *``, which the statement's newline cuts."""
    cause: BaseException | None = exc
    while cause is not None:
        orig = getattr(cause, "orig", None)  # SQLAlchemy's DBAPIError: the driver's error
        if orig is not None and str(orig).strip():
            return " ".join(str(orig).split())
        cause = cause.__cause__ or cause.__context__
    return " ".join(str(exc).split("[SQL:")[0].split()) or type(exc).__name__
