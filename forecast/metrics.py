"""Forecast accuracy metrics: the public path ``forecast.metrics``, kept for users' imports.

Its code lives in :mod:`forecast.evaluation.metrics`; this module names it where README
lines, notebooks and scripts import it (``from forecast.metrics import ...``).
"""

from __future__ import annotations

from forecast.evaluation.metrics import (
    coverage,
    interval_width,
    mae,
    mape,
    mase,
    pinball_loss,
    rmse,
    smape,
    winkler_score,
)

__all__ = [
    "coverage",
    "interval_width",
    "mae",
    "mape",
    "mase",
    "pinball_loss",
    "rmse",
    "smape",
    "winkler_score",
]
