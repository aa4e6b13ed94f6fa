"""The model file on disk: a safetensors file whose metadata carries our JSON document.

Reads and writes the bytes, checks them and says precisely what is wrong with a file that
cannot be read; knows nothing of estimators (that is :mod:`forecast.io.persistence`, whose
docstring describes the layout and why). Parsing the header is done here, by hand, before
safetensors sees the file, so that a pickle, a zip, a truncated copy or a file from a newer
version is named as such in a one-line :class:`~forecast.ModelFileError`. Needs neither
torch nor pandas: ``forecast info`` reads files through this module alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from forecast._exceptions import ModelFileError
from forecast.io.atomic import atomic_write_bytes

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "fail",
    "file_checksum",
    "from_bytes",
    "read",
    "to_bytes",
    "write",
]

FORMAT = "forecast.model"
# Bump when a reader of the previous version could not read the new files correctly. 2: the
# covariate names of every forecaster in its "fitted" table (a version-1 reader would take a
# recurrent model's from its "model" table, find none, and misread it); version-1 files are
# upgraded on reading (forecast.io.document.upgrade).
FORMAT_VERSION = 2

_MAX_HEADER = 100 * 2**20  # safetensors' own limit on the JSON header
# Deepest nesting of JSON read from a file: ours is under 10 (an ensemble's base estimator's
# trainer_kwargs). A crafted file could nest deeper than Python's recursion limit.
_MAX_DEPTH = 64


def fail(path: Any, problem: str) -> ModelFileError:
    """The one-line error for a model file that cannot be loaded."""
    return ModelFileError(f"Cannot load model file '{path}': {problem}")


def file_checksum(path: str | os.PathLike[str]) -> str:
    """``sha256:<hex>`` of a file's bytes (``sha256sum`` prints the same hex).

    Not the ``checksum`` inside the file (over its tensors and metadata, to detect damage):
    this one identifies the file as a whole, as a user or a registry would.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


def _checksum(arrays: dict[str, np.ndarray], metadata: dict[str, str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(arrays):
        a = arrays[name]
        digest.update(json.dumps([name, a.dtype.str, list(a.shape)]).encode())
        digest.update(np.ascontiguousarray(a).tobytes())
    digest.update(json.dumps({k: metadata[k] for k in sorted(metadata)}).encode())
    return "sha256:" + digest.hexdigest()


def write(path: str | os.PathLike[str], document: dict[str, Any], arrays: dict[str, Any]) -> None:
    """Write ``document`` (JSON-ready) and ``arrays`` to ``path`` atomically, with a checksum."""
    atomic_write_bytes(path, to_bytes(document, arrays))


def to_bytes(document: dict[str, Any], arrays: dict[str, Any]) -> bytes:
    """The bytes of the model file of ``document`` and ``arrays`` (what :func:`write` writes).

    An engine (:mod:`forecast.engines`) ships a model to its workers as these bytes.
    """
    from safetensors.numpy import save

    metadata = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "forecast": json.dumps(document, sort_keys=True, allow_nan=False),
    }
    metadata["checksum"] = _checksum(arrays, metadata)
    return _canonical(save(arrays, metadata=metadata))


def _canonical(raw: bytes) -> bytes:
    """``raw`` with its safetensors header's keys sorted: the same model, the same bytes.

    safetensors keeps ``__metadata__`` in a Rust ``HashMap``, whose iteration order (and so
    the order of the keys it writes) is seeded per process: two identical fits gave files
    that differed in the header alone. The header is JSON; it is written again here with
    sorted keys, compact as safetensors writes it, padded with spaces to a multiple of 8
    bytes as the format asks (the tensors' offsets count from the end of the header, so
    they stay valid). No library call sorts it for us (``safetensors.numpy.save`` takes no
    such option).
    """
    size = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + size])
    text = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    encoded = text.encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)
    return len(encoded).to_bytes(8, "little") + encoded + raw[8 + size :]


def _too_deep(value: Any, limit: int) -> bool:
    """Whether lists and dicts in ``value`` nest more than ``limit`` deep (no recursion)."""
    stack = [(value, 1)] if type(value) in (dict, list) else []  # JSON's own types only
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if type(item) is dict else item
        stack.extend([(c, depth + 1) for c in children if type(c) in (dict, list)])
    return False


def _parse(text: bytes | str, path: Any, what: str) -> Any:
    """JSON ``text`` of a model file, parsed; ``fail`` if it is not JSON or nested too deep.

    Python's JSON parser raises ``RecursionError`` past about a thousand levels; anything
    deeper than :data:`_MAX_DEPTH` is refused too, so that no code recurses into a crafted
    file later.
    """
    try:
        value = json.loads(text)
    except RecursionError:
        value = None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise fail(path, f"it is damaged ({what} is not valid JSON: {exc})") from None
    if value is None or _too_deep(value, _MAX_DEPTH):
        raise fail(path, f"it is damaged ({what} is nested more than {_MAX_DEPTH} levels deep)")
    return value


