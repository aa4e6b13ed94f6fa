"""A folder of Parquet parts partitioned by series: what each part holds, and which rank reads it.

``forecast.parts("dir/")`` is the source of a fit in which no process holds the whole panel
(``forecast/forecasters/_partitioned.py``). Two passes, neither of which loads the data:

* :meth:`Parts.scan`, in the process that calls ``fit``: the files (plain ``*.parquet``
  files, or hive-style folders ``key=value/part-0.parquet``), and of each the series it
  holds and their row counts, read from its id column alone, one file at a time (memory: one
  file's id column, plus one entry per series). A series in two files is an error naming
  the series and both files: a rank reads whole series or its scaling would differ from a
  single process's.
* :func:`assign`, in each rank: files to ranks, largest first to the rank with the fewest
  rows so far (the classic greedy balance; ties by file order), so every rank derives the
  same assignment from the scan with no communication.

:func:`read_parts` then reads a rank's files, and only those (``pyarrow.parquet``). A hive
folder named after the id column (``unique_id=A/``) supplies the id of a file that lacks
the column; other hive keys are not columns of the data (they would otherwise become
covariates).

Written here rather than read through ``pyarrow.dataset``: the dataset API reads any subset
of files, but has no notion of a series living in one file, of its row counts per file, or
of a split of files over processes; those ~100 lines are what this module is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecast._exceptions import DataError, UsageError
from forecast._validation import series_name

__all__ = ["Parts", "RankRead", "assign", "parts", "read_parts", "read_sample"]

_SUFFIXES = (".parquet", ".pq")


def _pyarrow() -> Any:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise UsageError(
            "Parquet parts need pyarrow, which is not installed. Install it with "
            "`pip install 'forecast-rnn[parquet]'`."
        ) from None
    return pq


@dataclass
class RankRead:
    """What one rank of a partitioned fit read: its files, rows and series, and its memory.

    ``base_rss`` is the process's resident memory (bytes) before it read its parts,
    ``peak_rss`` its peak resident memory once they are converted (Linux's ``VmRSS`` and
    ``VmHWM``); ``values_bytes`` the size of its panel's values.
    """

    rank: int
    files: list[str]
    rows: int
    ids: list[Any]
    values_bytes: int
    base_rss: int
    peak_rss: int


@dataclass
class Parts:
    """A folder of Parquet parts, each holding whole series; made by :func:`parts`.

    Attributes
    ----------
    path : pathlib.Path
    files : list of str
        The parts, in sorted path order.
    ids : list
        Every series id, in the order of first appearance over ``files``.
    part_of : numpy.ndarray of shape (S,), int64
        The file (position in ``files``) holding each series of ``ids``.
    lengths : numpy.ndarray of shape (S,), int64
        Rows of each series.
    reads : list of RankRead
        After a fit from these parts: what each rank read (for checks and logs).
    """

    path: Path
    id_col: str | None = None
    files: list[str] = field(default_factory=list)
    ids: list[Any] = field(default_factory=list)
    part_of: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    lengths: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    reads: list[RankRead] = field(default_factory=list)

    @property
    def file_rows(self) -> np.ndarray:
        """Rows of each file, shape ``(P,)``."""
        return np.bincount(self.part_of, weights=self.lengths, minlength=len(self.files)).astype(
            np.int64
        )

    def signature(self) -> list[tuple[str, int, int]]:
        """Each file's path (relative to ``path``), size and modification time (ns), without
        reading it: what identifies the data of a checkpointed run (``--checkpoint-dir``)."""
        found = []
        for file in _files(self.path):
            stat = os.stat(file)
            found.append((os.path.relpath(file, self.path), stat.st_size, stat.st_mtime_ns))
        return found

    def scan(self, id_col: str) -> Parts:
        """Read the id column of every file: the series of each and their lengths.

        Raises
        ------
        DataError
            No Parquet file under ``path``; a file without ``id_col``; a series in two files.
        """
        pq = _pyarrow()
        files = _files(self.path)
        where: dict[Any, int] = {}
        ids: list[Any] = []
        lengths: list[int] = []
        for number, file in enumerate(files):
            for key, count in _id_counts(pq, file, self.path, id_col).items():
                seen = where.setdefault(key, number)
                if seen != number:
                    raise DataError(
                        f"The {series_name(key)} is in two parts, {files[seen]!r} and "
                        f"{file!r}: each series must live in exactly one part, so that the "
                        "rank reading it sees all its rows. Write the parts partitioned by "
                        f"{id_col!r} (e.g. pyarrow.parquet.write_to_dataset(..., "
                        f"partition_cols=[{id_col!r}]) or Spark's "
                        f"df.repartition({id_col!r}).write.parquet(...))."
                    )
                ids.append(key)
                lengths.append(count)
        self.id_col = id_col
        self.files = files
        self.ids = ids
        self.part_of = np.asarray([where[k] for k in ids], dtype=np.int64)
        self.lengths = np.asarray(lengths, dtype=np.int64)
        return self


def parts(path: str | os.PathLike[str]) -> Parts:
    """A folder of Parquet parts, each holding whole series, for a partitioned ``fit``.

    ``model.fit(forecast.parts("dir/"))`` trains one model in which each process (rank) of
    Lightning's DDP reads only its own parts; see ``docs/scaling.md``.

    Parameters
    ----------
    path : str or os.PathLike
        A folder of ``*.parquet`` files, at any depth (hive-style folders allowed).

    Returns
    -------
    Parts
        Scanned by ``fit``, not here.

    Examples
    --------
    >>> import forecast
    >>> forecast.parts("sales/").path.name
    'sales'
    """
    return Parts(Path(path))


def _files(folder: Path) -> list[str]:
    if not folder.is_dir():
        raise DataError(f"{str(folder)!r} is not a folder of Parquet parts.")
    found = sorted(
        str(p)
        for p in folder.rglob("*")
        if p.is_file()
        and p.suffix in _SUFFIXES
        and not any(q.startswith((".", "_")) for q in p.relative_to(folder).parts)
    )
    if not found:
        raise DataError(
            f"No Parquet file (*.parquet, *.pq) under {str(folder)!r}: nothing to fit on."
        )
    return found


def _hive_id(file: str, base: Path, id_col: str) -> str | None:
    """The id a hive folder ``id_col=value`` gives ``file``, if any."""
    for folder in Path(file).relative_to(base).parts[:-1]:
        key, sep, value = folder.partition("=")
        if sep and key == id_col:
            return value
    return None


def _id_counts(pq: Any, file: str, base: Path, id_col: str) -> dict[Any, int]:
    """Series id -> rows, of one file, from its id column (or its hive folder) alone."""
    schema = pq.read_schema(file)
    if id_col not in schema.names:
        hive = _hive_id(file, base, id_col)
        if hive is None:
            raise DataError(
                f"The part {file!r} has no column {id_col!r} (its columns: {schema.names}), "
                f"and no folder {id_col}=... names its series."
            )
        return {hive: int(pq.ParquetFile(file).metadata.num_rows)}
    column = pq.read_table(file, columns=[id_col]).column(0).to_pandas()
    counts = column.value_counts(sort=False, dropna=False)
    if counts.index.hasnans:
        raise DataError(
            f"Column {id_col!r} is missing in some rows of the part {file!r}: every row "
            "needs a series id."
        )
    return {(k.item() if isinstance(k, np.generic) else k): int(v) for k, v in counts.items()}


def assign(file_rows: np.ndarray, world_size: int) -> np.ndarray:
    """The rank that reads each file: largest first, to the rank with the fewest rows so far.

    Deterministic (ties go to the lower rank and the earlier file), so every rank computes
    the same assignment. A rank may get no file when there are fewer files than ranks.

    Examples
    --------
    >>> assign(np.array([10, 40, 30, 20]), 2).tolist()
    [0, 0, 1, 1]
    """
    owner = np.zeros(len(file_rows), dtype=np.int64)
    load = np.zeros(world_size, dtype=np.int64)
    for f in np.argsort(-np.asarray(file_rows), kind="stable"):
        rank = int(np.argmin(load))
        owner[f] = rank
        load[rank] += int(file_rows[f])
    return owner


def read_sample(source: Parts, rows: int, id_col: str | None) -> tuple[pd.DataFrame, str]:
    """The first ``rows`` rows of the first part (its columns, for the network's sizes), with
    the id of a hive folder named ``id_col`` filled in; and that part's path."""
    pq = _pyarrow()
    first = _files(source.path)[0]
    frame = next(pq.ParquetFile(first).iter_batches(batch_size=rows)).to_pandas()
    hive = (
        None if id_col is None or id_col in frame.columns else _hive_id(first, source.path, id_col)
    )
    if hive is not None:
        frame.insert(0, id_col, hive)
    return frame, first


def read_parts(source: Parts, files: list[str]) -> pd.DataFrame:
    """The rows of ``files`` (of ``source``) as one pandas frame; the id from a hive folder
    where a file lacks the id column.

    The files are joined as Arrow tables (no copy) and converted to pandas once, releasing
    the Arrow buffers as they are converted: the peak is about one copy of the rows, not
    the two a ``pandas.concat`` of per-file frames makes.
    """
    import pyarrow as pa

    pq = _pyarrow()
    tables = []
    for file in files:
        table = pq.read_table(file)
        if source.id_col is not None and source.id_col not in table.column_names:
            value = _hive_id(file, source.path, source.id_col)
            table = table.add_column(0, source.id_col, pa.array([value] * table.num_rows))
        tables.append(table)
    joined = pa.concat_tables(tables, promote_options="default")
    del tables
    frame: pd.DataFrame = joined.to_pandas(self_destruct=True, split_blocks=True)
    return frame
