"""``intervals="conformal"`` for a fit from Parquet parts: the same calibration as one process.

One process (:func:`forecast.forecasters._calibration.calibrate`) fits a model on each
series without its last ``calibration_windows + horizon - 1`` rows (the tail), forecasts
from ``calibration_windows`` origins in the tail, scores the errors in units of each
history's scale, takes their split-conformal quantile over every series, then fits the
final model on everything. :func:`fit_calibrated` does the same with parts:

1. **The calibration fit** is a fit from parts whose ranks cut the tail off each series
   they read (a series is whole in one part, so the cut is local); it is the fit one
   process makes on the heads, batch for batch.
2. **The scores: a second pass over the parts.** Each part is read alone (float64, as one
   process calibrates), forecast from its series' calibration origins with the calibration
   model, and scored; under a process group (``"ddp"``, ``torchrun``) each rank scores its
   own parts and the score arrays are gathered (``all_gather_object``), under ``ddp_spawn``
   the calling process reads the parts one after another. The same pass keeps each
   series' full-history scale (``conformal_scale_``). The split-conformal quantile is taken
   over every series' scores: it is a sort, so the order the parts come in does not matter.
3. **The final fit** from the parts, as without intervals.

Memory of the pass: one part, plus every series' scores (``calibration_windows * horizon``
floats per series and target): the scores one process holds too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from forecast.data.parts import Parts, assign, read_parts
from forecast.evaluation.conformal import conformal_quantile, coverage_levels, history_scale
from forecast.forecasters import _transformed as transformed
from forecast.forecasters._calibration import said_of_calibration

__all__ = ["fit_calibrated"]


def fit_calibrated(
    model: Any,
    source: Parts,
    coverage: list[float],
    fit: Callable[[int], None],
    distributed: Callable[[], tuple[int, int]],
    gather: Callable[[Any, int], list[Any]],
) -> None:
    """Calibrate ``model`` on the parts of ``source`` and fit its final model on them.

    ``fit(cut)`` fits ``model`` from the parts with the last ``cut`` rows of each series
    left out; ``distributed`` and ``gather`` give the process group (rank, world size) and
    gather a value from every rank.
    """
    windows, horizon = model.calibration_windows, model.horizon
    tail = windows + horizon - 1
    source.signature()  # not a folder of parts: said as such, not as the calibration's
    with said_of_calibration(tail):
        fit(tail)
    rank, world = distributed()
    mine = np.flatnonzero(assign(source.file_rows, world) == rank)
    local = [_score_part(model, source, source.files[f], windows, horizon) for f in mine]
    found = [part for parts in gather(local, world) for part in parts]
    scores = np.concatenate([part[0] for part in found])  # (N, H, T)
    scales = {key: row for part in found for key, row in zip(part[1], part[2], strict=True)}
    quantiles = conformal_quantile(scores, coverage)
    n_scores = int((~np.isnan(scores)).sum(axis=0).min())
    fit(0)
    model.conformal_quantiles_ = quantiles
    model.conformal_scale_ = np.stack([scales[key] for key in model.series_ids_])
    model.n_calibration_ = n_scores
    model.quantile_levels_ = coverage_levels(coverage)


def _score_part(
    model: Any, source: Parts, file: str, windows: int, horizon: int
) -> tuple[np.ndarray, list[Any], np.ndarray]:
    """The calibration scores ``(N, H, T)`` of one part's series, its series' ids and their
    full-history scales ``(S, T)``; as :func:`~forecast.forecasters._calibration.calibrate`."""
    panel, _ = model._to_panel(read_parts(source, [file]), np.float64)
    first = panel.lengths - (windows + horizon - 1)  # the first origin's end in each series
    fitted = set(model.series_ids_)  # the calibration model may have left some out
    kept = np.asarray([i for i, key in enumerate(panel.ids) if key in fitted], dtype=np.int64)
    n_targets = len(panel.target_names)
    every = np.arange(panel.n_series)
    scales = history_scale(panel, every, panel.offsets[1:])
    if not kept.size:
        return np.zeros((0, horizon, n_targets)), list(panel.ids), scales
    series = np.repeat(kept, windows)
    ends = (panel.offsets[:-1] + first)[series] + np.tile(np.arange(windows), kept.size)
    point = transformed.forecast(model, panel, series, ends).point[:, :horizon]  # (N, H, T)
    actual = panel.values[ends[:, None] + np.arange(horizon), :n_targets]  # (N, H, T)
    scores = np.abs(actual - point) / history_scale(panel, series, ends)[:, None, :]
    return scores, list(panel.ids), scales
