"""Backtest folds: the history and test rows of each window and series, and history frames.

Cutoffs are placed **by position from each series' own end**: in window ``w`` (0 = oldest)
of ``n_windows``, the last ``H + (n_windows - 1 - w) * step`` rows of every series come after
the cutoff. Series of different lengths or end dates thus each get their own cutoff
timestamps, and every series contributes ``H`` test points to every window.

Positions here are rows inside a series (0 = its first row); ``Panel.offsets`` turns them
into rows of ``Panel.values``, and ``Panel.rows`` into rows of the user's frame.

Symbols: W windows (cutoffs), S series, H horizon.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from forecast._exceptions import DataError
from forecast.data.panel import Panel

__all__ = ["Folds", "history_frame", "make_folds"]


@dataclass(frozen=True)
class Folds:
    """History and test rows of each window and series (positions inside each series).

    Attributes
    ----------
    starts : numpy.ndarray of shape (W, S)
        First history row; 0 for an expanding window.
    ends : numpy.ndarray of shape (W, S)
        One past the cutoff row: the history is ``starts:ends``, the test ``ends:ends + H``.
    horizon : int
    """

    starts: np.ndarray
    ends: np.ndarray
    horizon: int

    @property
    def n_windows(self) -> int:
        return self.ends.shape[0]


def make_folds(
    panel: Panel,
    *,
    n_windows: int,
    step: int,
    horizon: int,
    window_length: int | None,
    sliding: bool,
) -> Folds:
    """Rolling-origin folds over the last cutoffs of every series.

    With ``sliding``, each history holds ``window_length`` rows (default: what the series
    had at the oldest cutoff), so every window trains on as many rows as the first.
    """
    lengths = panel.lengths  # (S,)
    after = horizon + step * np.arange(n_windows - 1, -1, -1)  # (W,) rows after each cutoff
    ends = lengths[None, :] - after[:, None]  # (W, S)
    short = np.flatnonzero(ends[0] < 1)
    if short.size:
        raise DataError(
            f"Too few rows to backtest: {panel.describe(short)}, but n_windows={n_windows} "
            f"windows of horizon={horizon} every step={step} hold out the last {after[0]} rows, "
            "leaving no history before the first cutoff. Use fewer windows, a smaller step, or "
            "drop the short series."
        )
    if not sliding:
        return Folds(starts=np.zeros_like(ends), ends=ends, horizon=horizon)
    size = ends[0] if window_length is None else np.full_like(lengths, window_length)
    short = np.flatnonzero(ends[0] < size)
    if short.size:
        raise DataError(
            f"window_length={window_length} rows do not fit before the first cutoff: "
            f"{panel.describe(short, ends[0, short])} "
            "row(s) there. Use a smaller window_length, fewer windows, or window='expanding'."
        )
    return Folds(starts=ends - size[None, :], ends=ends, horizon=horizon)


def _ranges(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """``concatenate([arange(a, b) for a, b in zip(starts, ends)])``, without the loop."""
    counts = ends - starts
    first = np.repeat(np.cumsum(counts) - counts, counts)
    return np.repeat(starts, counts) + (np.arange(counts.sum()) - first)


def history_frame(df: Any, panel: Panel, folds: Folds, w: int) -> Any:
    """The user's own frame cut to the history of window ``w``: nothing after its cutoffs.

    Rows keep the user's order and layout (columns, index, MultiIndex), so an estimator
    fitted on it validates and scales exactly what it would be given in production.
    """
    begin = panel.offsets[:-1]
    keep = _ranges(begin + folds.starts[w], begin + folds.ends[w])
    if panel.rows is not None:  # reordered, or gaps inserted (-1): map back to its own rows
        keep = np.sort(panel.rows[keep])
        keep = keep[keep >= 0]
    return df.iloc[keep]
