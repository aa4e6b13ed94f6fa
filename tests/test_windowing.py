"""Windows are the slices they claim to be, never cross series, and are never copied whole."""

from __future__ import annotations

import itertools
import tracemalloc

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast.windowing import (
    ShuffledWindowSampler,
    WindowDataset,
    WindowIndex,
    last_windows,
    make_windows,
    window_starts,
)


@st.composite
def series_and_shape(draw):
    seq_len = draw(st.integers(1, 12))
    horizon = draw(st.integers(1, 6))
    length = draw(st.integers(seq_len + horizon, seq_len + horizon + 40))
    n_features = draw(st.integers(1, 4))
    n_targets = draw(st.integers(1, n_features))
    return length, n_features, n_targets, seq_len, horizon


@settings(max_examples=60, deadline=None)
@given(series_and_shape())
def test_window_i_is_the_slice_it_claims(shape):
    length, n_features, n_targets, seq_len, horizon = shape
    data = np.random.default_rng(length).standard_normal((length, n_features)).astype(np.float32)
    frame = pd.DataFrame(data, columns=[f"c{i}" for i in range(n_features)])
    X, y = make_windows(frame, seq_len, horizon, target=list(frame.columns[:n_targets]))
    assert X.shape == (length - seq_len - horizon + 1, seq_len, n_features)
    assert y.shape == (length - seq_len - horizon + 1, horizon, n_targets)
    for i in range(X.shape[0]):
        np.testing.assert_array_equal(X[i].numpy(), data[i : i + seq_len])
        np.testing.assert_array_equal(
            y[i].numpy(), data[i + seq_len : i + seq_len + horizon, :n_targets]
        )


def test_make_windows_puts_targets_first_and_stays_a_view():
    data = np.arange(30, dtype=np.float32).reshape(10, 3)
    frame = pd.DataFrame(data, columns=["a", "b", "c"])
    X, y = make_windows(frame, seq_len=4, horizon=2, target="c")
    np.testing.assert_array_equal(X[0, :, 0].numpy(), data[:4, 2])  # target first
    np.testing.assert_array_equal(y[0, :, 0].numpy(), data[4:6, 2])
    assert X.untyped_storage().data_ptr() == y.untyped_storage().data_ptr()


@pytest.mark.parametrize("seq_len", [5, 50, 500])
def test_window_memory_does_not_grow_with_seq_len_times_windows(seq_len):
    data = np.random.default_rng(0).standard_normal((2000, 3)).astype(np.float32)
    X, y = make_windows(data, seq_len=seq_len, horizon=3, target=0)
    # One storage holding the data once, whatever the number and length of the windows.
    assert X.untyped_storage().nbytes() == data.nbytes
    assert y.untyped_storage().data_ptr() == X.untyped_storage().data_ptr()


def test_window_dataset_keeps_no_copy_of_the_history():
    values = np.random.default_rng(0).standard_normal((5000, 2)).astype(np.float32)
    windows = WindowIndex.build(np.array([0, 5000]), seq_len=200, horizon=10)
    ds = WindowDataset(values, windows, seq_len=200, horizon=10, n_targets=1)
    assert np.shares_memory(ds._windows, values)
    x, y = ds.__getitems__(np.arange(64))
    assert x.shape == (64, 200, 2)
    assert y.shape == (64, 10, 1)


@st.composite
def panels(draw):
    seq_len = draw(st.integers(1, 8))
    horizon = draw(st.integers(1, 4))
    lengths = draw(st.lists(st.integers(0, 30), min_size=1, max_size=6))
    return seq_len, horizon, np.array(lengths)


@settings(max_examples=80, deadline=None)
@given(panels())
def test_windows_never_cross_series_and_cover_all_positions(panel):
    seq_len, horizon, lengths = panel
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    values = np.repeat(np.arange(len(lengths)), lengths).astype(np.float32)[:, None]  # series id
    starts, series = window_starts(offsets, seq_len, horizon)
    width = seq_len + horizon
    assert len(starts) == np.maximum(lengths - width + 1, 0).sum()
    if len(starts) == 0:
        return
    windows = WindowIndex.build(offsets, seq_len, horizon)
    ds = WindowDataset(values, windows, seq_len=seq_len, horizon=horizon, n_targets=1)
    x, y = ds.__getitems__(np.arange(len(ds)))
    # Every value of a window equals the id of the series the window claims to belong to.
    assert (x[..., 0].numpy() == series[:, None]).all()
    assert (y[..., 0].numpy() == series[:, None]).all()
    assert (starts >= offsets[series]).all()
    assert (starts + width <= offsets[series + 1]).all()


def test_end_margin_keeps_windows_out_of_the_tail():
    offsets = np.array([0, 20, 35])
    starts, series = window_starts(offsets, seq_len=4, horizon=2, end_margin=np.array([5, 3]))
    assert (starts + 6 <= np.array([15, 32])[series]).all()
    assert len(starts) == (15 - 6 + 1) + (12 - 6 + 1)


