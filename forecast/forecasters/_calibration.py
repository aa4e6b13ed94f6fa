"""Split-conformal calibration of a forecaster: the fit before a held-out tail, its scores.

:meth:`BaseForecaster.fit <forecast.BaseForecaster.fit>` calls :func:`calibrate` with two
callables of the forecaster (fit on a panel; forecast from origins) when
``intervals="conformal"``; the maths of the scores and their quantile is
:mod:`forecast.evaluation.conformal`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from forecast._exceptions import DataError, InvalidParameterError
from forecast._validation import check_int, check_levels, check_option
from forecast.data.panel import Panel, series_positions
from forecast.evaluation.conformal import INTERVALS, conformal_quantile, history_scale

__all__ = [
    "calibrate",
    "check_calibration_rows",
    "check_interval_params",
    "positions",
    "said_of_calibration",
]


@contextlib.contextmanager
def said_of_calibration(tail: int) -> Iterator[None]:
    """A ``DataError`` of the calibration fit (each series without its last ``tail`` rows),
    raised again saying it is that fit's: the user fitted one model, not two."""
    try:
        yield
    except DataError as exc:
        raise DataError(
            f"{exc} (This is the conformal calibration model, fitted on each series "
            f"without its last calibration_windows + horizon - 1 = {tail} rows; a smaller "
            "calibration_windows leaves it more.)"
        ) from exc


def positions(panel: Panel, ids: list[Any]) -> np.ndarray:
    """Positions in ``panel`` of the series ``ids`` (fitted on it: all are there)."""
    found, missing = series_positions(ids, panel.ids)
    if missing:
        raise KeyError(f"series {missing[:10]} are not in the panel")
    return found


def check_calibration_rows(panel: Panel, windows: int, horizon: int) -> None:
    """Refuse series too short to hold out the calibration tail and fit before it."""
    tail = windows + horizon - 1
    short = np.flatnonzero(panel.lengths <= tail)
    if short.size:
        raise DataError(
            f"Too few rows for conformal calibration: {panel.describe(short)} row(s), but "
            f"the calibration tail holds out calibration_windows + horizon - 1 = {tail} "
            "rows of each series, and the calibration model needs rows before it. Use a "
            "smaller calibration_windows, or longer series."
        )


def calibrate(
    panel: Panel,
    narrow: Panel,
    *,
    windows: int,
    horizon: int,
    coverage: list[float],
    fit: Callable[[Panel], list[Any]],
    forecast: Callable[[Panel, np.ndarray, np.ndarray], np.ndarray],
) -> tuple[np.ndarray, int]:
    """Conformal half-widths ``(H, T, C)`` and the number of calibration forecasts.

    Fits the model (``fit(head)``, which returns the ids of the series it kept) on each
    series without its last ``windows + horizon - 1`` rows, forecasts (``forecast(panel,
    series, ends)``, ``(N, H', T)``) from ``windows`` origins one step apart in that tail and
    takes the split-conformal quantile of the scaled errors. ``panel`` is float64,
    ``narrow`` the same data in the model's own dtype.
    """
    tail = windows + horizon - 1
    check_calibration_rows(panel, windows, horizon)
    first = panel.lengths - tail  # position of the first origin's end in each series
    # Series keep their canonical numbering in the cut panel, as converting the cut frame
    # would number them: the calibration fit is the same.
    with said_of_calibration(tail):
        kept_ids = fit(narrow.head(first))
    kept = positions(panel, kept_ids)  # the model may leave some series out
    if kept.size < panel.n_series:
        panel, first = panel.subset(kept), first[kept]
    series = np.repeat(np.arange(panel.n_series), windows)
    ends = (panel.offsets[:-1] + first)[series] + np.tile(np.arange(windows), panel.n_series)
    point = forecast(panel, series, ends)[:, :horizon]  # (N, H, T)
    n_targets = len(panel.target_names)
    actual = panel.values[ends[:, None] + np.arange(horizon), :n_targets]  # (N, H, T)
    scale = history_scale(panel, series, ends)  # (N, T)
    scores = np.abs(actual - point) / scale[:, None, :]
    # Missing actuals (missing="mask") give no score: the count is then the fewest scores
    # any step and target had.
    n_scores = int((~np.isnan(scores)).sum(axis=0).min())
    return conformal_quantile(scores, coverage), n_scores


def check_interval_params(model: Any, quantile_levels: Any) -> None:
    """Check ``intervals``, ``coverage`` and ``calibration_windows`` of ``model`` (an
    estimator being fitted), and that it does not also learn ``quantile_levels``."""
    name = type(model).__name__
    check_option(model, "intervals", model.intervals, INTERVALS)
    check_int(model, "calibration_windows", model.calibration_windows, low=1)
    if model.coverage is not None:
        check_levels(model, "coverage", model.coverage, example="[0.8, 0.95]", scalar=True)
        if model.intervals is None:
            raise InvalidParameterError(
                f"The 'coverage' parameter of {name} only applies to "
                f"intervals='conformal'. Got coverage={model.coverage!r} with "
                "intervals=None; set intervals='conformal' or leave coverage out."
            )
    if model.intervals is not None and quantile_levels:
        raise InvalidParameterError(
            f"The 'intervals' parameter of {name} cannot be combined with 'quantiles': a "
            "quantile model's intervals are its own quantile columns. Use "
            "quantiles=[...] or intervals='conformal', not both."
        )
