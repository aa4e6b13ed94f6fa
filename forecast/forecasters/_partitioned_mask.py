"""``missing="mask"`` from Parquet parts: the inputs, windows and scalers one process has.

A masked fit (:mod:`forecast.forecasters._masking`) gives every feature with a missing value
an observed channel (so the network's input size depends on the whole panel), turns
missing timestamps into NaN rows (so a series has more rows than its part's id column
counts) and trains only on windows with an observed target in their input and horizon (so
each series' window count depends on its values). A fit from parts sizes the network and
numbers every window in the calling process, before any rank reads its parts; so:

**A first pass over the parts** (:func:`mask_plan`) reads each part alone, converts it as a
rank would (the same series selection), and keeps, per part, the columns with a missing
value and each series' training and validation window count after the observed-window
filter. Under a process group each rank reads its own parts and the results are gathered;
otherwise (``ddp_spawn``: the calling process has none; ``"ddp"``: not yet up before the
first fit) one process reads every part in turn. Memory: one part, plus two counts per
series. Time: the data is read once more.

**In each rank** the masked training inputs are built as one process builds them
(:func:`~forecast.forecasters._masking.masked_training`) but with the channels of the whole
panel (a rank whose parts are complete in a column another rank's are not still feeds the
network that column's observed channel, all ones); the observed-only scaling statistics
are per series, hence local, and gathered as the plain ones; the causal inputs
(:class:`~forecast.data.masking.CausalInputs`) and the window list are per series too. The
share of training inputs hidden (:mod:`forecast.data.hiding`) is each column's share of
missing training values over the whole panel (counted in the first pass), and the draws are
keyed by series id and position, so each rank hides what one process hides of its series.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from forecast.data.hiding import missing_counts
from forecast.data.masking import masked_columns, observed_windows
from forecast.data.panel import Panel
from forecast.data.parts import Parts, assign, read_parts
from forecast.data.window_index import WindowIndex
from forecast.forecasters._fit_windows import fit_windows, too_short

__all__ = ["MaskPlan", "mask_plan", "series_cumulative"]


@dataclass(frozen=True)
class MaskPlan:
    """What a masked fit from parts knows before any rank reads: the columns that get an
    observed channel (feature order) and each series' window counts, canonical order."""

    names: list[str]
    counts: dict[str, np.ndarray]  # stage ("train", "val") -> (S,) windows of each series
    missing_share: np.ndarray  # (K,) each channel's share of missing training values


def mask_plan(
    model: Any,
    source: Parts,
    order: np.ndarray,
    features: list[str],
    convert: Callable[[pd.DataFrame], Panel],
    distributed: Callable[[], tuple[int, int]],
    gather: Callable[[Any, int], list[Any]],
) -> MaskPlan | None:
    """The first pass over the parts of a masked fit (None without ``missing="mask"``).

    ``order``: the scan's series in canonical order; ``features``: the panel's feature names;
    ``convert``: a frame of parts to the panel its rank makes of it.
    """
    if model.missing != "mask":
        return None
    rank, world = distributed()
    mine = np.flatnonzero(assign(source.file_rows, world) == rank)
    local = [_part_plan(model, convert(read_parts(source, [source.files[f]]))) for f in mine]
    found = [part for parts in gather(local, world) for part in parts]
    missing = {name for names, _, _ in found for name in names}
    counts = {key: value for _, part, _ in found for key, value in part.items()}
    tally = [t for _, _, t in found if t is not None]  # (F + 1,): missing per feature, rows
    total = np.sum(tally, axis=0) if tally else np.zeros(len(features) + 1)
    ids = [source.ids[p] for p in order]
    pairs = np.asarray([counts.get(key, (0, 0)) for key in ids], dtype=np.int64).reshape(-1, 2)
    names = [name for name in features if name in missing]
    share = total[[features.index(n) for n in names]] / max(total[-1], 1)
    return MaskPlan(
        names=names,
        counts={"train": pairs[:, 0], "val": pairs[:, 1]},
        missing_share=np.asarray(share, dtype=np.float64),
    )


def _part_plan(
    model: Any, panel: Panel
) -> tuple[list[str], dict[Any, tuple[int, int]], np.ndarray | None]:
    """One part's columns with a missing value, its series' window counts, as its rank
    will find them (``_Shard._read``: the same conversion and series selection), and its
    missing training values per feature followed by its training rows, ``(F + 1,)``."""
    if model.drop_short and too_short(model, panel.lengths).all():
        return [], {}, None  # its rank drops them all
    with warnings.catch_warnings():  # the rank warns about the series it drops
        warnings.simplefilter("ignore")
        panel = model._select_series(panel)
    names = [panel.feature_names[j] for j in masked_columns(panel.values)]
    train, val = _observed(model, panel)
    train_rows = panel.lengths - model._validation_rows(panel.lengths)
    n_features = len(panel.feature_names)
    pairs = zip(
        np.bincount(train.series, minlength=panel.n_series).tolist(),
        np.bincount(val.series, minlength=panel.n_series).tolist(),
        strict=True,
    )
    counts, n_rows = missing_counts(panel.values, panel.offsets, train_rows, np.arange(n_features))
    tally = np.append(counts, n_rows)
    return names, dict(zip(panel.ids, pairs, strict=True)), tally


def _observed(model: Any, panel: Panel) -> tuple[Any, Any]:
    """The training and validation windows a masked fit keeps (``masked_training``'s)."""
    lengths = panel.lengths
    val_rows = model._validation_rows(lengths)
    seq_len, horizon = model.seq_len, model.horizon
    n_targets = len(panel.target_names)
    observed = ~np.isnan(panel.values[:, :n_targets]).all(axis=1)
    train, val, train_ends = fit_windows(model, panel.offsets, val_rows)
    return (
        observed_windows(train, observed, seq_len, horizon, train_ends),
        observed_windows(val, observed, seq_len, horizon),
    )


def series_cumulative(windows: WindowIndex, n_series: int) -> np.ndarray:
    """``(S + 1,)`` first window number of each series in ``windows`` (listed or indexed)."""
    cumulative = getattr(windows, "cumulative", None)
    if cumulative is not None:
        return np.asarray(cumulative, dtype=np.int64)
    series = windows.locate(np.arange(len(windows), dtype=np.int64))[1]  # series-major
    return np.concatenate([[0], np.cumsum(np.bincount(series, minlength=n_series))])