def test_last_windows_are_the_last_rows_of_each_series():
    values = np.arange(24, dtype=np.float32).reshape(12, 2)
    out = last_windows(values, np.array([0, 5, 12]), seq_len=3)
    np.testing.assert_array_equal(out[0], values[2:5])
    np.testing.assert_array_equal(out[1], values[9:12])


def test_dataloader_batches_through_getitems():
    values = np.arange(100, dtype=np.float32)[:, None]
    windows = WindowIndex.build(np.array([0, 100]), seq_len=5, horizon=1)
    ds = WindowDataset(values, windows, seq_len=5, horizon=1, n_targets=1)
    loader = torch.utils.data.DataLoader(ds, batch_size=16, collate_fn=WindowDataset.collate)
    x, y = next(iter(loader))
    assert x.shape == (16, 5, 1)
    np.testing.assert_array_equal(y[:, 0, 0].numpy(), np.arange(5, 21))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"seq_len": 0, "horizon": 1}, "seq_len must be an int >= 1"),
        ({"seq_len": 3, "horizon": 0}, "horizon must be an int >= 1"),
        ({"seq_len": 8, "horizon": 3}, "a window needs seq_len \\+ horizon = 11"),
    ],
)
def test_make_windows_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_windows(np.zeros(10), **kwargs)


def test_make_windows_unknown_target():
    with pytest.raises(ValueError, match="Target column 'z' is not in the data"):
        make_windows(pd.DataFrame({"a": np.zeros(10)}), 2, 1, target="z")


@settings(max_examples=60, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 30), min_size=1, max_size=6),
    seq_len=st.integers(1, 6),
    horizon=st.integers(1, 4),
    margin=st.integers(0, 5),
)
def test_window_index_numbers_exactly_the_windows_inside_each_series(
    lengths, seq_len, horizon, margin
) -> None:
    # Brute force: every start whose window (plus the margin) stays inside its series.
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    expected = [
        (start, s)
        for s, (a, b) in enumerate(itertools.pairwise(offsets))
        for start in range(a, b - margin - seq_len - horizon + 1)
    ]
    index = WindowIndex.build(offsets, seq_len, horizon, end_margin=margin)
    assert len(index) == len(expected)
    starts, series = index.locate(np.arange(len(index)))
    assert list(zip(starts.tolist(), series.tolist(), strict=True)) == expected


def test_dataset_over_a_window_index_gives_the_slices_window_starts_lists() -> None:
    values = np.random.default_rng(0).standard_normal((70, 2)).astype(np.float32)
    offsets = np.array([0, 30, 31, 70])
    starts, _ = window_starts(offsets, 4, 2)
    ds = WindowDataset(values, WindowIndex.build(offsets, 4, 2), seq_len=4, horizon=2, n_targets=1)
    assert len(ds) == len(starts) == (30 - 5) + 0 + (39 - 5)
    picks = [0, 24, 25, 58, 3]
    x, y = ds.__getitems__(picks)
    np.testing.assert_array_equal(x.numpy(), np.stack([values[s : s + 4] for s in starts[picks]]))
    np.testing.assert_array_equal(
        y.numpy(), np.stack([values[s + 4 : s + 6, :1] for s in starts[picks]])
    )


def test_shuffled_sampler_is_a_seeded_permutation_across_chunks() -> None:
    n = ShuffledWindowSampler.CHUNK * 2 + 123  # more than one chunk
    data = range(n)

    def draw(seed: int) -> list[int]:
        return list(ShuffledWindowSampler(data, generator=torch.Generator().manual_seed(seed)))

    first = draw(0)
    assert sorted(first) == list(range(n))  # every window once
    assert first == draw(0)  # reproducible
    assert first != draw(1)
    assert first != sorted(first)
    torch.manual_seed(5)
    unseeded = list(ShuffledWindowSampler(data))
    torch.manual_seed(5)
    assert list(ShuffledWindowSampler(data)) == unseeded  # seeded by torch's global RNG
    sampler = ShuffledWindowSampler(data, generator=torch.Generator().manual_seed(0))
    assert list(sampler) != list(sampler)  # a new order every epoch


def test_shuffled_sampler_never_materialises_the_permutation(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("an N-long permutation was built")

    monkeypatch.setattr(torch, "randperm", refuse)
    n = 4_000_000  # as an int64 array, 32 MB
    sampler = ShuffledWindowSampler(range(n), generator=torch.Generator().manual_seed(0))
    tracemalloc.start()
    try:
        iterator = iter(sampler)
        first = [next(iterator) for _ in range(ShuffledWindowSampler.CHUNK + 10)]  # 2 chunks
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(set(first)) == len(first)
    assert all(0 <= i < n for i in first)
    assert peak < 12 * 2**20, f"{peak / 2**20:.1f} MB traced"
