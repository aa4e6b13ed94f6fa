"""Plots of forecasts, backtests and training histories (matplotlib).

Every function takes ``ax=`` (or ``fig=``), returns the matplotlib object and never calls
``plt.show()``. The drawing is :mod:`forecast.plotting.plots`'; the frames it draws from are
split by series and column in :mod:`forecast.plotting.frames`.
"""

from __future__ import annotations

from forecast.plotting.plots import plot_backtest, plot_forecast, plot_history

__all__ = ["plot_backtest", "plot_forecast", "plot_history"]