def _header(raw: bytes, path: Any) -> tuple[dict[str, Any], int]:
    """Parse the safetensors header by hand: nothing in the file runs, whatever it holds.

    What the file is instead (a pickle, a zip) is said only when it has no safetensors
    header: a header of 640, 896, 1152 or 1408 bytes starts the file with the same two
    bytes as a pickle's protocol mark (``\\x80`` and 2 to 5).
    """
    size = int.from_bytes(raw[:8], "little")
    if len(raw) < 9 or raw[8:9] != b"{" or size > _MAX_HEADER:
        if raw[:1] == b"\x80" and raw[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
            raise fail(
                path,
                "it is a Python pickle, not a forecast model; forecast never loads "
                "pickles (unpickling can run any code)",
            )
        if raw[:4] == b"PK\x03\x04":
            raise fail(path, "it is a zip archive (e.g. from torch.save), not a forecast model")
        if len(raw) < 8:
            raise fail(path, f"it is too short to be a model file ({len(raw)} bytes)")
        raise fail(path, "it is not a safetensors file (no safetensors header)")
    if 8 + size > len(raw):
        raise fail(path, f"it is truncated ({len(raw)} bytes; the header alone needs {8 + size})")
    header = _parse(raw[8 : 8 + size], path, "its header")
    if not isinstance(header, dict):
        raise fail(path, "it is not a safetensors file (its header is not a JSON object)")
    return header, 8 + size


def read(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read and verify a model file without building the estimator (no torch needed).

    Returns
    -------
    document : dict
        The JSON document (see :mod:`forecast.io.persistence`).
    arrays : dict of str to numpy.ndarray

    Raises
    ------
    ModelFileError
        One line naming the file and the problem: missing, not safetensors, not a forecast
        model, from a newer format version, truncated, or damaged (checksum mismatch).

    Examples
    --------
    >>> read("missing.safetensors")
    Traceback (most recent call last):
    ...
    forecast._exceptions.ModelFileError: Cannot load model file 'missing.safetensors': no such file
    """
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise fail(path, "no such file") from None
    except IsADirectoryError:
        raise fail(path, "it is a folder, not a file") from None
    except OSError as exc:
        raise fail(path, exc.strerror or str(exc)) from None
    return from_bytes(raw, path)


def from_bytes(raw: bytes, path: Any = "<bytes>") -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """:func:`read` of a model file's bytes, ``raw``; messages name it ``path``."""
    from safetensors.numpy import load as load_arrays

    header, data_start = _header(raw, path)
    meta = header.get("__metadata__")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise fail(
            path,
            f"it is a safetensors file, but not a forecast model (no format "
            f"{FORMAT!r} in its metadata)",
        )
    text = meta.get("format_version")
    if not isinstance(text, str) or not re.fullmatch(r"[1-9][0-9]{0,8}", text):
        raise fail(
            path, f"it is damaged (its format_version {text!r} is not a version: an int >= 1)"
        )
    version = int(text)
    if version > FORMAT_VERSION:
        from forecast._version import __version__

        raise fail(
            path,
            f"it was written by a newer forecast (format version {version}; "
            f"forecast {__version__} reads versions up to {FORMAT_VERSION}). Upgrade "
            "forecast to load it",
        )
    try:
        ends = [int(t["data_offsets"][1]) for k, t in header.items() if k != "__metadata__"]
    except (TypeError, KeyError, IndexError, ValueError, OverflowError):  # JSON's Infinity
        raise fail(path, "it is damaged (its tensor table is not readable)") from None
    expected = data_start + max(ends, default=0)
    if len(raw) < expected:
        raise fail(
            path,
            f"it is truncated ({len(raw)} bytes of {expected}); the copy or the save was cut short",
        )
    try:
        arrays = load_arrays(raw)
    except Exception as exc:  # safetensors' own errors have no common base class
        raise fail(path, f"it is damaged ({type(exc).__name__}: {exc})") from None
    expected_sum = meta.get("checksum")
    rest = {k: v for k, v in meta.items() if k != "checksum"}
    if expected_sum != _checksum(arrays, rest):
        raise fail(
            path,
            "checksum mismatch: the file is damaged (a bad copy or a disk "
            "error). Restore it from a good copy or refit",
        )
    if not isinstance(meta.get("forecast"), str):
        raise fail(path, "it is damaged (no readable description)")
    document = _parse(meta["forecast"], path, "its description")
    if not isinstance(document, dict):
        raise fail(path, "it is damaged (its description is not a JSON object)")
    stated = document.get("format_version")
    if type(stated) is not int or stated != version:
        raise fail(
            path,
            f"it is inconsistent (format version {version} in its metadata, "
            f"{document.get('format_version')!r} in its description)",
        )
    return document, arrays
