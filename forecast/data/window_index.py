"""The windows of series stored back to back, without torch: what predict needs of windowing.

:class:`WindowIndex` and :func:`window_starts` list every full window; :func:`last_windows`
and :func:`windows_ending_at` gather input windows as zero-copy views.
:mod:`forecast.data.windowing` (which re-exports these) adds the torch dataset and sampler
that training batches with; they are apart so that loading a model and predicting never
imports torch (about 1.1 s).

Symbols: N windows, L input length (``seq_len``), H horizon, F features, S series.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["WindowIndex", "last_windows", "window_starts", "windows_ending_at"]


class WindowIndex:
    """Every full window of series stored back to back, indexed without a per-window array.

    Window ``k`` (``0 <= k < len(index)``) is found from two arrays of one entry per series
    (the first window number and the first start row of each series) by a binary search:
    memory O(S), not O(N). A panel of 1,000 series x 5,000 steps has ~5M windows, whose
    explicit start rows and series numbers would take 60 MB, three times its float32 data.

    Built by :meth:`build` with the same arguments as :func:`window_starts`.
    """

    def __init__(self, first_start: np.ndarray, counts: np.ndarray) -> None:
        self.first_start = np.asarray(first_start, dtype=np.int64)  # (S,)
        counts = np.asarray(counts, dtype=np.int64)
        self.cumulative = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)  # (S + 1,)

    @classmethod
    def build(
        cls,
        offsets: np.ndarray,
        seq_len: int,
        horizon: int,
        end_margin: int | np.ndarray = 0,
        first_target: int | np.ndarray | None = None,
        past_end: int = 0,
    ) -> WindowIndex:
        """Index the windows that :func:`window_starts` lists (same parameters).

        ``past_end`` (``0 <= past_end < horizon``) also lists the windows whose last
        ``past_end`` or fewer target rows lie past each series' end (less ``end_margin``):
        their input rows and at least one target row are inside it. A dataset that reads
        them must leave those rows out (:class:`forecast.data.windowing.WindowDataset`'s
        ``target_ends``).
        """
        if not 0 <= past_end < max(horizon, 1):
            raise ValueError(f"past_end must be in [0, horizon={horizon}); got {past_end}.")
        width = seq_len + horizon - past_end
        begin = offsets[:-1].astype(np.int64)
        end = offsets[1:] - np.broadcast_to(np.asarray(end_margin, dtype=np.int64), begin.shape)
        if first_target is not None:
            lead = np.asarray(first_target, dtype=np.int64) - seq_len
            begin = begin + np.maximum(np.broadcast_to(lead, begin.shape), 0)
        return cls(begin, np.maximum(end - begin - width + 1, 0))

    def __len__(self) -> int:
        return int(self.cumulative[-1])

    def locate(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Start rows (int64) and series (int32) of the windows numbered ``positions``."""
        positions = np.asarray(positions, dtype=np.int64)
        series = np.searchsorted(self.cumulative, positions, side="right") - 1
        starts = self.first_start[series] + (positions - self.cumulative[series])
        return starts, series.astype(np.int32)


def window_starts(
    offsets: np.ndarray,
    seq_len: int,
    horizon: int,
    end_margin: int | np.ndarray = 0,
    first_target: int | np.ndarray | None = None,
    past_end: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Start rows of every full window that stays inside one series.

    Parameters
    ----------
    offsets : numpy.ndarray of shape (S + 1,)
        Series ``i`` occupies rows ``offsets[i]:offsets[i + 1]``.
    seq_len, horizon : int
        Input length L and horizon H; a window spans ``L + H`` rows.
    end_margin : int or numpy.ndarray of shape (S,)
        Rows at the end of each series that no window may reach (e.g. a validation tail).
    first_target : int or numpy.ndarray of shape (S,), optional
        Position within each series before which no window's targets may start (e.g. the
        start of the validation tail, to list the validation windows).
    past_end : int, default 0
        How many of a window's last target rows may lie past its series' end (less
        ``end_margin``): see :meth:`WindowIndex.build`.

    Returns
    -------
    starts : numpy.ndarray of shape (N,), int64
        Row of the first input step of each window.
    series : numpy.ndarray of shape (N,), int32
        Which series each window belongs to.

    See Also
    --------
    WindowIndex : the same windows without the two N-long arrays (what training uses).
    """
    index = WindowIndex.build(offsets, seq_len, horizon, end_margin, first_target, past_end)
    return index.locate(np.arange(len(index), dtype=np.int64))


def last_windows(values: np.ndarray, offsets: np.ndarray, seq_len: int) -> np.ndarray:
    """The last ``seq_len`` rows of every series, shape ``(S, L, F)``.

    Every series must have at least ``seq_len`` rows (checked by the caller, which can name
    the series).
    """
    return windows_ending_at(values, offsets[1:], seq_len)


def windows_ending_at(values: np.ndarray, ends: np.ndarray, seq_len: int) -> np.ndarray:
    """The ``seq_len`` rows before each of ``ends`` (exclusive), shape ``(N, L, F)``.

    One gather from a zero-copy ``sliding_window_view``: the input windows of forecasts
    made at many cutoffs at once (a backtest without refit). The caller checks that each
    window stays inside its series.

    Examples
    --------
    >>> values = np.arange(10, dtype=np.float32).reshape(10, 1)
    >>> windows_ending_at(values, np.array([3, 10]), seq_len=2)[:, :, 0]
    array([[1., 2.],
           [8., 9.]], dtype=float32)
    """
    starts = np.asarray(ends, dtype=np.int64) - seq_len  # (N,)
    return sliding_window_view(values, seq_len, axis=0)[starts].transpose(0, 2, 1)  # (N, L, F)
