"""Atomic file writes: the file at ``path`` is the old one or the complete new one, never half.

Used for model files (:mod:`forecast.io.persistence`) and for the command line's outputs, so a
job that crashes, is killed or fills the disk never leaves a truncated forecast or model
where the next system (or the next night's job) would read it.

The recipe: write to a temporary file *in the same folder* (so the rename stays within one
file system), flush and ``fsync`` it, ``os.replace`` it over ``path`` (atomic on POSIX and
Windows), then ``fsync`` the folder so the rename itself survives a power cut. On an
exception the temporary file is removed; a process killed outright (``SIGKILL``) may leave a
hidden ``.NAME.XXXXXXXX.tmp`` beside ``path``, but never touches ``path``.

A ``path`` that is a symbolic link is written *through*: the link's final target is
replaced, atomically, by a temporary file in the target's folder, and the link stays a
link (a deployment that points ``latest.csv`` at a dated file keeps working). An existing
file keeps its permission bits (a ``0600`` forecast stays private); a new one gets those a
plain ``open()`` would give. :func:`unwritable` tells, before any work, whether ``path``
can be written at all.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_open", "atomic_write_bytes", "unwritable"]


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


def _target(path: str | os.PathLike[str]) -> Path:
    """The file a write to ``path`` must replace: the final target of a symbolic link."""
    return Path(os.path.realpath(path)) if os.path.islink(path) else Path(path)


def _create_temp(path: Path, shown: str | os.PathLike[str], created: list[Path]) -> int:
    """A new temporary file beside ``path``, with ``path``'s permission bits if it exists;
    its descriptor. Its name is appended to ``created`` *before* the file can exist.

    Why the list: SIGTERM (as :class:`~forecast.Terminated`) and Ctrl-C raise between any two
    bytecodes, also right after ``os.open`` made the file and before the caller's ``try``
    knows its name. The caller removes what ``created`` names on any exception, so a signal
    at any point leaves no temporary file (a name whose file was never made: nothing to
    remove; a descriptor opened just before such a signal stays open until the process
    ends). An ``OSError`` names ``shown`` (the user's path), not the hidden file.
    """
    try:
        mode: int | None = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mode = None
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        created.append(tmp)
        try:
            # 0o666 minus the umask: the file gets the permissions a plain open() would give.
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            # Another writer's file, not ours to remove (a signal before this pop would
            # remove it: two writers drawing the same 32-bit name, and a signal just then).
            created.pop()
            continue
        except OSError as exc:
            created.pop()
            raise type(exc)(exc.errno, f"Cannot write '{shown}': {exc.strerror}") from None
        if mode is not None:
            try:
                os.fchmod(fd, mode)
            except BaseException:
                os.close(fd)
                raise
        return fd
    raise FileExistsError(f"Could not create a temporary file beside {shown}")


def _remove(created: list[Path]) -> None:
    for tmp in created:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def unwritable(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` cannot be written by :func:`atomic_open`, or None if it can.

    Found by doing what the write will do first: create (and remove) a temporary file in
    the folder of ``path``'s target. Permission bits, read-only file systems, ``/sys``,
    quotas and the user's identity all answer as they will for the write itself, where
    ``os.access`` guesses.
    """
    target = _target(path)
    if target.is_dir():
        return "it is a folder"
    if not target.parent.is_dir():
        return f"folder '{target.parent}' does not exist"
    created: list[Path] = []
    try:
        os.close(_create_temp(target, path, created))
    except OSError as exc:
        return os.strerror(exc.errno) if exc.errno else str(exc)
    finally:
        with contextlib.suppress(OSError):
            _remove(created)
    return None


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "wb", **kwargs: Any) -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success it replaces ``path`` atomically.

    Parameters
    ----------
    path : str or path-like
        The final file, or a symbolic link to it (written through). Its folder must exist.
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
    target = _target(path)
    created: list[Path] = []
    try:
        fd = _create_temp(target, path, created)
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(created[-1], target)
    except BaseException:
        _remove(created)
        raise
    _fsync_dir(target.parent)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_open`)."""
    with atomic_open(path, "wb") as f:
        f.write(data)
