"""The command line's logs: text with timestamps, or JSON lines; to stderr or a file.

* ``--log-format text`` (default): ``2026-12-03T17:45:00.123Z forecast: INFO: message``, one
  line per record; a message of several lines (the backtest summary) is one record, its
  lines after the first indented by two spaces, so that ``grep`` and log shippers that split
  on newlines keep it whole by its indent.
* ``--log-format json``: one JSON object per line, ``{"time": ..., "level": ...,
  "message": ..., ...}`` with the record's fields (``n_series``, ``n_rows``, ``seconds``,
  ``path``...: whatever the command passed as ``extra={"fields": {...}}``). A message of
  several lines stays one string with ``\\n`` in it. The final error of a failed run is a
  record too (``level: "ERROR"``, ``error``: the exception's type, ``exit_code``).
* ``--log-file PATH``: records are appended to ``PATH`` (created if missing) instead of
  stderr; stderr then carries nothing but the error line of a failed run, which is appended
  to the file too. A file that cannot be opened (a missing folder) is refused before any
  work, exit 2.

Times are UTC, ISO 8601 with milliseconds and a ``Z``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from typing import Any, TextIO

from forecast._exceptions import ForecastError, UsageError

__all__ = ["JsonFormatter", "TextFormatter", "error_record", "exit_code", "make_handler"]

FORMATS = ("text", "json")
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def _time(created: float) -> str:
    moment = dt.datetime.fromtimestamp(created, dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class TextFormatter(logging.Formatter):
    """``<UTC time> forecast: LEVEL: message``; continuation lines indented."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage().replace("\n", "\n  ")
        return f"{_time(record.created)} forecast: {record.levelname}: {message}"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, message, and the record's ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": _time(record.created),
            "level": record.levelname,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            data.update({k: v for k, v in fields.items() if k not in data})
        return json.dumps(data, default=str, ensure_ascii=False)


def make_handler(log_format: str, stream: TextIO, log_file: str | None) -> logging.Handler:
    """A handler writing ``log_format`` records to ``log_file`` (appended), else ``stream``.

    Raises
    ------
    UsageError
        ``log_file`` cannot be opened for appending (a missing folder, no permission).
    """
    handler: logging.Handler
    if log_file is not None:
        # Opened now, not at the first record (delay=True): a log file that cannot be
        # opened (a missing folder) is refused before any work, not after the forecasts
        # are appended to a table, where a cron retry would append them twice.
        try:
            handler = logging.FileHandler(log_file, mode="a", encoding="utf-8")
        except OSError as exc:
            raise UsageError(
                f"Cannot append to --log-file '{log_file}': {exc.strerror or exc}."
            ) from None
    else:
        handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    return handler


def exit_code(exc: Exception) -> int:
    """The exit status of a run that fails with ``exc``: 2 for bad usage or input (our
    errors, and a ValueError raised in forecast), 1 for anything else."""
    bad_input = isinstance(exc, ForecastError) or (
        isinstance(exc, ValueError) and _from_our_code(exc)
    )
    return 2 if bad_input else 1


def _from_our_code(exc: BaseException) -> bool:
    """Whether the innermost frame of ``exc`` is in forecast (a plain ValueError of ours)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep  # forecast/
    return tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename).startswith(package)


def error_record(exc: BaseException, message: str, exit_code: int) -> str:
    """The JSON line of a failed run's error (``--log-format json``)."""
    data = {
        "time": _time(dt.datetime.now(dt.timezone.utc).timestamp()),
        "level": "ERROR",
        "message": message,
        "error": type(exc).__name__,
        "exit_code": exit_code,
    }
    return json.dumps(data, default=str, ensure_ascii=False)
