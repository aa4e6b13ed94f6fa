"""Forecast accuracy metrics: the public path ``forecast.metrics``, kept for users' imports.

Its code lives in :mod:`forecast.evaluation.metrics`; this module names it where README
lines, notebooks and scripts import it (``from forecast.metrics import ...``).
"""

from __future__ import annotations

from forecast.evaluation import metrics as _code
from forecast.evaluation.metrics import *  # noqa: F403  (every public name of the code, as listed below)

__all__ = _code.__all__
