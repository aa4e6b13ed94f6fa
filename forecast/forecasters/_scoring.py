"""``score``: the fitted model's MASE on the last ``horizon`` steps of each series."""

from __future__ import annotations

from typing import Any

import numpy as np

from forecast._exceptions import DataError
from forecast._warnings import warn
from forecast.data.panel import Panel
from forecast.evaluation.tables import seasonal_scale
from forecast.forecasters import _transformed as transformed

__all__ = ["holdout_score", "holdout_terms"]


def holdout_score(model: Any, panel: Panel) -> float:
    """Minus the MASE (season 1) of ``model``'s (a fitted forecaster's) forecast of each
    series' last ``horizon`` rows of ``panel`` from the rows before them; see
    :meth:`BaseForecaster.score`."""
    terms = holdout_terms(model, panel)  # NaN only where missing="mask" left nothing
    if np.isnan(terms).all():
        raise DataError(
            "Nothing to score: the MASE of every series is undefined, as the warning says "
            "(missing values, with missing='mask'). Pass a frame with more observed values."
        )
    return -float(np.nanmean(terms))


def holdout_terms(model: Any, panel: Panel) -> np.ndarray:
    """The MASE of each series and target ``(S, T)`` that :func:`holdout_score` averages;
    an engine (:mod:`forecast.engines`) sums them per partition.

    NaN where ``missing="mask"`` left a term undefined (every held-out actual missing, or
    no two consecutive observed values of the history that differ); those are named in a
    warning, since the mean then leaves them out.
    """
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
    errors = np.abs(actual - forecast)
    seen = (~np.isnan(errors)).sum(axis=1)  # (S, T): missing="mask" scores the observed
    with np.errstate(invalid="ignore", divide="ignore"):
        terms = np.where(seen > 0, np.nansum(errors, axis=1) / seen, np.nan) / scale
    _warn_undefined(panel, terms, seen)
    return np.asarray(terms)


def _warn_undefined(panel: Panel, terms: np.ndarray, seen: np.ndarray) -> None:
    """Name the series and targets whose term is NaN: a mean that skips them silently
    would report the score of fewer series than the user passed."""
    rows, cols = np.nonzero(np.isnan(terms))
    if not rows.size:
        return
    shown = [
        f"{panel.series_label(int(s))}"
        + (f" (target {panel.target_names[t]!r})" if len(panel.target_names) > 1 else "")
        + (": every held-out actual is missing" if not seen[s, t] else "")
        for s, t in zip(rows[:10].tolist(), cols[:10].tolist(), strict=True)
    ]
    more = f" (and {rows.size - 10} more)" if rows.size > 10 else ""
    warn(
        f"score leaves out {rows.size} of {terms.size} MASE term(s), undefined under "
        f"missing='mask': {'; '.join(shown)}{more}. A term is undefined where every "
        "held-out actual is missing, or where the observed history has no two consecutive "
        "values that differ (the scale). The score is the mean of the others."
    )
