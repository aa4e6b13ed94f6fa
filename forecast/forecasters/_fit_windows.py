"""The windows a recurrent model trains and validates on, and the rows a series needs for them.

Every fit lists its windows here: in memory (:meth:`RNNForecaster._fit`), masked
(:mod:`forecast.forecasters._masking`) and from Parquet parts
(:mod:`forecast.forecasters._partitioned`), so that all three train on the same windows.

**Partial horizons** (``partial_horizons=True``). A training window is ``seq_len`` input rows
and ``horizon`` target rows of one series. By default every target row lies in the series'
training part, so its last ``horizon - 1`` rows are never an input, and a series needs
``seq_len + horizon`` rows. With partial horizons the windows whose horizon runs past the
training part's end are trained on too, their missing targets left out of the loss (as
N-BEATS samples its training windows): a series needs ``seq_len + 1`` rows, and the most
recent inputs are learnt from. Validation windows stay whole (their targets are the
validation tail), and a window never reads a validation row: its rows past the end read as
the last training row, masked (:class:`forecast.data.windowing.WindowDataset`).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from forecast._exceptions import InvalidParameterError
from forecast._validation import check_bool
from forecast.data.window_index import WindowIndex

__all__ = [
    "FitWindows",
    "check_partial_horizons",
    "fit_windows",
    "min_training_rows",
    "partial_horizons",
    "too_short",
]


def check_partial_horizons(model: Any) -> None:
    """Refuse ``partial_horizons`` that is not a bool, or that comes with known-future
    covariates (a window past a series' end has no known-future values there)."""
    check_bool(model, "partial_horizons", model.partial_horizons)
    if model.partial_horizons and model.future_covariates:
        raise InvalidParameterError(
            f"{type(model).__name__}(partial_horizons=True) cannot read future_covariates="
            f"{model.future_covariates!r}: a window whose horizon runs past a series' end "
            "has no known-future values there. Set partial_horizons=False, or drop the "
            "known-future covariates."
        )


def partial_horizons(model: Any) -> bool:
    """Whether ``model`` trains on windows whose horizon runs past the training part."""
    return bool(getattr(model, "partial_horizons", False))


def min_training_rows(model: Any) -> int:
    """Rows of one training window: ``seq_len + horizon``, or ``seq_len + 1`` with partial
    horizons (a series also needs its validation tail)."""
    return int(model.seq_len + (1 if partial_horizons(model) else model.horizon))


def too_short(model: Any, lengths: np.ndarray, val_rows: np.ndarray | None = None) -> np.ndarray:
    """Which series of these ``lengths`` ``(S,)`` have too few rows for one training window
    plus their validation tail (``val_rows`` ``(S,)``, by default the model's): what
    ``drop_short`` drops, and what :func:`~forecast.forecasters._short_series.trainable_series`
    refuses without it."""
    if val_rows is None:
        val_rows = model._validation_rows(lengths)
    return np.asarray(lengths < min_training_rows(model) + val_rows)


class FitWindows(NamedTuple):
    """The windows of a fit (see :func:`fit_windows`)."""

    train: WindowIndex
    val: WindowIndex
    train_ends: np.ndarray | None  # (S,) or None without partial horizons


def fit_windows(model: Any, offsets: np.ndarray, val_rows: np.ndarray) -> FitWindows:
    """The windows of ``model``'s fit on series at ``offsets``, with validation tails
    ``val_rows`` ``(S,)``.

    ``train``: they end before each validation tail (with partial horizons, up to
    ``horizon - 1`` of their target rows run past it). ``val``: their targets are inside
    it. ``train_ends``: per series, the row where training targets end (the tail's start),
    for :class:`~forecast.data.windowing.WindowDataset` to mask the rows past it; ``None``
    without partial horizons.
    """
    lengths = np.diff(offsets)
    partial = partial_horizons(model)
    train = WindowIndex.build(
        offsets,
        model.seq_len,
        model.horizon,
        end_margin=val_rows,
        past_end=model.horizon - 1 if partial else 0,
    )
    val = WindowIndex.build(offsets, model.seq_len, model.horizon, first_target=lengths - val_rows)
    ends = np.asarray(offsets[1:] - val_rows, dtype=np.int64) if partial else None
    return FitWindows(train, val, ends)
