"""Rolling-origin backtests: the public path ``forecast.backtest``, kept for users' imports.

Its code lives in :mod:`forecast.evaluation.backtest`; this module names it where README
lines, notebooks and scripts import it (``from forecast.backtest import ...``).
"""

from __future__ import annotations

from forecast.evaluation import backtest as _code
from forecast.evaluation.backtest import *  # noqa: F403  (every public name of the code, as listed below)

__all__ = _code.__all__
