"""A forecaster written the way a user would write one: the hooks of BaseForecaster, nothing else.

``tests/test_extending.py`` checks that it gets fit, predict, score, conformal intervals,
backtests, model files, cards, plots and the command line from the base class.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from forecast import BaseForecaster, DataError, Forecast
from forecast._validation import check_int
from forecast.data.panel import Layout, Panel


class MeanForecaster(BaseForecaster):
    """The mean of each series' last ``window`` values, for every step ahead.

    Parameters
    ----------
    window : int, default 3
        Values averaged.
    horizon : int, default 1
        Steps forecast.
    target, id_col, time_col, freq, intervals, coverage, calibration_windows
        As in :class:`forecast.RNNForecaster`.
    """

    def __init__(
        self,
        *,
        window: int = 3,
        horizon: int = 1,
        target: str | list[str] | None = None,
        id_col: str | None = None,
        time_col: str | None = None,
        freq: Any = None,
        intervals: str | None = None,
        coverage: float | list[float] | None = None,
        calibration_windows: int = 20,
    ) -> None:
        self.window = window
        self.horizon = horizon
        self.target = target
        self.id_col = id_col
        self.time_col = time_col
        self.freq = freq
        self.intervals = intervals
        self.coverage = coverage
        self.calibration_windows = calibration_windows

    def _check_params(self) -> None:
        check_int(self, "window", self.window, low=1)
        check_int(self, "horizon", self.horizon, low=1)
        self._check_interval_params()

    def _means(self, panel: Panel, series: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """The mean of the ``window`` target rows before each of ``ends``: ``(N, T)``."""
        short = np.flatnonzero(ends - panel.offsets[series] < self.window)
        if short.size:
            raise DataError(
                f"{panel.series_label(series[short[0]])} has fewer than window={self.window} "
                "rows before its forecast origin."
            )
        rows = ends[:, None] - self.window + np.arange(self.window)  # (N, window)
        return panel.values[rows, : len(panel.target_names)].mean(axis=1)

    def _repeat(self, means: np.ndarray) -> np.ndarray:
        return np.repeat(means[:, None, :], self.horizon, axis=1)  # (N, H, T)

    def _fit(self, panel: Panel, layout: Layout) -> None:
        series = np.arange(panel.n_series)
        self.last_means_ = self._means(panel, series, panel.offsets[1:])

    def _forecast(
        self, panel: Panel, series: np.ndarray, ends: np.ndarray, future: np.ndarray | None
    ) -> Forecast:
        return Forecast(self._repeat(self._means(panel, series, ends)), None)

    def _forecast_fitted(self, future: np.ndarray | None) -> Forecast:
        return Forecast(self._repeat(self.last_means_), None)

    def _fitted_arrays(self) -> dict[str, np.ndarray]:
        return {"last_means": self.last_means_}

    def _restore_fitted(
        self,
        arrays: dict[str, np.ndarray],
        metadata: dict[str, Any] | None = None,
        members: Sequence[BaseForecaster] = (),
    ) -> None:
        self.last_means_ = arrays["last_means"]
