"""Rolling-origin backtests: the public path ``forecast.backtest``, kept for users' imports.

Its code lives in :mod:`forecast.evaluation.backtest`; this module names it where README
lines, notebooks and scripts import it (``from forecast.backtest import ...``), with
:func:`fold_history` (from ``forecast.engines.folds``): a backtest window's training rows, cut on
Spark or Dask, for a backtest that refits there.
"""

from __future__ import annotations

from forecast.engines.folds import fold_history
from forecast.evaluation import backtest as _code
from forecast.evaluation.backtest import *  # noqa: F403  (every public name of the code, as listed below)

__all__ = [*_code.__all__, "fold_history"]
