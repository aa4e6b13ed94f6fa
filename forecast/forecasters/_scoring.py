"""``score``: the fitted model's MASE on the last ``horizon`` steps of each series."""

from __future__ import annotations

from typing import Any

import numpy as np

from forecast._exceptions import DataError
from forecast.data.panel import Panel
from forecast.evaluation.tables import seasonal_scale
from forecast.forecasters import _transformed as transformed

__all__ = ["holdout_score", "holdout_terms"]


def holdout_score(model: Any, panel: Panel) -> float:
    """Minus the MASE (season 1) of ``model``'s (a fitted forecaster's) forecast of each
    series' last ``horizon`` rows of ``panel`` from the rows before them; see
    :meth:`BaseForecaster.score`."""
    terms = holdout_terms(model, panel)  # NaN only where missing="mask" left nothing
    return -float(np.nanmean(terms) if np.isnan(terms).any() else np.mean(terms))


def holdout_terms(model: Any, panel: Panel) -> np.ndarray:
    """The MASE of each series and target ``(S, T)`` that :func:`holdout_score` averages;
    an engine (:mod:`forecast.engines`) sums them per partition."""
    horizon = model.horizon
    short = np.flatnonzero(panel.lengths < horizon + 2)
    if short.size:
        raise DataError(
            f"Too few rows to score: {panel.describe(short)}, but score holds out the last "
            f"horizon={horizon} rows and scales the error by the history before them, "
            f"which needs 2 rows at least ({horizon + 2} in all). Pass a longer frame."
        )
    series = np.arange(panel.n_series)
    ends = panel.offsets[1:] - horizon
    forecast = transformed.forecast(model, panel, series, ends).point  # (S, H, T)
    n_targets = len(panel.target_names)
    actual = panel.values[ends[:, None] + np.arange(horizon), :n_targets]  # (S, H, T)
    scale = seasonal_scale(
        panel, panel.offsets[:-1], ends, 1, lambda i: f"the history of {panel.series_label(i)}"
    )
    mean = np.nanmean if np.isnan(actual).any() else np.mean  # missing="mask": observed
    return np.asarray(mean(np.abs(actual - forecast), axis=1) / scale)
