"""Rolling-origin backtests: the public path ``forecast.backtest``, kept for users' imports.

Its code lives in :mod:`forecast.evaluation.backtest`; this module names it where README
lines, notebooks and scripts import it (``from forecast.backtest import ...``).
"""

from __future__ import annotations

from forecast.evaluation.backtest import (
    BacktestResult,
    backtest,
)

__all__ = ["BacktestResult", "backtest"]
