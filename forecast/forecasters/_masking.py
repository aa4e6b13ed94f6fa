"""``missing="mask"`` for a recurrent forecaster: its training inputs, and its forecasts' inputs.

:class:`~forecast.RNNForecaster` calls :func:`masked_training` in ``_fit`` and
:func:`masked_panel` / :func:`check_fitted` before forecasting; the arrays and
statistics are :mod:`forecast.data.masking`'s.

**Which columns get an observed channel.** Those with a missing value in the training data
(after missing timestamps became NaN rows), named in the fitted attribute
``missing_columns_`` and saved with the model. A masked fit on complete data therefore adds
none and trains exactly the network ``missing="raise"`` trains (the same inputs, windows,
scaler, loss and random draws: bitwise the same forecasts on CPU). At predict time a column
with missing values but no channel (it was complete at fit) is imputed the same way, with
a warning naming it: the network never learnt to discount imputed values there.

**Training hides some observed inputs.** Each training window hides a share of its
observed input values (their channel 0, their value imputed from the rest), per column the
twice the share of that column's training values that are missing, at most a fifth
(:mod:`forecast.data.hiding`):
validation windows and forecasts read the data as it is, and a fit on complete data
(no channel) hides nothing.

Symbols: T rows, F features, K observed channels, N forecasts, L input length.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from forecast._exceptions import DataError, MissingHistoryError
from forecast._validation import series_name
from forecast._warnings import warn
from forecast.data import hiding
from forecast.data.masking import (
    CausalColumns,
    CausalInputs,
    MaskedScaler,
    augment,
    carried,
    check_observed,
    input_positions,
    masked_columns,
    observed_windows,
)
from forecast.data.panel import Panel
from forecast.data.scaling import SeriesScaler
from forecast.data.window_index import WindowIndex
from forecast.forecasters._fit_windows import fit_windows
from forecast.forecasters._network_forecast import WindowFix

__all__ = [
    "MaskedTraining",
    "check_fitted",
    "masked_panel",
    "masked_training",
    "restored_scaler",
    "target_channels",
]


@dataclass(frozen=True)
class MaskedTraining:
    """What a masked fit trains on, when values are missing.

    Attributes
    ----------
    values : numpy.ndarray of shape (T, F + K), float32
        Imputed features and observed channels (:func:`forecast.data.masking.augment`).
    scaler : MaskedScaler
    train, val : WindowIndex
        The windows with an observed target in their input and horizon rows.
    target_channels : list of int
        Per target, the input column of its observed channel, or -1.
    missing_columns : list of str
        The features with an observed channel, in input order.
    causal : CausalInputs
        For each batch: the interpolated inputs that read past the window's cutoff.
    hidden : HiddenInputs or None
        For each training batch: some observed inputs hidden (None: none are).
    """

    values: np.ndarray
    scaler: MaskedScaler
    train: WindowIndex
    val: WindowIndex
    target_channels: list[int]
    missing_columns: list[str]
    causal: CausalInputs
    hidden: hiding.HiddenInputs | None

    def train_inputs(self, windows: np.ndarray, starts: np.ndarray) -> np.ndarray:
        """A training batch's inputs: the causal fix, then some observed inputs hidden."""
        windows = self.causal(windows, starts)
        return windows if self.hidden is None else self.hidden(windows, starts)

    def inputs(self, stage: str) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        """The fix of a batch's windows for ``stage``: ``"train"`` hides inputs, the
        validation batches read the data as it is (its causal fix only)."""
        return self.train_inputs if stage == "train" else self.causal


