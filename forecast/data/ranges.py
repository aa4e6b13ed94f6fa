"""Sums over row ranges of series stored back to back (histories, in-sample scales).

numpy only (no torch, no pandas): evaluation/ uses it for MASE's scale and the conformal
scores' scale.
"""

from __future__ import annotations

import numpy as np

__all__ = ["range_sums"]


def range_sums(values: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """``values[starts[i]:ends[i]].sum(axis=0)`` for every ``i``, in float64: ``(N, F)``.

    One ``numpy.add.reduceat`` over ``(start, end)`` pairs, not differences of one running
    sum over all rows: beside a series of 1e20 a running sum is ~1e21 and resolves nothing
    finer than ~1e5, which would erase (or invent) the changes of a series of 1e-7. An
    empty range (``ends[i] <= starts[i]``) sums to 0.
    """
    rows = np.zeros((len(values) + 1, values.shape[1]))  # + a zero row: reduceat's last index
    rows[:-1] = values
    starts, ends = np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
    if len(starts) == 0:
        return np.zeros((0, values.shape[1]))
    bounds = np.stack([np.minimum(starts, ends), ends], axis=1).reshape(-1)
    sums = np.add.reduceat(rows, bounds, axis=0)[::2]
    return np.where((ends > starts)[:, None], sums, 0.0)
