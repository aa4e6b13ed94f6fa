"""Which series of a frame cannot be used, without giving up on the others.

The per-series checks that :mod:`forecast.forecasters._bad_series` (``predict``) and
:func:`forecast.evaluation.backtest.backtest` (``on_bad_series="skip"``) share: series
numbered in canonical order, NaN or infinity in the columns a model reads, and the series
whose rows a conversion refuses, found by bisection (converting the whole frame is the fast
path; halves are converted only when it fails: O(k log S) conversions for k bad series).

Reasons: ``"missing_values"``, ``"gap"`` (timestamps off the frequency), ``"invalid"``
(anything else the conversion refuses: the library's message is the detail), ``"short"``
(too few rows for what is asked).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from forecast._exceptions import DataError, DataTypeError, InvalidParameterError
from forecast.data.conventions import default_columns
from forecast.data.frequency import check_on_frequency, resolve_freq
from forecast.data.panel import _canonical_order, _select_columns, _split_layout

__all__ = [
    "classify_failure",
    "failing_series",
    "isolate_for_backtest",
    "missing_values",
    "series_codes",
    "used_columns",
]


def series_codes(raw_ids: np.ndarray | None, n_rows: int) -> tuple[np.ndarray, list[Any]]:
    """The series number of every row and the ids, numbered in canonical (sorted) order."""
    if raw_ids is None:
        return np.zeros(n_rows, dtype=np.int64), [None]
    factorized, uniques = pd.factorize(raw_ids)
    order = _canonical_order(uniques)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    ids = [u.item() if isinstance(u, np.generic) else u for u in np.asarray(uniques)[order]]
    return rank[factorized], ids


def missing_values(
    rest: pd.DataFrame,
    used: list[str],
    codes: np.ndarray,
    times: pd.DatetimeIndex,
    allow_nan: bool = False,
) -> dict[int, str]:
    """Series (by code) with NaN (unless ``allow_nan``: ``missing="mask"``) or infinity in a
    column of ``used``: code -> detail."""
    found: dict[int, str] = {}
    for name in used:
        if name not in rest:
            continue  # a missing column is the whole frame's problem, raised elsewhere
        column = pd.to_numeric(rest[name], errors="coerce").to_numpy(dtype=np.float64)
        rows = np.flatnonzero(np.isinf(column) if allow_nan else ~np.isfinite(column))
        series, first = np.unique(codes[rows], return_index=True)  # first bad row of each
        for code, row in zip(series.tolist(), rows[first].tolist(), strict=True):
            found.setdefault(code, f"{column[row]} in column {name!r} at {times[row]}")
    return found


def classify_failure(
    convert: Callable[[pd.DataFrame], Any],
    part: pd.DataFrame,
    times: pd.DatetimeIndex,
    sid: Any,
    freq: Any,
) -> tuple[str, str]:
    """Why one series' rows ``part`` do not convert: ``("gap", ...)`` or ``("invalid", ...)``."""
    try:
        convert(part)
    except DataError as exc:
        times = times.sort_values()
        if freq is not None and not times.has_duplicates:  # duplicates: the library's words
            try:
                check_on_frequency(times, np.array([0, len(times)]), [sid], freq)
            except DataError as gap:
                return "gap", " ".join(str(gap).split())
        return "invalid", " ".join(str(exc).split())
    raise AssertionError("bisected to a series that converts")  # pragma: no cover


def failing_series(
    convert: Callable[[pd.DataFrame], Any],
    df: pd.DataFrame,
    codes: np.ndarray,
    candidates: np.ndarray,
) -> list[int]:
    """The series among ``candidates`` (codes) whose rows ``convert`` refuses, by bisection."""
    if not candidates.size:
        return []
    try:
        convert(df.iloc[np.flatnonzero(np.isin(codes, candidates))])
        return []
    except DataError:
        if candidates.size == 1:
            return [int(candidates[0])]
    half = candidates.size // 2
    return failing_series(convert, df, codes, candidates[:half]) + failing_series(
        convert, df, codes, candidates[half:]
    )


def isolate_for_backtest(
    estimator: Any, df: pd.DataFrame, needed_rows: int
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """The rows of the series of ``df`` a backtest can use, and one entry per series left out.

    Left out: NaN (unless ``missing="mask"`` serves it) or infinity in a column the
    estimator reads (targets, past and known-future covariates, as ``predict`` checks;
    :func:`used_columns`), rows the estimator's conversion refuses (a gap, a duplicate
    timestamp), fewer than ``needed_rows`` rows in the panel the folds are cut from (with
    ``missing="mask"``, its timestamps from first to last, absent ones included). A problem
    of the whole frame (a missing column) is raised by the conversion of the good rows, as
    it is.
    """
    id_col, time_col, target = default_columns(
        df, estimator.id_col, estimator.time_col, estimator.target
    )
    rest, _, times, raw_ids = _split_layout(df, id_col, time_col)
    codes, ids = series_codes(raw_ids, len(rest))
    masked = estimator.get_params().get("missing") == "mask"
    bad: dict[int, tuple[str, str]] = {
        code: ("missing_values", detail)
        for code, detail in missing_values(
            rest, used_columns(estimator, rest, target), codes, times, masked
        ).items()
    }
    convert = estimator._to_panel
    clean = np.setdiff1d(np.arange(len(ids)), list(bad))
    freq = None if estimator.freq is None else resolve_freq(estimator.freq)
    for code in failing_series(convert, df, codes, clean):
        rows = np.flatnonzero(codes == code)
        bad[code] = classify_failure(convert, df.iloc[rows], times[rows], ids[code], freq)
    lengths = np.bincount(codes, minlength=len(ids))
    what = "row(s)"
    good = np.setdiff1d(np.arange(len(ids)), list(bad))
    if masked and good.size:
        # The folds count the panel's rows, where absent timestamps are inserted as missing:
        # the user's rows would call a series with gaps shorter than the folds find it.
        panel, _ = convert(df.iloc[np.flatnonzero(np.isin(codes, good))])
        lengths[good] = panel.lengths  # the same canonical order as the codes
        what = "timestamp(s), missing ones included"
    for code in np.flatnonzero(lengths < needed_rows).tolist():
        bad.setdefault(code, ("short", f"{lengths[code]} {what}; the windows need {needed_rows}"))
    entries = [
        {"id": ids[code], "reason": reason, "detail": detail, "action": "skipped"}
        for code, (reason, detail) in sorted(bad.items())
    ]
    keep = np.flatnonzero(~np.isin(codes, list(bad)))
    return df.iloc[keep], entries


def used_columns(estimator: Any, rest: pd.DataFrame, target: Any) -> list[Any]:
    """The columns of ``rest`` (a frame without ids and timestamps) that ``estimator``
    (unfitted) would read as targets, past or known-future covariates.

    A column it does not read may hold anything: a NaN there is no reason to leave a
    series out. Where the roles cannot be decided (a frame ``fit`` would refuse as a
    whole), every numeric column, and the conversion says what is wrong.
    """
    future, static = estimator._covariates()
    try:
        roles = _select_columns(rest, target, None, future, static, estimator.past_covariates)
    except (DataError, DataTypeError, InvalidParameterError):
        return [c for c in rest.columns if pd.api.types.is_numeric_dtype(rest[c])]
    return [*roles.targets, *roles.past, *roles.future]