def _layout(
    features: list[str], n_future: int, names: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Channels' features, every feature's input position, channels' input positions."""
    channels = np.array([features.index(n) for n in names], dtype=np.int64)
    positions = input_positions(len(features), n_future, channels)
    split = len(features) - n_future
    return channels, positions, split + np.arange(len(channels))


def target_channels(
    features: list[str], n_future: int, targets: list[str], names: list[str]
) -> list[int]:
    """Per target, the input column of its observed channel (-1: it has none)."""
    _, _, channel_cols = _layout(features, n_future, names)
    where = dict(zip(names, channel_cols.tolist(), strict=True))
    return [where.get(t, -1) for t in targets]


def masked_training(
    panel: Panel,
    model: Any,
    names: list[str] | None = None,
    missing_share: np.ndarray | None = None,
) -> MaskedTraining | None:
    """The inputs, scaler and windows of ``model``'s masked fit; None when nothing is missing.

    ``names``: the features to give an observed channel (default: those with a missing
    value in ``panel``); a fit from parts gives every rank the columns missing in any part,
    and ``missing_share``, each one's share of missing training values over all parts
    (default: in ``panel``). ``model.seed_`` keys the hidden inputs' draws.

    Raises
    ------
    DataError
        A series whose training part never observes a target: nothing to learn from it.
    """
    if names is None:
        channels = masked_columns(panel.values)
    else:
        channels = np.asarray([panel.feature_names.index(n) for n in names], dtype=np.int64)
    if not channels.size:
        return None
    n_targets = len(panel.target_names)
    lengths = panel.lengths
    val_rows = model._validation_rows(lengths)
    method, seq_len, horizon = model.scaler, model.seq_len, model.horizon
    observed = ~np.isnan(panel.values[:, :n_targets]).all(axis=1)  # (T,) any target seen
    count = np.concatenate([[0], np.cumsum(observed, dtype=np.int64)])
    seen = count[panel.offsets[:-1] + lengths - val_rows] - count[panel.offsets[:-1]]
    never = np.flatnonzero(seen == 0)
    if never.size:
        raise DataError(
            "No target value is observed in the training part of some series (observed "
            f"rows: {panel.describe(never, seen[never])}): there is nothing to learn from "
            "them. Drop those series."
        )
    names = [panel.feature_names[j] for j in channels]
    n_future = len(panel.future_names)
    channels, positions, channel_cols = _layout(panel.feature_names, n_future, names)
    values = augment(panel.values, panel.offsets, channels, n_future)
    scaler = MaskedScaler(method, positions[channels], channel_cols).fit_observed(
        panel.values, panel.offsets, lengths - val_rows, positions, values.shape[1]
    )
    if missing_share is None:
        counts, n_rows = hiding.missing_counts(
            panel.values, panel.offsets, lengths - val_rows, channels
        )
        missing_share = counts / max(n_rows, 1)
    train, val, train_ends = fit_windows(model, panel.offsets, val_rows)
    return MaskedTraining(
        values=values,
        scaler=scaler,
        train=observed_windows(train, observed, seq_len, horizon, train_ends),
        val=observed_windows(val, observed, seq_len, horizon),
        target_channels=target_channels(panel.feature_names, n_future, panel.target_names, names),
        missing_columns=names,
        causal=_causal(panel, channels, positions, channel_cols, seq_len),
        hidden=_hidden(panel, values, channels, positions, channel_cols, model, missing_share),
    )


def _hidden(
    panel: Panel,
    values: np.ndarray,
    channels: np.ndarray,
    positions: np.ndarray,
    channel_cols: np.ndarray,
    model: Any,
    missing_share: np.ndarray,
) -> hiding.HiddenInputs | None:
    """What a masked fit hides of its training inputs (None: nothing)."""
    rates = hiding.hide_rates(missing_share)
    if not (rates > 0).any():
        return None
    # A key per series from its id, so that a fit from parts draws as one process does.
    ids = np.asarray([str(i) for i in panel.ids], dtype=object)
    return hiding.HiddenInputs(
        values,
        hiding.observed_lags(panel.values, panel.offsets, channels),
        panel.offsets,
        pd.util.hash_array(ids),
        positions[channels],
        channel_cols,
        model.seq_len,
        rates,
        model.seed_,
    )


def _causal(
    panel: Panel,
    channels: np.ndarray,
    positions: np.ndarray,
    channel_cols: np.ndarray,
    seq_len: int,
) -> CausalInputs:
    """The causal fix of windows of ``panel``'s inputs (:class:`CausalInputs`)."""
    known = carried(panel.values, panel.offsets, channels)
    return CausalInputs(known, positions[channels], channel_cols, seq_len)


def restored_scaler(model: Any, metadata: dict[str, Any]) -> SeriesScaler:
    """A loaded model's scaler (statistics still to set): masked when it has channels.

    Model files written before ``missing=`` existed have no ``missing_columns``: none.
    """
    names = list(metadata.get("missing_columns", []))
    model.missing_columns_ = names
    if not names:
        return SeriesScaler(metadata["scaler"])
    features = list(model.feature_names_in_)
    channels, positions, channel_cols = _layout(features, len(model.future_names_), names)
    return MaskedScaler(metadata["scaler"], positions[channels], channel_cols)


def masked_panel(
    model: Any, panel: Panel, series: np.ndarray, ends: np.ndarray
) -> tuple[Panel, WindowFix | None]:
    """``panel`` with the inputs ``model`` reads, checked for forecasts from ``ends``, and
    the causal fix of its windows (:class:`CausalInputs`, and :class:`CausalColumns` for
    imputed columns without a channel; None when nothing is imputed).

    Unchanged for a model with ``missing="raise"`` (its panels hold no NaN).

    Raises
    ------
    MissingHistoryError
        A forecast whose ``seq_len`` input rows observe no value of a target.
    """
    if model.missing != "mask":
        return panel, None
    names, seq_len = model.missing_columns_, model.seq_len
    nan_columns = masked_columns(panel.values)
    if not nan_columns.size and not names:
        return panel, None
    n_targets = len(panel.target_names)
    check_observed(
        panel.values, ends, seq_len, n_targets, lambda i: panel.series_label(int(series[i]))
    )
    # Columns with missing values but no observed channel (complete at fit): positions, names.
    no_channel = np.array([j for j in nan_columns if panel.feature_names[j] not in names], int)
    unmasked = [panel.feature_names[j] for j in no_channel]
    if unmasked:
        warn(
            f"Columns {unmasked} have missing values but were complete at fit, so the model "
            "has no observed channel for them: they are imputed (within each series, as the "
            "masked columns are) and read as if observed. Refit on data with gaps in "
            "those columns for a model that discounts them."
        )
    channels, positions, channel_cols = _layout(panel.feature_names, len(panel.future_names), names)
    values = augment(panel.values, panel.offsets, channels, len(panel.future_names))
    fixes: list[WindowFix] = []
    if names:
        fixes.append(_causal(panel, channels, positions, channel_cols, seq_len))
    if unmasked:  # imputed too: no input may read past its window's cutoff through them
        observed = ~np.isnan(panel.values[:, no_channel])
        known = carried(panel.values, panel.offsets, no_channel)
        fixes.append(CausalColumns(observed, known, positions[no_channel], seq_len))
    return replace(panel, values=values), _chained(fixes)


def _chained(fixes: list[WindowFix]) -> WindowFix | None:
    """One fix applying ``fixes`` in turn (they change different columns); None for none."""
    if len(fixes) < 2:
        return fixes[0] if fixes else None

    def fix(windows: np.ndarray, starts: np.ndarray) -> np.ndarray:
        for one in fixes:
            windows = one(windows, starts)
        return windows

    return fix


def check_fitted(model: Any) -> None:
    """Refuse forecasts from fitted last windows ``(S, L, F + K)`` that observe no target."""
    names = model.missing_columns_  # set by fit and by load (restored_scaler)
    if not names:
        return
    features, targets = list(model.feature_names_in_), model.target_names_
    channels = target_channels(features, len(model.future_names_), targets, names)
    cols = [c for c in channels if c >= 0]
    if not cols:
        return
    last_window, ids = model.last_window_, model.series_ids_

    def label(i: int) -> str:
        return "the series" if ids == [None] else series_name(ids[i])

    empty = (last_window[:, :, cols] <= 0.5).all(axis=1).any(axis=1)  # (S,)
    bad = np.flatnonzero(empty)
    if bad.size:
        names = [label(int(i)) for i in bad]
        raise MissingHistoryError(
            f"The last {last_window.shape[1]} steps (seq_len) of {names[0]} hold no observed "
            f"target value: there is nothing to forecast it from. {len(names)} series are "
            f"so: {names[:10]}. Pass a newer history (predict(df)) that ends with "
            "observations, or leave those series out.",
            series=names,
        )
