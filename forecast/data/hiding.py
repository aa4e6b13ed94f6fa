"""``missing="mask"`` training: each batch hides a share of its observed input values.

A network fitted with ``missing="mask"`` reads, per masked column, an imputed value and a
0/1 observed channel (:mod:`forecast.data.masking`). With 10 % of the values missing it
sees the channel at 0 in one input in ten, always where the data happened to miss, and
never learns what a gap costs where the value is known. :class:`HiddenInputs` hides, in
each training window, a random share of the *observed input* values: their channel set
to 0 and their value replaced by the imputation the library makes of a missing value
(:func:`forecast.data.masking.impute` as :class:`~forecast.data.masking.CausalInputs`
corrects it), computed from what stays observed. The window's targets (its horizon rows)
are never hidden, and stay in the loss: the network learns from real targets what a gap
in its input costs. Validation windows and forecasts are never hidden.

**How much** (:func:`hide_rates`). Per column, twice the share of its training values that
are missing, at most a fifth (:data:`RATE_FACTOR`, :data:`MAX_RATE`): a panel with one gap
hides almost nothing, one with 10 % or more missing one observed input in five. On M3
monthly with 10 % of the training values deleted, this moved the sMAPE of
``LSTMForecaster(**panel_params(12, 18), missing="mask")`` from 13.83, 13.89, 13.89 to
13.81, 13.70, 13.68 (seeds 0, 1, 2), past fill_gaps and interpolation (13.88, 13.84, 13.85),
and to within 0.1 of the full data (13.71 at seed 0); hiding the missing share itself
(10 %) gave a median of 13.77, half of it 13.82. With 30 % deleted, hiding 30 % cost 0.1
where 10 % and 20 % cost nothing, hence the cap (``benchmarks/RESULTS.md``, one torch
thread).

**Which values.** The draw for input row ``i`` and column ``k`` of a window is a hash of
(the fit's seed, the series' id, the window's start within its series, ``i``, ``k``): no
random state, the same in every epoch, in any batch order, and in a fit from parts (where
each rank gathers its own series' windows) as in one process. Every window keeps at least
one observed value of each column it observes (its scale and level come from them).

**The imputation of a hidden value**, from the window's observed values and the last
observation before the window (the series' rows before the window's start are its past):
linear between the observed neighbours; the last observation carried forward where the
gap runs up to the window's cutoff; the next observation where nothing is observed before
it in the series. Real gaps next to a hidden value are imputed again the same way, so
that no input is a line through a hidden value. Nothing after the window's last input row
is read.

Symbols: T rows, S series, N windows, L input length, K masked columns.
"""

from __future__ import annotations

import numpy as np

from forecast.data.masking import last_observed

__all__ = [
    "MAX_RATE",
    "RATE_FACTOR",
    "HiddenInputs",
    "hash_uniform",
    "hide_rates",
    "missing_counts",
    "observed_lags",
]

# The share hidden of a column is RATE_FACTOR times its missing share, at most MAX_RATE
# (hide_rates). Changed only by benchmarks/missing_values.py (--hide-factor, --hide-cap),
# for the trials in benchmarks/RESULTS.md.
RATE_FACTOR = 2.0
MAX_RATE = 0.2


