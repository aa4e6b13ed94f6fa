"""Spark and Dask frames at ``predict``, ``score``, backtests: hooks to :mod:`forecast.engines`.

:class:`~forecast.BaseForecaster` inherits :class:`EngineFrames`. Its ``predict`` and
``score``, and :func:`forecast.backtest.backtest` (through the protocol, from below), hand
a frame that :func:`forecast.data.distributed.engine_of` recognises to :meth:`_on_engine`,
which runs the call per partition of whole series on that engine; a worker calls
:meth:`_score_terms` for its partition's share of ``score``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from forecast.data.distributed import engine_of
from forecast.data.panel import Panel
from forecast.forecasters._scoring import holdout_terms

__all__ = ["PREDICT_OPTIONS", "EngineFrames", "engine_of"]

#: ``predict``'s arguments that travel to the workers (all but ``df``).
PREDICT_OPTIONS = (
    "future_covariates",
    "horizon",
    "on_bad_series",
    "max_staleness",
    "expect_ids",
    "fallback_season",
)


class EngineFrames:
    """What :class:`~forecast.BaseForecaster` gets from this module."""

    def _to_fitted_panel(self, df: pd.DataFrame, dtype: Any = None) -> Panel:
        raise NotImplementedError  # BaseForecaster's

    def _on_engine(self, method: str, df: Any, options: dict[str, Any]) -> Any:
        """``method`` (``"predict"``, ``"backtest"``, ``"score"``) on a Spark or Dask
        frame, per partition of whole series: see :func:`forecast.engines.run`."""
        from forecast import engines

        return engines.run(self, method, df, options)  # type: ignore[arg-type]  # a mixin's self

    def _score_terms(self, df: pd.DataFrame) -> np.ndarray:
        """The MASE of each series and target ``(S, T)`` of ``score(df)``, which averages them."""
        return holdout_terms(self, self._to_fitted_panel(df, np.float64))
