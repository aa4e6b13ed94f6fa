"""Baseline forecasters: the public path ``forecast.baselines``, kept for users' imports.

Its code lives in :mod:`forecast.forecasters.baselines`, :mod:`forecast.forecasters.theta`
(the Theta method), :mod:`forecast.forecasters.optimised_theta` (its trend's weight fitted),
:mod:`forecast.forecasters.damped` (the damped trend) and
:mod:`forecast.forecasters.ets` (exponential smoothing chosen by AICc); this module
names it where README lines, notebooks and scripts import it
(``from forecast.baselines import ...``).
"""

from __future__ import annotations

from forecast.forecasters import baselines as _code
from forecast.forecasters.baselines import *  # noqa: F403  (every public name of the code, as listed below)
from forecast.forecasters.damped import DampedTrendForecaster
from forecast.forecasters.ets import ETSForecaster
from forecast.forecasters.optimised_theta import OptimisedThetaForecaster
from forecast.forecasters.theta import ThetaForecaster

__all__ = [
    *_code.__all__,
    "DampedTrendForecaster",
    "ETSForecaster",
    "OptimisedThetaForecaster",
    "ThetaForecaster",
]
