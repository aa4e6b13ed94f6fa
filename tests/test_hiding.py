"""``missing="mask"`` training hides a share of each window's observed inputs.

What a user relies on: the hidden values' targets stay in the loss and nothing else of a
window changes; a hidden input reads what a missing one would (nothing after the window's
cutoff, nothing of another series); the draws do not depend on batch order or on how the
panel was split; a fit on complete data hides nothing.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast import LSTMForecaster
from forecast.data.hiding import (
    HiddenInputs,
    hash_uniform,
    hide_rates,
    missing_counts,
    observed_lags,
)
from forecast.data.masking import CausalInputs, augment, carried, impute
from forecast.data.panel import to_panel
from forecast.forecasters._masking import masked_training
from tests.test_missing import TINY, _long


def _hider(values, offsets, rate, seq_len, seed=0, keys=None):
    """The inputs (T, 2) of one masked column, their causal fix and a HiddenInputs."""
    columns = np.array([0])
    inputs = augment(values, offsets, columns, 0)
    causal = CausalInputs(carried(values, offsets, columns), columns, np.array([1]), seq_len)
    lags = observed_lags(values, offsets, columns)
    keys = np.arange(len(offsets) - 1, dtype=np.uint64) if keys is None else keys
    hidden = HiddenInputs(
        inputs, lags, offsets, keys, columns, np.array([1]), seq_len, np.array([rate]), seed
    )
    return inputs, causal, hidden


def _windows(inputs, starts, width):
    return np.stack([inputs[s : s + width] for s in starts])


@st.composite
def _panels(draw):
    lengths = draw(st.lists(st.integers(1, 14), min_size=1, max_size=4))
    n_rows = sum(lengths)
    values = np.array(draw(st.lists(st.integers(-50, 50), min_size=n_rows, max_size=n_rows)))
    values = values.astype(np.float64)
    missing = np.array(draw(st.lists(st.booleans(), min_size=n_rows, max_size=n_rows)))
    values[missing] = np.nan
    return values[:, None], np.concatenate([[0], np.cumsum(lengths)])


@settings(max_examples=200, deadline=None)
@given(_panels(), st.integers(1, 6), st.integers(0, 3), st.floats(0.1, 0.9), st.data())
def test_a_hidden_input_is_imputed_as_a_missing_one_from_the_window_s_past(
    panel, seq_len, horizon, rate, data
) -> None:
    """The reference: the series up to the window's cutoff with the hidden values deleted,
    imputed by ``impute``. Nothing after the cutoff and nothing of another series can reach
    it; targets and everything else of the window stay as they were."""
    values, offsets = panel
    lengths = np.diff(offsets)
    fits = np.flatnonzero(lengths >= seq_len + horizon)
    if not fits.size:
        return
    series = int(data.draw(st.sampled_from(fits.tolist())))
    first = offsets[series]
    start = first + data.draw(st.integers(0, lengths[series] - seq_len - horizon))
    inputs, causal, hidden = _hider(
        values, offsets, rate, seq_len, seed=data.draw(st.integers(0, 9))
    )
    window = causal(_windows(inputs, [start], seq_len + horizon), np.array([start]))
    out = hidden(window, np.array([start]))[0]
    hid = (window[0, :seq_len, 1] == 1) & (out[:seq_len, 1] == 0)
    # Only observed inputs are hidden, and a window keeps one if it had one.
    assert np.array_equal(out[:seq_len, 1], window[0, :seq_len, 1] * ~hid)
    if window[0, :seq_len, 1].any():
        assert out[:seq_len, 1].any()
    np.testing.assert_array_equal(out[seq_len:], window[0, seq_len:])  # the horizon: as it was
    if not hid.any():
        np.testing.assert_array_equal(out, window[0])
        return
    cut = values[first : start + seq_len].copy()
    cut[start - first + np.flatnonzero(hid)] = np.nan
    expected = impute(cut, np.array([0, len(cut)]))[start - first :, 0]
    np.testing.assert_allclose(out[:seq_len, 0], expected, rtol=1e-6, atol=1e-4)


@settings(max_examples=50, deadline=None)
@given(_panels(), st.integers(1, 5))
def test_the_draws_depend_on_the_series_and_position_not_on_the_batch(panel, seq_len) -> None:
    """The same window is hidden the same way alone, in any batch, and in a panel where its
    series sits at other rows (a fit from parts reads a rank's series only)."""
    values, offsets = panel
    inputs, causal, hidden = _hider(values, offsets, 0.5, seq_len)
    starts = np.array(
        [s for a, b in itertools.pairwise(offsets) for s in range(a, b - seq_len + 1)]
    )
    if not starts.size:
        return
    batch = causal(_windows(inputs, starts, seq_len), starts)
    together = hidden(batch, starts)
    order = np.random.default_rng(0).permutation(len(starts))
    shuffled = hidden(batch[order], starts[order])
    np.testing.assert_array_equal(shuffled, together[order])
    # The last series alone, at rows 0..: the same keys give the same hidden values.
    last = len(offsets) - 2
    own = slice(offsets[last], offsets[-1])
    alone_values, alone_offsets = values[own], np.array([0, offsets[-1] - offsets[last]])
    a_inputs, a_causal, a_hidden = _hider(
        alone_values, alone_offsets, 0.5, seq_len, keys=np.array([last], dtype=np.uint64)
    )
    mine = np.flatnonzero(starts >= offsets[last])
    if not mine.size:
        return
    local = starts[mine] - offsets[last]
    alone = a_hidden(a_causal(_windows(a_inputs, local, seq_len), local), local)
    np.testing.assert_array_equal(alone, together[mine])


def test_about_the_rate_of_observed_inputs_is_hidden() -> None:
    draws = hash_uniform(3, np.arange(500, dtype=np.uint64), np.arange(500), 24, 2)
    assert draws.min() >= 0.0
    assert draws.max() < 1.0
    assert (draws < 0.1).mean() == pytest.approx(0.1, abs=0.005)
    assert (draws < 0.3).mean() == pytest.approx(0.3, abs=0.005)
    # Another seed, another draw; neighbouring keys are not correlated.
    assert not np.array_equal(
        draws, hash_uniform(4, np.arange(500, dtype=np.uint64), np.arange(500), 24, 2)
    )
    assert abs(np.corrcoef(draws[:-1].ravel(), draws[1:].ravel())[0, 1]) < 0.02


def test_missing_values_are_counted_over_each_series_training_rows() -> None:
    values = np.array([[1.0, np.nan], [np.nan, 1.0], [2.0, 2.0], [3.0, np.nan], [np.nan, np.nan]])
    offsets = np.array([0, 3, 5])
    # Training rows: 0-1 of the first series, 0 of the second (rows 0, 1, 3).
    counts, n_rows = missing_counts(values, offsets, np.array([2, 1]), np.array([0, 1]))
    assert counts.tolist() == [1, 2]
    assert n_rows == 3


def test_a_column_hides_twice_its_missing_share_at_most_a_fifth() -> None:
    shares = np.array([0.0, 0.01, 0.1, 0.3, 1.0])
    np.testing.assert_allclose(hide_rates(shares), [0, 0.02, 0.2, 0.2, 0.2])


def test_training_windows_hide_twice_the_missing_share_of_inputs_and_no_target() -> None:
    df = _long(n_series=3, n=60).drop(columns="x")
    df.loc[df.index % 10 == 3, "y"] = np.nan  # 10 % missing
    panel, _ = to_panel(df, id_col="id", time_col="t", target="y", missing="mask")
    model = LSTMForecaster(
        id_col="id", time_col="t", target="y", missing="mask", validation_size=0.2, **TINY
    )
    model.seed_ = 0
    masked = masked_training(panel, model)
    assert masked is not None
    assert masked.hidden is not None
    np.testing.assert_allclose(masked.hidden.rates, [0.2], atol=0.04)
    seq_len = model.seq_len
    starts, _ = masked.train.locate(np.arange(len(masked.train)))
    windows = _windows(masked.values, starts, seq_len + model.horizon)
    plain = masked.causal(windows, starts)
    trained = masked.train_inputs(windows, starts)
    share = 1 - trained[:, :seq_len, 1].sum() / plain[:, :seq_len, 1].sum()
    assert 0.15 < share < 0.25
    np.testing.assert_array_equal(trained[:, seq_len:], plain[:, seq_len:])  # targets, mask


def test_a_fit_on_complete_data_hides_nothing() -> None:
    df = _long(n_series=2, n=30).drop(columns="x")
    panel, _ = to_panel(df, id_col="id", time_col="t", target="y", missing="mask")
    model = LSTMForecaster(id_col="id", time_col="t", target="y", missing="mask", **TINY)
    assert masked_training(panel, model) is None  # the normal fit (tests/test_missing.py)
