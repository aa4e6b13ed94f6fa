"""``missing="mask"``: imputed inputs with observed channels, windows worth training on.

A panel converted with ``missing="mask"`` holds NaN where a value (or, after
:func:`forecast.data.gaps.insert_missing_rows`, a whole timestamp) is missing. A network
cannot read NaN, so each fit builds, once, an array of **inputs** beside the panel:

* every column with a missing value in the training data gets an **observed channel**, a
  0/1 column that is 1 where the value was observed (:func:`masked_columns`; a model fitted
  on complete data gets none, so it is exactly the model ``missing="raise"`` fits);
* missing values are **imputed** (:func:`impute`) *within the series* (never across
  series): a gap between two observations by linear interpolation between them, after a
  series' last observation that observation carried forward, before its first observation
  that first value (the level it starts at); a column never observed in a series is 0
  there (with its channel 0 throughout);
* an interpolated value reads the observation after its gap, which may lie after the end
  of a window's input (in the window's horizon, or later): :class:`CausalInputs` replaces
  those values in each gathered window by the last observation carried forward, so that no
  input reads a row after its window's cutoff (at fit as at predict);
* the input columns are ``targets, past covariates, observed channels, known-future
  covariates`` (the known-future ones stay last, where the head reads them).
* in training, each window also hides a share of its observed inputs (channel 0, value
  imputed as a missing one's), so that the network learns from observed targets what a
  gap costs: :mod:`forecast.data.hiding`.

Memory: one float32 array of ``T x (F + K)`` (the panel once more, plus K channels) for the
fit; the windows are views of it as before. :func:`observed_windows` lists the training
windows with at least one observed target in both their input and their horizon rows (8 +
4 bytes per window: int64 start, int32 series), the loss ignores the rest
(:func:`forecast.neural.objectives.masked_loss`), and :class:`MaskedScaler` computes every
statistic over observed values only. :class:`CausalInputs` holds ``T x K`` float32 (the
last observations), the hidden inputs ``T x K`` int32 (how far back the last one lies).

Symbols: T rows, F features, K observed channels, S series, N windows, L input length,
H horizon.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from forecast._exceptions import MissingHistoryError
from forecast.data.scaling import SeriesScaler, _safe_scale
from forecast.data.window_index import WindowIndex

__all__ = [
    "CausalInputs",
    "ListedWindows",
    "MaskedScaler",
    "augment",
    "carried",
    "check_observed",
    "impute",
    "input_positions",
    "last_observed",
    "masked_columns",
    "observed_windows",
]


def masked_columns(values: np.ndarray) -> np.ndarray:
    """Positions of the columns of ``values (T, F)`` with a missing (NaN) value."""
    return np.flatnonzero(np.isnan(values).any(axis=0))


def _neighbours(
    seen: np.ndarray, offsets: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per row of one column: the last observed row at or before it and the next at or
    after it, each within the row's series, and whether they exist.

    The index of the last observation is a running maximum (of the next one, a running
    minimum from the end); one outside the row's series belongs to another series and is
    not used: nothing is read across a series boundary.
    """
    n_rows = len(seen)
    row = np.arange(n_rows)
    series = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    begin, end = offsets[:-1][series], offsets[1:][series]  # (T,) each row's series
    last = np.maximum.accumulate(np.where(seen, row, -1))
    after = np.minimum.accumulate(np.where(seen, row, n_rows)[::-1])[::-1]
    return last, after, last >= begin, after < end


