"""Baseline forecasters: the public path ``forecast.baselines``, kept for users' imports.

Its code lives in :mod:`forecast.forecasters.baselines`; this module names it where README
lines, notebooks and scripts import it (``from forecast.baselines import ...``).
"""

from __future__ import annotations

from forecast.forecasters.baselines import (
    DriftForecaster,
    NaiveForecaster,
    SeasonalNaiveForecaster,
)

__all__ = ["DriftForecaster", "NaiveForecaster", "SeasonalNaiveForecaster"]
