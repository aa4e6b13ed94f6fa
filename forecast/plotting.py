"""Matplotlib figures of forecasts. Functions take ``ax=``, return the Axes, never show."""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["plot_forecast"]


def plot_forecast(
    forecast: pd.DataFrame,
    history: pd.DataFrame | pd.Series,
    *,
    target: str | None = None,
    ax: Any = None,
    n_history: int | None = 200,
    title: str | None = None,
) -> Any:
    """Plot the end of the history, the forecast and a vertical line at the forecast origin.

    Parameters
    ----------
    forecast : pandas.DataFrame
        A wide forecast from ``predict()``: indexed by future timestamps.
    history : pandas.DataFrame or pandas.Series
        The observed series, indexed by timestamps.
    target : str, optional
        Column to plot; default the forecast's first column.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.
    n_history : int or None, default 200
        How many of the last observations to show (None: all).
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    name = target if target is not None else forecast.columns[0]
    observed = history[name] if isinstance(history, pd.DataFrame) else history
    if n_history is not None:
        observed = observed.iloc[-n_history:]
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4), layout="constrained")
    ax.plot(observed.index, observed.to_numpy(), color="0.25", lw=1.2, label="history")
    ax.plot(
        forecast.index,
        forecast[name].to_numpy(),
        color="tab:blue",
        lw=2,
        marker="o",
        ms=3,
        label="forecast",
    )
    ax.axvline(observed.index[-1], color="0.5", ls="--", lw=1, label="forecast origin")
    ax.set_ylabel(str(name))
    ax.set_title(title if title is not None else f"{name}: {len(forecast)}-step forecast")
    ax.legend(loc="best")
    ax.figure.autofmt_xdate()
    return ax
