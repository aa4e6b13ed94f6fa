"""A seeded random permutation of ``0 .. n-1`` computed position by position, in O(1) memory.

Shuffling N training windows the usual way materialises the permutation: ``randperm(N)`` is
4 bytes per window even as int32, as much as the float32 series of a one-feature panel
(every row starts a window). :class:`LazyPermutation` computes ``perm[i]`` for any block of
positions ``i`` on demand instead, so a shuffled epoch costs one chunk of indices.

**How.** A keyed Feistel network is a bijection on ``b``-bit integers for any round function
(each round ``(l, r) -> (r, l ^ f(r, key))`` is invertible); with a well-mixing round
function and several rounds it behaves as a random permutation of ``2**b`` values (the
Luby-Rackoff construction). To permute ``0 .. n-1`` with ``2**b >= n`` we *cycle-walk*:
apply the network again while the result is ``>= n``; this stays a bijection on ``0 .. n-1``
(Black and Rogaway, "Ciphers with arbitrary finite domains", 2002). ``b`` is the smallest
even number with ``2**b >= n``, so at most 3 of 4 values are walked over and a walk takes
at most ~4 applications on average. The round function is the splitmix64 finaliser, a
standard 64-bit mixer. TensorFlow's ``index_shuffle`` and Google's Grain loader shuffle
the same way.

**Why written here.** Neither numpy nor torch offers a permutation that is not
materialised, and Grain (which has one) brings a data-loading framework with it; this is
~40 lines of vectorised numpy.
"""

from __future__ import annotations

import numpy as np

__all__ = ["LazyPermutation"]

ROUNDS = 6
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser on uint64 (wrapping arithmetic)."""
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


class LazyPermutation:
    """``perm[positions]`` of a random permutation of ``range(n)`` fixed by ``keys``.

    Parameters
    ----------
    n : int
        Size of the permuted range, ``>= 0``.
    keys : numpy.ndarray of uint64, shape (ROUNDS,)
        One key per Feistel round: the seed of the permutation.

    Examples
    --------
    >>> keys = np.arange(1, ROUNDS + 1, dtype=np.uint64)
    >>> perm = LazyPermutation(10, keys)
    >>> sorted(perm(np.arange(10)).tolist()) == list(range(10))
    True
    """

    def __init__(self, n: int, keys: np.ndarray) -> None:
        if n < 0:
            raise ValueError(f"n must be >= 0. Got {n} instead.")
        keys = np.asarray(keys, dtype=np.uint64)
        if keys.shape != (ROUNDS,):
            raise ValueError(f"keys must have shape ({ROUNDS},). Got {keys.shape} instead.")
        self.n = int(n)
        self.keys = keys
        half = max(1, (max(self.n - 1, 1).bit_length() + 1) // 2)  # 2 * half bits cover n
        self._half = np.uint64(half)
        self._mask = np.uint64((1 << half) - 1)

    def _feistel(self, x: np.ndarray) -> np.ndarray:
        left, right = x >> self._half, x & self._mask
        for key in self.keys:
            left, right = right, left ^ (_mix(right ^ key) & self._mask)
        return (left << self._half) | right

    def __call__(self, positions: np.ndarray) -> np.ndarray:
        """The permuted values at ``positions`` (int64, each in ``0 .. n-1``).

        Parameters
        ----------
        positions : numpy.ndarray of int
            Positions in ``0 .. n-1``.

        Returns
        -------
        numpy.ndarray of int64
            Same shape; distinct positions give distinct values.
        """
        positions = np.asarray(positions)
        if positions.size and (positions.min() < 0 or positions.max() >= self.n):
            raise IndexError(f"positions must lie in 0 .. {self.n - 1}.")
        out = self._feistel(positions.astype(np.uint64))
        walking = np.flatnonzero(out >= self.n)
        while walking.size:  # cycle-walk back into range; ends since the walk is a cycle
            out[walking] = self._feistel(out[walking])
            walking = walking[out[walking] >= self.n]
        return out.astype(np.int64)
