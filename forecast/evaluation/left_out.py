"""Backtests of ``drop_short`` models: the (window, series) pairs a fold's model left out.

A model fitted with ``drop_short=True`` at a cutoff leaves out the series too short to
train on there; it forecasts them where it can (:meth:`Forecaster._forecastable`). The
others are no error for the rest of the backtest: they are left out of its forecasts and
metrics, with a warning naming them.

Symbols: W windows, S series, H horizon, T targets, Q quantile levels, N origins.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast._warnings import warn
from forecast.data.panel import Panel
from forecast.protocol import Forecast, Forecaster

__all__ = ["forecast_where_possible", "placeholders", "without_left_out"]


def forecast_where_possible(
    model: Forecaster, panel: Panel, series: np.ndarray, ends: np.ndarray
) -> Forecast:
    """``model._forecast_at`` of the origins it can forecast from; NaN at the others."""
    ok = model._forecastable(panel, series, ends)
    if ok.all():
        return model._forecast_at(panel, series, ends)
    if not ok.any():
        shape = (len(series), model.horizon, len(panel.target_names))
        levels = len(model.quantile_levels_)
        return Forecast(
            np.full(shape, np.nan), np.full((*shape, levels), np.nan) if levels else None
        )
    part = model._forecast_at(panel, series[ok], ends[ok])

    def spread(values: np.ndarray) -> np.ndarray:
        out = np.full((len(series), *values.shape[1:]), np.nan)
        out[ok] = values
        return out

    return Forecast(spread(part.point), None if part.quantiles is None else spread(part.quantiles))


def placeholders(
    panel: Panel, actual: np.ndarray, forecast: np.ndarray, quantiles: np.ndarray | None
) -> np.ndarray:
    """The (window, series) pairs ``(W, S)`` not forecast; their forecasts set to the
    actuals ``(W, S, H, T)`` in place, so the tables can be built and those rows then cut."""
    left_out = np.isnan(forecast).any(axis=(2, 3))  # (W, S)
    if left_out.any():
        forecast[left_out] = actual[left_out]
        if quantiles is not None:
            quantiles[left_out] = actual[left_out][..., None]
        w, s = np.nonzero(left_out)
        shown = sorted({panel.series_label(int(i)) for i in s})
        warn(
            f"No backtest forecast for {', '.join(shown[:10])}"
            + (f" (and {len(shown) - 10} more)" if len(shown) > 10 else "")
            + f" at {len(w)} (window, series) pair(s): the model (drop_short=True) left them "
            "out at those cutoffs, too short to train on and not forecastable (a scaler with "
            "fitted statistics, or fewer than seq_len rows); they are not in the tables."
        )
    return left_out


def without_left_out(frame: pd.DataFrame, left_out: np.ndarray, per_pair: int) -> pd.DataFrame:
    """``frame`` (rows in (window, series, ...) order, ``per_pair`` rows per pair) without
    the rows of the pairs ``left_out`` ``(W, S)``."""
    if not left_out.any():
        return frame
    keep = ~np.repeat(left_out.ravel(), per_pair)
    return frame[keep].reset_index(drop=True)
