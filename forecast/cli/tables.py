"""Tables in and out for the command line: CSV or Parquet by extension, written atomically.

* ``.csv`` (also ``.csv.gz``, ``.csv.bz2``, ``.csv.zst``...: pandas infers the compression)
  and ``.parquet`` / ``.pq`` (through pyarrow, the optional extra ``forecast-rnn[parquet]``);
* ``-`` as an output writes CSV to standard output;
* outputs go through :func:`forecast.io.atomic.atomic_open`: the next system never reads a
  half-written forecast.
"""

from __future__ import annotations

import sys
from collections.abc import Hashable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forecast._exceptions import DataError, UsageError
from forecast.io.atomic import atomic_open

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["check_output", "read_table", "write_table"]

_PARQUET = (".parquet", ".pq")
_CSV = (".csv", ".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zst", ".csv.zip")


def _kind(path: str | Path, role: str) -> str:
    name = str(path).lower()
    if name.endswith(_PARQUET):
        return "parquet"
    if name.endswith(_CSV):
        return "csv"
    raise UsageError(
        f"Cannot tell the format of {role} '{path}' from its extension; use "
        f"{', '.join(_CSV[:2])} or {', '.join(_PARQUET)}."
    )


def _need_pyarrow(path: str | Path) -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise UsageError(
            f"Parquet file '{path}' needs pyarrow, which is not installed. Install it with "
            "`pip install 'forecast-rnn[parquet]'`, or use CSV."
        ) from None


def _dates(values: pd.Series | pd.Index, col: Hashable, path: str | Path) -> Any:
    # The command line's one rule for dates (ISO 8601, never a guessed format).
    from forecast.cli.dates import parse_dates

    return parse_dates(values, col, f"data file '{path}'", None)


def read_table(
    path: str | Path,
    *,
    time_col: str | None = None,
    time_index: Hashable | None = None,
    id_col: str | None = None,
) -> pd.DataFrame:
    """Read a CSV or Parquet file, parsing the dates in ``time_col``.

    ``time_index`` names a column to parse and make the index (a wide frame saved with its
    ``DatetimeIndex``), if the file has it. A CSV's ``id_col`` is read as text (``007``
    stays ``007``); Parquet keeps its types.

    Raises
    ------
    DataError
        Missing or unreadable file, no column ``time_col``, or one that holds no dates; the
        message names the file.
    UsageError
        Unknown extension, or Parquet without pyarrow.
    """
    import pandas as pd

    kind = _kind(path, "data file")
    if not Path(path).is_file():
        what = "a folder, not a file" if Path(path).is_dir() else "no such file"
        raise DataError(f"Cannot read data file '{path}': {what}.")
    try:
        if kind == "parquet":
            _need_pyarrow(path)
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, dtype=None if id_col is None else {id_col: str})
    except (OSError, ValueError, UnicodeDecodeError) as exc:  # ParserError is a ValueError
        raise DataError(f"Cannot read data file '{path}': {' '.join(str(exc).split())}") from None
    if time_col is not None:
        if time_col not in frame.columns:
            raise DataError(
                f"Data file '{path}' has no column {time_col!r} (the time column). Columns: "
                f"{list(frame.columns)}."
            )
        frame[time_col] = _dates(frame[time_col], time_col, path)
    elif time_index is not None and time_index in frame.columns:
        frame = frame.set_index(time_index)
        frame.index = _dates(frame.index, time_index, path)
    return frame


def check_output(path: str | Path) -> None:
    """Refuse an output whose extension names no format, or Parquet without pyarrow.

    For the commands to call before their work; :func:`write_table` checks again.
    """
    if str(path) != "-" and _kind(path, "output file") == "parquet":
        _need_pyarrow(path)


_COMPRESSION = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zst": "zstd", ".zip": "zip"}


def write_table(frame: pd.DataFrame, path: str | Path) -> None:
    """Write ``frame`` to ``path`` (CSV or Parquet), atomically; ``"-"`` is CSV on stdout.

    The index is written unless it is a plain ``RangeIndex`` (long forecasts have one).
    """
    import pandas as pd

    index = not (isinstance(frame.index, pd.RangeIndex) and frame.index.name is None)
    if str(path) == "-":
        frame.to_csv(sys.stdout, index=index)
        sys.stdout.flush()
        return
    kind = _kind(path, "output file")
    if not Path(path).parent.is_dir():
        raise UsageError(f"Cannot write '{path}': folder '{Path(path).parent}' does not exist.")
    if kind == "parquet":
        _need_pyarrow(path)
        with atomic_open(path, "wb") as f:
            frame.to_parquet(f, index=index)
        return
    compression: Any = _COMPRESSION.get(Path(path).suffix.lower())
    with atomic_open(path, "wb") as f:
        frame.to_csv(f, index=index, compression=compression, encoding="utf-8")