def observed_lags(values: np.ndarray, offsets: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Rows back to the last observation *before* each row, within its series, of ``columns``.

    ``(T, K)`` int32; 0 where the series observes nothing before the row. The last
    observation at or before the row before (:func:`forecast.data.masking.last_observed`),
    none for a series' first row: the row before it is another series'.
    """
    last = last_observed(values[:, columns], offsets)  # (T, K) at or before; -1: none
    before = np.full_like(last, -1)
    before[1:] = last[:-1]
    before[np.asarray(offsets)[:-1][np.diff(offsets) > 0]] = -1
    row = np.arange(len(values))[:, None]
    return np.where(before >= 0, row - before, 0).astype(np.int32)


def missing_counts(
    values: np.ndarray, offsets: np.ndarray, n_rows: np.ndarray, columns: np.ndarray
) -> tuple[np.ndarray, int]:
    """Per column of ``columns``, how many of the first ``n_rows[s]`` rows of each series
    ``s`` (its training part) miss a value, ``(K,)`` int64; and how many rows those are.

    The share hidden of a column is its count over the rows (:data:`RATE_FACTOR` times).
    """
    series = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    position = np.arange(len(values)) - np.asarray(offsets)[:-1][series]
    train = position < np.asarray(n_rows)[series]
    counts = [int(np.isnan(values[train, j]).sum()) for j in columns]
    return np.asarray(counts, dtype=np.int64), int(train.sum())


def hide_rates(missing_share: np.ndarray) -> np.ndarray:
    """The share of observed inputs to hide per column, from its share of missing training
    values: ``RATE_FACTOR`` (2) times it, at most ``MAX_RATE`` (0.2)."""
    share = np.asarray(missing_share, dtype=np.float64)
    return np.clip(np.minimum(RATE_FACTOR * share, MAX_RATE), 0.0, 1.0)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a well-mixed uint64 of a uint64, element-wise."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def hash_uniform(
    seed: int, keys: np.ndarray, positions: np.ndarray, n_steps: int, n_columns: int
) -> np.ndarray:
    """Uniform draws in ``[0, 1)``, ``(N, n_steps, n_columns)``, a function of their key.

    Draw ``[n, i, k]`` depends only on ``seed``, ``keys[n]`` (uint64: the series),
    ``positions[n]`` (the window's start within its series), ``i`` and ``k``.
    """
    base = _mix(np.array([seed], dtype=np.uint64) ^ np.uint64(0x9E3779B97F4A7C15))
    key = _mix(base ^ np.asarray(keys, dtype=np.uint64))
    key = _mix(key ^ np.asarray(positions, dtype=np.int64).astype(np.uint64))[:, None, None]
    cell = np.arange(n_steps * n_columns, dtype=np.uint64).reshape(1, n_steps, n_columns)
    return (_mix(key ^ (cell + np.uint64(1))) >> np.uint64(11)).astype(np.float64) * 2.0**-53


class HiddenInputs:
    """Hides a share of the observed input values of each training window (module docstring).

    Called as ``hidden(windows (N, >= L, F + K), starts (N,))`` on windows of ``values``
    the :class:`~forecast.data.masking.CausalInputs` fix has seen; returns ``windows``
    itself when nothing is hidden, else a changed copy.

    Parameters
    ----------
    values : numpy.ndarray of shape (T, F + K)
        The inputs the windows are cut from (:func:`forecast.data.masking.augment`): the
        last observation before a window is read there.
    lags : numpy.ndarray of shape (T, K)
        :func:`observed_lags` of the masked columns.
    offsets : numpy.ndarray of shape (S + 1,)
        Where each series starts among the rows.
    keys : numpy.ndarray of shape (S,), uint64
        A key per series that does not depend on how the panel was read (a hash of its id).
    value_columns, channel_columns : numpy.ndarray of shape (K,)
        Input positions of each masked feature and of its observed channel.
    seq_len : int
        Input rows per window.
    rates : numpy.ndarray of shape (K,)
        Per masked column, the probability that an observed input value is hidden.
    seed : int
    """

    def __init__(
        self,
        values: np.ndarray,
        lags: np.ndarray,
        offsets: np.ndarray,
        keys: np.ndarray,
        value_columns: np.ndarray,
        channel_columns: np.ndarray,
        seq_len: int,
        rates: np.ndarray,
        seed: int,
    ) -> None:
        self.values = values
        self.lags = lags
        self.offsets = np.asarray(offsets, dtype=np.int64)
        self.keys = np.asarray(keys, dtype=np.uint64)
        self.value_columns = np.asarray(value_columns, dtype=np.int64)
        self.channel_columns = np.asarray(channel_columns, dtype=np.int64)
        self.seq_len = seq_len
        self.rates = np.asarray(rates, dtype=np.float64)
        self.seed = int(seed)

    def hidden(self, seen: np.ndarray, starts: np.ndarray) -> np.ndarray:
        """Which of the observed inputs ``seen (N, L, K)`` of the windows at ``starts`` to hide."""
        series = np.searchsorted(self.offsets, starts, side="right") - 1
        draw = hash_uniform(
            self.seed, self.keys[series], starts - self.offsets[series], *seen.shape[1:]
        )
        hide = seen & (draw < self.rates)
        # Each window keeps at least one observation of each column it observes.
        return hide & (seen & ~hide).any(axis=1, keepdims=True)

    def __call__(self, windows: np.ndarray, starts: np.ndarray) -> np.ndarray:
        """``windows (N, >= L, F + K)`` starting at rows ``starts (N,)``, some inputs hidden."""
        n_input = self.seq_len
        starts = np.asarray(starts, dtype=np.int64)
        seen = windows[:, :n_input, self.channel_columns] > 0.5  # (N, L, K)
        hide = self.hidden(seen, starts)
        fix = np.flatnonzero(hide.any(axis=(1, 2)))
        if not fix.size:
            return windows
        hide, starts = hide[fix], starts[fix]
        kept = seen[fix] & ~hide  # (n, L, K)
        steps = np.arange(n_input)
        x = windows[fix, :n_input][:, :, self.value_columns].astype(np.float64)
        out = np.array(windows, copy=True)
        out[np.ix_(fix, steps, self.value_columns)] = np.where(
            kept, x, self._impute(x, kept, starts)
        )
        channels = out[np.ix_(fix, steps, self.channel_columns)]
        out[np.ix_(fix, steps, self.channel_columns)] = np.where(hide, 0.0, channels)
        return out

    def _impute(self, x: np.ndarray, kept: np.ndarray, starts: np.ndarray) -> np.ndarray:
        """Every input of ``x (n, L, K)`` imputed from the ``kept`` ones and the window's past."""
        n_input = x.shape[1]
        step = np.arange(n_input)[None, :, None]
        left = np.maximum.accumulate(np.where(kept, step, -1), axis=1)
        right = np.minimum.accumulate(np.where(kept, step, n_input)[:, ::-1], axis=1)[:, ::-1]
        # The last observation before the window: ``lag`` rows before its start (0: none).
        lag = self.lags[starts].astype(np.int64)  # (n, K)
        past = self.values[np.maximum(starts[:, None] - lag, 0), self.value_columns[None, :]]
        has_left = (left >= 0) | (lag > 0)[:, None, :]
        has_right = right < n_input
        left_at = np.where(left >= 0, left, -lag[:, None, :])
        left_value = np.where(
            left >= 0, np.take_along_axis(x, np.maximum(left, 0), axis=1), past[:, None, :]
        )
        right_value = np.take_along_axis(x, np.minimum(right, n_input - 1), axis=1)
        line = left_value + (step - left_at) / np.maximum(right - left_at, 1) * (
            right_value - left_value
        )
        return np.where(
            has_left & has_right,
            line,
            np.where(has_left, left_value, np.where(has_right, right_value, x)),
        )
