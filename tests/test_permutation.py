"""The lazy permutation that shuffles training windows without materialising the order."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast.data.permutation import ROUNDS, LazyPermutation

keys_strategy = st.lists(st.integers(0, 2**64 - 1), min_size=ROUNDS, max_size=ROUNDS).map(
    lambda k: np.array(k, dtype=np.uint64)
)


@settings(max_examples=80, deadline=None)
@given(n=st.integers(1, 3000), keys=keys_strategy, chunk=st.integers(1, 700))
def test_every_position_maps_to_a_distinct_value_in_range(n, keys, chunk) -> None:
    perm = LazyPermutation(n, keys)
    whole = perm(np.arange(n))
    assert whole.dtype == np.int64
    assert np.array_equal(np.sort(whole), np.arange(n))  # a bijection on 0 .. n-1
    # Position by position, in any chunking, the same permutation (what the sampler relies on).
    chunked = np.concatenate([perm(np.arange(s, min(s + chunk, n))) for s in range(0, n, chunk)])
    assert np.array_equal(chunked, whole)


def test_the_keys_choose_the_permutation() -> None:
    rng = np.random.default_rng(0)
    draws = [rng.integers(0, 2**63, ROUNDS, dtype=np.uint64) for _ in range(3)]
    perms = [LazyPermutation(1000, k)(np.arange(1000)) for k in draws]
    assert np.array_equal(LazyPermutation(1000, draws[0])(np.arange(1000)), perms[0])
    assert not np.array_equal(perms[0], perms[1])
    assert not np.array_equal(perms[1], perms[2])


def test_every_value_is_equally_likely_at_a_position() -> None:
    # Over many keys, where position 0 lands (n = 10) and where the last position lands
    # (n = 37, a walked domain of 64) are uniform: chi-square far below the 0.1 % critical
    # value (27.9 for 9 and 67.0 for 36 degrees of freedom).
    rng = np.random.default_rng(1)
    for n, position, critical in ((10, 0, 27.9), (37, 36, 67.0)):
        draws = 4000
        counts = np.bincount(
            [
                LazyPermutation(n, rng.integers(0, 2**63, ROUNDS, dtype=np.uint64))(
                    np.array([position])
                )[0]
                for _ in range(draws)
            ],
            minlength=n,
        )
        expected = draws / n
        assert ((counts - expected) ** 2 / expected).sum() < critical


def test_neighbouring_positions_are_not_neighbouring_windows() -> None:
    # Consecutive windows of one series are near-duplicates; a shuffle that kept them
    # together would feed SGD correlated batches. For a random permutation the mean gap
    # between consecutive values is (n + 1) / 3.
    n = 100_000
    perm = LazyPermutation(n, np.arange(1, ROUNDS + 1, dtype=np.uint64))(np.arange(n))
    gap = np.abs(np.diff(perm)).mean()
    assert abs(gap / ((n + 1) / 3) - 1) < 0.02
    assert abs(np.corrcoef(perm[:-1], perm[1:])[0, 1]) < 0.02


def test_bad_arguments_are_refused() -> None:
    keys = np.zeros(ROUNDS, dtype=np.uint64)
    with pytest.raises(ValueError, match="n must be >= 0"):
        LazyPermutation(-1, keys)
    with pytest.raises(ValueError, match="keys must have shape"):
        LazyPermutation(5, keys[:2])
    with pytest.raises(IndexError, match=r"0 \.\. 4"):
        LazyPermutation(5, keys)(np.array([5]))
