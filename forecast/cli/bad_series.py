"""``forecast predict``'s per-series isolation flags, its JSON report and its exit code.

::

    forecast predict --model m.safetensors --data latest.parquet --out fc.csv \\
        --on-bad-series skip --max-staleness 2 --expect-ids ids.txt --report report.json

``--on-bad-series {fail,skip,fallback}``, ``--max-staleness N``, ``--expect-ids FILE`` (one
id a line) or ``--expect-fitted-ids`` (the ids seen at fit) and ``--fallback-season M`` are
``predict``'s arguments (:mod:`forecast.forecasters._bad_series` says what each does).

``--report PATH`` writes the report as JSON, atomically, once the output is written (also
when ``fail``, or ``skip`` with every series bad, stops the run; and when writing the output
fails, with that failure's exit status): ``n_series``, ``n_bad``, ``bad_fraction``,
``latest``, ``max_bad_fraction``, ``exit_status`` and, per bad series, its ``id``,
``reason``, ``detail`` and ``action``. A problem of the whole input (a missing column, an
unreadable file) is no series' fault: exit 2 with its message, and no report. A report that
cannot be written (a missing folder) is refused before any work (:func:`check_report`).

Exit status: 0 when the bad fraction (bad series, absent ones included, over the series of
the data plus the absent ones) is at most ``--max-bad-fraction``; else 2, **with the
forecasts of the good series written** (a job that checks only the exit status stops; one
that reads the report can still use them). The default limit is 0.0 for ``fail`` (any bad
series stops the run before anything is written, as without these flags) and 0.1 for
``skip`` and ``fallback``: a few series appearing or ending on a night is routine, a tenth of
them bad points to a broken upstream extract.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forecast._exceptions import BadSeriesError, UsageError
from forecast.cli.logs import exit_code

if TYPE_CHECKING:
    import pandas as pd

    from forecast.forecasters.base import BaseForecaster

__all__ = [
    "BACKTEST_OPTIONS",
    "OPTIONS",
    "Report",
    "add_backtest_flags",
    "add_flags",
    "backtest",
    "check_report",
    "predict",
]

logger = logging.getLogger("forecast")

#: The options, as read from flags or the command's table of a config file.
OPTIONS = (
    "on_bad_series",
    "report",
    "max_bad_fraction",
    "max_staleness",
    "expect_ids",
    "expect_fitted_ids",
    "fallback_season",
)
BACKTEST_OPTIONS = ("on_bad_series", "report", "max_bad_fraction")
_DEFAULT_FRACTION = {"fail": 0.0, "skip": 0.1, "fallback": 0.1}


def add_flags(parser: argparse.ArgumentParser) -> None:
    """The isolation flags of ``forecast predict``."""
    s = argparse.SUPPRESS
    parser.add_argument(
        "--on-bad-series", choices=("fail", "skip", "fallback"), default=s,
        help="series that cannot be forecast: stop (fail, default), leave out (skip), or "
        "forecast with a naive baseline, marked in a 'source' column (fallback)",
    )  # fmt: skip
    parser.add_argument("--report", metavar="PATH", default=s, help="JSON report of bad series")
    parser.add_argument(
        "--max-bad-fraction", type=float, metavar="F", default=s,
        help="exit 2 above this fraction of bad series (default 0 for fail, 0.1 otherwise)",
    )  # fmt: skip
    parser.add_argument(
        "--max-staleness", type=int, metavar="N", default=s,
        help="a series ending more than N periods before the latest timestamp is bad",
    )  # fmt: skip
    ids = parser.add_mutually_exclusive_group()
    ids.add_argument(
        "--expect-ids", metavar="FILE", default=s,
        help="file of expected series ids, one a line: absent ones are bad",
    )  # fmt: skip
    ids.add_argument(
        "--expect-fitted-ids", action="store_true", default=s,
        help="expect the series seen at fit: absent ones are bad",
    )  # fmt: skip
    parser.add_argument(
        "--fallback-season", type=int, metavar="M", default=s,
        help="season length of the fallback baseline (default: the model's season_length, "
        "the largest of its members'; 1: naive)",
    )  # fmt: skip


def _read_ids(path: str, fitted: list[Any]) -> list[Any]:
    """Ids from a text file, one a line, typed as the fitted ids are (ints stay ints)."""
    try:
        lines = Path(path).read_text().splitlines()
    except OSError as exc:
        raise UsageError(f"Cannot read --expect-ids '{path}': {exc.strerror or exc}.") from exc
    ids = [line.strip() for line in lines if line.strip()]
    if fitted and all(isinstance(i, int) for i in fitted):
        try:
            return [int(i) for i in ids]
        except ValueError as exc:
            raise UsageError(
                f"--expect-ids '{path}': the model's series ids are integers, but {exc}."
            ) from exc
    return ids


def _write_report(path: str | None, report: dict[str, Any]) -> None:
    if path is None:
        return
    from forecast.io.atomic import atomic_write_bytes

    atomic_write_bytes(path, (json.dumps(report, indent=2, default=str) + "\n").encode())


def check_report(path: Any) -> None:
    """Refuse a ``--report`` that cannot be written, before any work: found out after the
    forecasts were appended to a table, the run would fail and a retry append them twice."""
    if path is None:
        return
    from forecast.io.atomic import unwritable

    problem = unwritable(path)
    if problem is not None:
        raise UsageError(f"Cannot write --report '{path}': {problem}.")


class Report:
    """A run's bad-series report, to write with the run's exit status once its output is.

    Parameters
    ----------
    path : str or None
        ``--report`` (None: nothing is written).
    report : dict
        What the series check found.
    limit : float
        ``--max-bad-fraction``.
    status : int
        The exit status the check gives (0, or 2 above the limit).
    """

    def __init__(self, path: str | None, report: dict[str, Any], limit: float, status: int):
        self.path, self.report, self.limit, self.status = path, report, limit, status

    @contextlib.contextmanager
    def written(self) -> Iterator[None]:
        """Write the report after the block (the output), with ``status``; with the exit
        status of the block's error if it fails, so that no report says 0 for a failed run
        (an interrupted run writes nothing, as it writes no output)."""
        try:
            yield
        except Exception as exc:
            self._write(exit_code(exc))
            raise
        self._write(self.status)

    def _write(self, status: int) -> None:
        _write_report(self.path, {**self.report, "max_bad_fraction": self.limit,
                                  "exit_status": status})  # fmt: skip


def _mode_and_limit(options: dict[str, Any]) -> tuple[str, float]:
    """``on_bad_series`` and the ``--max-bad-fraction`` that applies to it (checked)."""
    mode = options.get("on_bad_series") or "fail"
    limit = options.get("max_bad_fraction")
    limit = _DEFAULT_FRACTION[mode] if limit is None else float(limit)
    if not 0.0 <= limit <= 1.0:
        raise UsageError(f"--max-bad-fraction must be in [0, 1]. Got {limit} instead.")
    return mode, limit


def _settle(report: dict[str, Any], limit: float, path: str | None, written: str) -> Report:
    """The exit status of a run with this ``report``, with the report to write to ``path``
    once the output is; an error logged above the limit (``written``: what is written all
    the same)."""
    fraction = float(report.get("bad_fraction", 0.0))
    status = 0 if fraction <= limit else 2
    if status:
        logger.error(
            "bad fraction %.3g is above --max-bad-fraction %.3g: exit status 2 (%s are written)",
            fraction,
            limit,
            written,
        )
    return Report(path, report, limit, status)


def predict(
    model: BaseForecaster,
    df: pd.DataFrame | None,
    options: dict[str, Any],
    horizon: int | None,
    future: Any = None,
) -> tuple[pd.DataFrame, Report]:
    """``model.predict(df)`` under the isolation ``options`` (None: not given), with the
    known-future covariates ``future``; the forecast frame and its :class:`Report` (the exit
    status). Raises :class:`~forecast.BadSeriesError` (exit 2) after writing the report when
    nothing may be written."""
    if all(options.get(name) in (None, False) for name in OPTIONS):
        frame = model.predict(df, horizon=horizon, future_covariates=future)
        return frame, Report(None, {}, 0.0, 0)
    from forecast.forecasters._bad_series import predict_isolated

    mode, limit = _mode_and_limit(options)
    expect = None
    if options.get("expect_ids"):
        expect = _read_ids(options["expect_ids"], model.series_ids_)
    elif options.get("expect_fitted_ids"):
        expect = list(model.series_ids_)
    report_path = options.get("report")
    try:
        frame = predict_isolated(
            model,
            df,
            mode,
            options.get("max_staleness"),
            expect,
            options.get("fallback_season"),
            future,
            horizon,
        )
    except BadSeriesError as exc:
        _write_report(report_path, {**exc.report, "max_bad_fraction": limit, "exit_status": 2})
        raise
    report = dict(frame.attrs.get("bad_series", {}))
    logger.info("%d of %d series bad (%s)", report.get("n_bad", 0), report.get("n_series", 0), mode)
    return frame, _settle(report, limit, report_path, "the good series' forecasts")


def add_backtest_flags(parser: argparse.ArgumentParser) -> None:
    """The isolation flags of ``forecast backtest`` (``fallback`` is predict's only)."""
    s = argparse.SUPPRESS
    parser.add_argument(
        "--on-bad-series", choices=("fail", "skip"), default=s,
        help="series with NaN, gaps or too short for the windows: stop (fail, default) or "
        "leave out of the backtest (skip)",
    )  # fmt: skip
    parser.add_argument("--report", metavar="PATH", default=s, help="JSON report of bad series")
    parser.add_argument(
        "--max-bad-fraction", type=float, metavar="F", default=s,
        help="exit 2 above this fraction of bad series (default 0 for fail, 0.1 for skip)",
    )  # fmt: skip


def backtest(run: Any, options: dict[str, Any]) -> tuple[Any, Report]:
    """``run(on_bad_series)`` (a backtest); the result and its :class:`Report`. Raises
    :class:`~forecast.BadSeriesError` (exit 2) after writing the report when every series
    is bad."""
    mode, limit = _mode_and_limit(options)
    try:
        result = run(mode)
    except BadSeriesError as exc:
        report = {"on_bad_series": mode, **exc.report, "max_bad_fraction": limit}
        _write_report(options.get("report"), {**report, "exit_status": 2})
        raise
    bad = list(result.bad_series)
    fitted = {sid for model in result.models for sid in model.series_ids_}
    n_series = len(fitted) + len(bad)
    report = {
        "on_bad_series": mode,
        "n_series": n_series,
        "n_bad": len(bad),
        "bad_fraction": len(bad) / n_series if n_series else 0.0,
        "bad": bad,
    }
    return result, _settle(report, limit, options.get("report"), "the metrics of the good series")
