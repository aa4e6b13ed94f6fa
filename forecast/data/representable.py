"""Values a panel's dtype cannot hold (NaN, infinity, out of range, subnormal), and why;
series whose steps a narrower dtype rounds away."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from forecast._warnings import warn_once
from forecast.data.gaps import nan_fix

__all__ = ["unfit_for", "warn_if_rounded", "what_is_wrong"]

# A series whose mean rounding error is at least this share of its mean one-step change
# reads as a staircase (or a constant) in the narrow copy.
ROUNDED_SHARE = 0.1
_CHUNK_ROWS = 1 << 18


def unfit_for(column: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Where ``column`` holds NaN, infinity, or a value ``dtype`` cannot hold.

    Beyond its range, or non-zero below its smallest normal number (1.2e-38 in float32): such
    values lose their digits (subnormal) or become 0, and a series of them would be forecast
    as noise or as flat zeros. Comparisons only: N booleans each, no N-long float temporary.
    """
    limit, tiny = float(np.finfo(dtype).max), float(np.finfo(dtype).tiny)
    bad = ~np.isfinite(column) | (column > limit) | (column < -limit)
    bad |= (column != 0) & (column < tiny) & (column > -tiny)
    return bad


def what_is_wrong(value: float, dtype: np.dtype, layout: Any = None, col: str = "y") -> tuple:
    """``(what, fix)`` for a value :func:`unfit_for` flagged, for an error message."""
    if np.isnan(value):
        return "NaN", nan_fix(layout, col)
    if np.isinf(value):
        return "an infinite value", "Fill or drop them before fitting."
    if abs(value) > float(np.finfo(dtype).max):
        return (
            f"a value beyond {dtype.name} range",
            f"({value:.3g}) Divide the column by a constant (and multiply the forecasts back).",
        )
    return (
        f"a value too close to 0 for {dtype.name}",
        f"({value:.3g}, below {float(np.finfo(dtype).tiny):.3g}) Multiply the column by a "
        "constant (and divide the forecasts back).",
    )


def warn_if_rounded(
    wide: np.ndarray,
    narrow: np.ndarray,
    offsets: np.ndarray,
    label: Callable[[int], str],
    names: str | list[str],
) -> None:
    """Warn when ``narrow`` (``wide`` cast to float32) rounds a series' steps away.

    float32 holds about 7 significant digits: a series near 1e8 that moves by 0.01 is a
    constant to it, and a network reading it forecasts a rounded copy without a word. Per
    series (``offsets``: where each one's rows start, and the end; ``label`` names it) and
    column (``names``: one, or one per column of 2-D arrays), the mean size of the
    rounding ``narrow - wide`` is compared with the mean size of the one-step change of
    ``wide``; NaN (masked) entries count for neither. One column at a time: a few N-long
    temporaries (0.1 s for 5 million rows).
    """
    if narrow.dtype.itemsize >= wide.dtype.itemsize or len(wide) < 2:
        return
    if isinstance(names, str):
        _warn_if_column_rounded(wide, narrow, offsets, label, names)
        return
    for j, name in enumerate(names):
        _warn_if_column_rounded(wide[:, j], narrow[:, j], offsets, label, name)


def _warn_if_column_rounded(
    wide: np.ndarray,
    narrow: np.ndarray,
    offsets: np.ndarray,
    label: Callable[[int], str],
    column: str,
) -> None:
    starts, ends = offsets[:-1], offsets[1:]
    n = len(starts)
    error_sum, step_sum = np.zeros(n), np.zeros(n)
    error_n, step_n = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    # Whole series at a time, about _CHUNK_ROWS rows: the float64 temporaries stay a few MB
    # beside the column, however long the panel.
    first = 0
    while first < n:
        last = int(np.searchsorted(ends, starts[first] + _CHUNK_ROWS, side="right"))
        last = min(max(last, first + 1), n)
        a, b = int(starts[first]), int(ends[last - 1])
        sums = _sums(wide[a:b], narrow[a:b], starts[first:last] - a)
        error_sum[first:last], step_sum[first:last] = sums[0], sums[1]
        error_n[first:last], step_n[first:last] = sums[2], sums[3]
        first = last
    moving = (step_sum > 0) & (error_n > 0)
    mean_error = np.divide(error_sum, error_n, out=np.zeros(n), where=moving)
    mean_step = np.divide(step_sum, step_n, out=np.zeros(n), where=moving)
    rounded = moving & (mean_error >= ROUNDED_SHARE * mean_step)
    if not rounded.any():
        return
    k = int(np.argmax(rounded))
    level = float(np.nanmax(np.abs(wide[starts[k] : ends[k]])))
    others = int(rounded.sum()) - 1
    # No per-fit statistics in the message: a calibrated fit converts the series cut for its
    # calibration model, then whole, and warn_once says one message once.
    spacing = float(np.spacing(narrow.dtype.type(level)))
    warn_once(
        f"Column {column!r} of {label(k)}"
        + (f" (and {others} other series)" if others else "")
        + f" moves by steps that {narrow.dtype.name}, the network's precision, rounds away: "
        f"at its level it holds numbers only to steps of {spacing:.3g}, and the network reads "
        "a rounded copy of the series. Subtract a constant near its level from the column "
        "(and add it back to the forecasts), or forecast it with a statistical model, which "
        "reads float64.",
    )


def _sums(wide: np.ndarray, narrow: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per series (rows from each of ``starts`` to the next): the sums of the rounding's
    size and of the one-step changes' sizes, and their counts, NaN (masked) left out.

    np.add.reduceat over each series' block of rows (np.bincount with weights is several
    times slower); the NaN-free copies are made only when there are NaN.
    """
    lengths = np.diff(np.append(starts, len(wide)))
    error = np.abs(narrow - wide)  # float64
    step = np.empty_like(error)
    np.subtract(wide[1:], wide[:-1], out=step[:-1])
    np.abs(step, out=step)
    step[starts[1:] - 1] = 0.0  # no step from one series to the next
    step[-1] = 0.0
    error_n, step_n = lengths, lengths - 1
    if np.isnan(error).any():
        seen = ~np.isnan(error)
        stepped = np.isfinite(step)
        stepped[starts[1:] - 1] = stepped[-1] = False
        error_n = np.add.reduceat(seen.astype(np.int64), starts)
        step_n = np.add.reduceat(stepped.astype(np.int64), starts)
        error[~seen], step[~stepped] = 0.0, 0.0
    return np.add.reduceat(error, starts), np.add.reduceat(step, starts), error_n, step_n