def impute(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``values`` with every NaN filled within its own series.

    Between two observations of the series, the straight line between them (linear
    interpolation in the row number, which is time on the series' regular grid); after the
    series' last observation, that observation carried forward; before its first
    observation, that first observation; 0 in a column the series never observes.

    Interpolation reads the observation after a gap. A window whose input ends inside a gap
    must not (it is in the window's future): :class:`CausalInputs` puts the last
    observation back there. Interpolation is used because a straight line between two
    observations is a closer guess of a missing value than the earlier one alone; on M3
    monthly with 10 % of the training values deleted, the forecasts' sMAPE moved from
    13.90, 13.88, 13.95 (last observation carried forward everywhere; seeds 0, 1, 2) to
    13.83, 13.89, 13.89 (``benchmarks/RESULTS.md``): a small gain, within the seeds' spread.
    """
    missing = np.isnan(values)
    if not missing.any():
        return values
    row = np.arange(len(values))
    out = np.array(values, copy=True)
    for j in np.flatnonzero(missing.any(axis=0)):
        column = values[:, j]
        last, after, has_last, has_after = _neighbours(~missing[:, j], offsets)
        source = np.where(has_last, last, np.where(has_after, after, -1))
        filled = np.where(source >= 0, column[np.maximum(source, 0)], 0.0)
        inside = has_last & has_after & missing[:, j]  # a gap between two observations
        lo, hi = last[inside], after[inside]
        filled[inside] = column[lo] + (row[inside] - lo) / (hi - lo) * (column[hi] - column[lo])
        out[:, j] = filled
    return out


def carried(values: np.ndarray, offsets: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """The last observation at or before each row, within its series, of ``columns``.

    ``(T, K)`` float32; NaN before a series' first observation (nothing is known yet).
    """
    out = np.full((len(values), len(columns)), np.nan, dtype=np.float32)
    for k, j in enumerate(columns):
        column = values[:, j]
        last, _, has_last, _ = _neighbours(~np.isnan(column), offsets)
        out[has_last, k] = column[last[has_last]]
    return out


class CausalInputs:
    """Puts the last observation back where an input's interpolation read past its window.

    In a gathered window, an imputed input row with no observation of its column at or
    after it (up to the window's last input row) lies in a gap that runs past the window's
    cutoff: :func:`impute`'s interpolation there read a row the window must not see. Such
    rows get :func:`carried`'s value (the last observation before them in the series, which
    may lie before the window) instead; rows before the series' first observation keep
    their imputed value (the first observation's level). Applied to each batch at fit
    (:class:`forecast.data.windowing.WindowDataset`) and to each forecast's input at predict
    (``NetworkRunner``), so both read the same inputs.

    Parameters
    ----------
    carried : numpy.ndarray of shape (T, K)
        :func:`carried` of the masked columns, rows as in the inputs' array.
    value_columns, channel_columns : numpy.ndarray of shape (K,)
        Input positions of each masked feature and of its observed channel.
    seq_len : int
        Input rows per window (the rows after them are the horizon: not inputs).
    """

    def __init__(
        self,
        carried: np.ndarray,
        value_columns: np.ndarray,
        channel_columns: np.ndarray,
        seq_len: int,
    ) -> None:
        self.carried = carried
        self.value_columns = np.asarray(value_columns, dtype=np.int64)
        self.channel_columns = np.asarray(channel_columns, dtype=np.int64)
        self.seq_len = seq_len

    def __call__(self, windows: np.ndarray, starts: np.ndarray) -> np.ndarray:
        """``windows (N, >= L, F + K)`` starting at rows ``starts (N,)``, made causal.

        Returns ``windows`` itself when nothing changes, else a changed copy.
        """
        seen = windows[:, : self.seq_len, self.channel_columns] > 0.5  # (N, L, K)
        return _carry_where_unseen_later(
            windows, starts, seen, self.carried, self.value_columns, self.seq_len
        )


class CausalColumns:
    """:class:`CausalInputs` for imputed columns that have no observed channel.

    A model fitted on data where a column was complete has no channel for it; when that
    column has gaps at predict, in a backtest or in a calibration, :func:`impute` fills it
    as any other, and the same fix applies, with where it was observed taken from the data
    (``observed``, ``(T, K)`` bool) instead of from a channel among the inputs.
    """

    def __init__(
        self, observed: np.ndarray, carried: np.ndarray, value_columns: np.ndarray, seq_len: int
    ) -> None:
        self.observed = observed
        self.carried = carried
        self.value_columns = np.asarray(value_columns, dtype=np.int64)
        self.seq_len = seq_len

    def __call__(self, windows: np.ndarray, starts: np.ndarray) -> np.ndarray:
        """As :meth:`CausalInputs.__call__`."""
        rows = np.asarray(starts, dtype=np.int64)[:, None] + np.arange(self.seq_len)
        return _carry_where_unseen_later(
            windows, starts, self.observed[rows], self.carried, self.value_columns, self.seq_len
        )


def _carry_where_unseen_later(
    windows: np.ndarray,
    starts: np.ndarray,
    seen: np.ndarray,
    carried: np.ndarray,
    value_columns: np.ndarray,
    n_input: int,
) -> np.ndarray:
    """``windows`` with each input row whose column is not ``seen`` (N, L, K) at it or at a
    later input row given ``carried``'s value (where there is one); a copy when any is."""
    # True where the column is observed at this row or a later input row of the window.
    later = np.logical_or.accumulate(seen[:, ::-1], axis=1)[:, ::-1]
    fix = np.flatnonzero((~later).any(axis=(1, 2)))
    if not fix.size:
        return windows
    rows = np.asarray(starts, dtype=np.int64)[fix, None] + np.arange(n_input)  # (n, L)
    known = carried[rows]  # (n, L, K)
    use = ~later[fix] & ~np.isnan(known)
    out = np.array(windows, copy=True)
    block = out[fix, :n_input][:, :, value_columns]
    out[np.ix_(fix, np.arange(n_input), value_columns)] = np.where(use, known, block)
    return out


def input_positions(n_features: int, n_future: int, channels: np.ndarray) -> np.ndarray:
    """Where each of the ``F`` features sits among the ``F + K`` input columns."""
    k = len(channels)
    positions = np.arange(n_features)
    positions[n_features - n_future :] += k  # known-future covariates stay last
    return positions


def augment(
    values: np.ndarray, offsets: np.ndarray, channels: np.ndarray, n_future: int
) -> np.ndarray:
    """The network's inputs ``(T, F + K)`` float32: imputed features and observed channels.

    ``channels``: the feature columns that get an observed channel (``K``), in order.
    Columns: ``values[:, :F - C]`` imputed, the K channels, the C known-future covariates
    imputed.
    """
    n_rows, n_features = values.shape
    split = n_features - n_future
    out = np.empty((n_rows, n_features + len(channels)), dtype=np.float32)
    filled = impute(values, offsets)
    out[:, :split] = filled[:, :split]
    out[:, split : split + len(channels)] = ~np.isnan(values[:, channels])
    out[:, split + len(channels) :] = filled[:, split:]
    return out


class ListedWindows(WindowIndex):
    """Windows listed one by one (the ones :func:`observed_windows` keeps)."""

    def __init__(self, starts: np.ndarray, series: np.ndarray) -> None:
        self.starts = np.asarray(starts, dtype=np.int64)
        self.series = np.asarray(series, dtype=np.int32)

    def __len__(self) -> int:
        return len(self.starts)

    def locate(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        positions = np.asarray(positions, dtype=np.int64)
        return self.starts[positions], self.series[positions]


def observed_windows(
    index: WindowIndex,
    observed: np.ndarray,
    seq_len: int,
    horizon: int,
    target_ends: np.ndarray | None = None,
) -> ListedWindows:
    """The windows of ``index`` with an observed target in their input and horizon rows.

    ``observed (T,)``: whether any target is observed in each row. A window without one in
    its horizon has nothing to learn (its loss would be 0/0); one without one in its input
    has no level to scale by or forecast from, as :func:`check_observed` refuses at predict.
    ``target_ends (S,)``: where each series' targets end, for windows listed past it
    (``partial_horizons``): only the target rows before it count.
    """
    starts, series = index.locate(np.arange(len(index), dtype=np.int64))
    count = np.concatenate([[0], np.cumsum(observed, dtype=np.int64)])  # (T + 1,)
    in_input = count[starts + seq_len] - count[starts]
    stop = starts + seq_len + horizon
    if target_ends is not None:
        stop = np.minimum(stop, target_ends[series])
    in_horizon = count[stop] - count[starts + seq_len]
    keep = (in_input > 0) & (in_horizon > 0)
    return ListedWindows(starts[keep], series[keep])


def check_observed(
    values: np.ndarray,
    ends: np.ndarray,
    seq_len: int,
    n_targets: int,
    label: Callable[[int], str],
) -> None:
    """Refuse forecasts whose input rows (the ``seq_len`` before ``ends``) miss a target.

    Raises
    ------
    MissingHistoryError
        Naming the first such series, the target and how many others there are.
    """
    observed = ~np.isnan(values[:, :n_targets])  # (T, T_targets)
    count = np.concatenate([np.zeros((1, n_targets), np.int64), np.cumsum(observed, axis=0)])
    empty = (count[ends] - count[ends - seq_len]) == 0  # (N, T_targets)
    bad = np.flatnonzero(empty.any(axis=1))
    if bad.size:
        i = int(bad[0])
        names = sorted({label(int(b)) for b in bad})
        raise MissingHistoryError(
            f"The last seq_len={seq_len} steps of {label(i)} (the window a forecast reads) "
            f"hold no observed value of target {int(np.argmax(empty[i]))} (of {n_targets}): "
            f"there is nothing to forecast it from. {len(names)} series are so: "
            f"{names[:10]}. Pass a history that ends with observations, or leave those "
            "series out.",
            series=names,
        )


class MaskedScaler(SeriesScaler):
    """A :class:`~forecast.data.scaling.SeriesScaler` whose statistics see observed values only.

    Inputs are ``(.., F + K)`` windows of :func:`augment`. The observed channels pass
    unscaled (location 0, scale 1: they stay 0/1, which the loss mask reads). Per-series
    statistics are fitted on the observed training values (:meth:`fit_observed`); per-window
    ones on the observed input rows of each window (a column with none in a window falls
    back to the window's imputed values).

    Parameters
    ----------
    method : {"standard", "minmax", "window", "window_level", "window_diff", None}
    value_columns, channel_columns : numpy.ndarray of shape (K,)
        Input positions of each masked feature and of its observed channel.
    """

    def __init__(
        self, method: str | None, value_columns: np.ndarray, channel_columns: np.ndarray
    ) -> None:
        super().__init__(method)
        self.value_columns = np.asarray(value_columns, dtype=np.int64)
        self.channel_columns = np.asarray(channel_columns, dtype=np.int64)

    def fit_observed(
        self,
        values: np.ndarray,
        offsets: np.ndarray,
        n_rows: np.ndarray,
        positions: np.ndarray,
        n_inputs: int,
    ) -> MaskedScaler:
        """Fit on the observed values among the first ``n_rows[s]`` rows of each series.

        ``values (T, F)`` hold NaN where missing; ``positions`` place its columns among the
        ``n_inputs`` input columns (:func:`input_positions`). A column a series never
        observes in its training part gets location 0 and scale 1. Takes a float64 copy of
        the training rows (the statistics of :class:`SeriesScaler` are float64 too).
        """
        n_series = len(offsets) - 1
        self.loc_ = np.zeros((n_series, n_inputs))
        self.scale_ = np.ones((n_series, n_inputs))
        if self.method not in ("standard", "minmax"):
            return self
        n_rows = np.asarray(n_rows, dtype=np.int64)
        series = np.repeat(np.arange(n_series), np.diff(offsets))
        train = (np.arange(len(values)) - offsets[:-1][series]) < n_rows[series]
        rows, owner = values[train].astype(np.float64), series[train]  # series blocks in order
        starts = np.cumsum(n_rows) - n_rows
        for j, p in enumerate(positions):
            column = rows[:, j]
            seen = ~np.isnan(column)
            count = np.bincount(owner, weights=seen, minlength=n_series)
            some = count > 0
            if self.method == "standard":
                total = np.bincount(owner, weights=np.where(seen, column, 0.0), minlength=n_series)
                loc = total / np.maximum(count, 1)
                dev = np.where(seen, column - loc[owner], 0.0)
                spread = np.sqrt(np.bincount(owner, weights=dev * dev, minlength=n_series))
                spread /= np.sqrt(np.maximum(count, 1))
            else:
                loc = np.fmin.reduceat(column, starts)  # fmin/fmax skip NaN
                spread = np.fmax.reduceat(column, starts) - loc
            self.loc_[:, p] = np.where(some, loc, 0.0)
            self.scale_[:, p] = np.where(some, _safe_scale(np.nan_to_num(spread)), 1.0)
        return self

    def window_stats(self, x: np.ndarray, series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        loc, scale = super().window_stats(x, series)
        if self.method not in ("window", "window_level", "window_diff"):
            return loc, scale  # fitted: channels got 0 and 1 at fit
        loc, scale = loc.copy(), scale.copy()
        seen = x[:, :, self.channel_columns] > 0.5  # (N, L, K)
        vals = x[:, :, self.value_columns].astype(np.float64)
        count = seen.sum(axis=1, keepdims=True)  # (N, 1, K)
        some = count > 0
        n = np.maximum(count, 1)
        mean = np.where(seen, vals, 0.0).sum(axis=1, keepdims=True) / n
        level = np.where(seen, np.abs(vals), 0.0).sum(axis=1, keepdims=True) / n
        if self.method == "window":
            dev = np.where(seen, vals - mean, 0.0)
            spread = np.sqrt((dev * dev).sum(axis=1, keepdims=True) / n)
        elif self.method == "window_diff":  # changes between observed neighbours only
            both = seen[:, 1:] & seen[:, :-1]
            pairs = both.sum(axis=1, keepdims=True)
            steps = np.where(both, np.abs(np.diff(vals, axis=1)), 0.0).sum(axis=1, keepdims=True)
            # No two neighbours observed: no step to measure; the level's spread instead, so
            # that the window is not left in raw units (scale 1) among scaled ones.
            spread = np.where(pairs > 0, steps / np.maximum(pairs, 1), level)
        else:
            spread = level
        cols = self.value_columns
        loc[:, :, cols] = np.where(some, mean, loc[:, :, cols])
        scale[:, :, cols] = np.where(some, _safe_scale(spread), scale[:, :, cols])
        loc[:, :, self.channel_columns] = 0.0
        scale[:, :, self.channel_columns] = 1.0
        return loc, scale

    def window_level(self, x: np.ndarray) -> np.ndarray:
        """The level of each window's observed input values (all of them where a column has
        none observed in a window), ``(N, 1, F + K)``."""
        level = super().window_level(x)
        seen = x[:, :, self.channel_columns] > 0.5  # (N, L, K)
        values = np.abs(x[:, :, self.value_columns].astype(np.float64))
        count = seen.sum(axis=1, keepdims=True)
        observed = np.where(seen, values, 0.0).sum(axis=1, keepdims=True) / np.maximum(count, 1)
        cols = self.value_columns
        level[:, :, cols] = np.where(count > 0, observed, level[:, :, cols])
        return level


def last_observed(values: np.ndarray, offsets: np.ndarray, lag: int = 1) -> np.ndarray:
    """Row of the last observation at or before each row, ``lag`` steps apart, ``(T, F)``.

    For row ``r`` and column ``j``: ``r`` if ``values[r, j]`` is observed, else the last
    observed row among ``r - lag, r - 2 lag, ...`` of the same series, else -1. With
    ``lag=1`` the last observation carried forward; with a season length, the last
    observation at the same phase of the season (what a seasonal naive forecast repeats).
    """
    n_rows = len(values)
    series = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    position = np.arange(n_rows) - offsets[:-1][series]
    # Chains of rows of one series and one phase, one after the other: (series, phase, time).
    order = np.lexsort((position, position % lag, series))
    chain = series[order] * lag + position[order] % lag
    chain_start = np.flatnonzero(np.r_[True, chain[1:] != chain[:-1]])
    begin = np.repeat(chain_start, np.diff(np.r_[chain_start, n_rows]))  # (T,) in chain order
    out = np.empty(values.shape, dtype=np.int64)
    steps = np.arange(n_rows)
    for j in range(values.shape[1]):
        seen = ~np.isnan(values[order, j])
        last = np.maximum.accumulate(np.where(seen, steps, -1))
        source = np.where(last >= begin, order[np.maximum(last, 0)], -1)
        out[order, j] = source
    return out
