"""Atomic file writes: the file at ``path`` is the old one or the complete new one, never half.

Used for model files (:mod:`forecast.io.persistence`) and for the command line's outputs, so a
job that crashes, is killed or fills the disk never leaves a truncated forecast or model
where the next system (or the next night's job) would read it.

The recipe: write to a temporary file *in the same folder* (so the rename stays within one
file system), flush and ``fsync`` it, ``os.replace`` it over ``path`` (atomic on POSIX and
Windows), then ``fsync`` the folder so the rename itself survives a power cut. On an
exception the temporary file is removed; a process killed outright (``SIGKILL``) may leave a
hidden ``.NAME.XXXXXXXX.tmp`` beside ``path``, but never touches ``path``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_open", "atomic_write_bytes"]


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open folders; the rename is still atomic there
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _create_temp(path: Path) -> tuple[int, Path]:
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            # 0o666 minus the umask: the file gets the permissions a plain open() would give.
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"Could not create a temporary file beside {path}")


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "wb", **kwargs: Any) -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success it replaces ``path`` atomically.

    Parameters
    ----------
    path : str or path-like
        The final file. Its folder must exist.
    mode : {"wb", "w"}
        Binary or text; ``kwargs`` (``encoding``, ``newline``) go to :func:`os.fdopen`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_open(target, "w", encoding="utf-8") as f:
    ...     _ = f.write("done")
    >>> target.read_text()
    'done'
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_open writes only ('wb' or 'w'); got mode={mode!r}")
    path = Path(path)
    fd, tmp = _create_temp(path)
    try:
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_open`)."""
    with atomic_open(path, "wb") as f:
        f.write(data)
