"""Backtests of a fitted model: every window forecast by it, nothing refitted.

:func:`forecast.backtest.backtest` fits a clone of the estimator at the first cutoff (or
at each). On a Spark or Dask frame (:mod:`forecast.engines`) the model the user fitted is
shipped to the workers instead, and :func:`fitted_backtest` runs on each partition of
whole series: each window's forecast of each series reads only that series' history up to
its cutoff, so a partition's tables are the rows the whole frame's tables hold for its
series. Run on the whole pandas frame it is the in-process result the engines are tested
against.

Symbols: W windows, S series, H horizon, T targets.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from forecast._exceptions import InvalidParameterError
from forecast.evaluation.backtest import _check_params, _forecast_windows_quantiles, _skip_bad
from forecast.evaluation.folds import make_folds
from forecast.evaluation.left_out import placeholders, without_left_out
from forecast.evaluation.tables import forecasts_table, metrics_table
from forecast.protocol import Forecaster

__all__ = ["fitted_backtest"]


def fitted_backtest(
    model: Forecaster,
    df: pd.DataFrame,
    n_windows: int = 1,
    step: int | None = None,
    *,
    metrics: tuple[str, ...] | list[str] = ("mae", "rmse", "smape", "mase"),
    season_length: int = 1,
    on_bad_series: str = "fail",
) -> tuple[pd.DataFrame, pd.DataFrame, list[dict[str, Any]], int]:
    """The tables of a backtest whose every window the fitted ``model`` forecasts.

    Parameters
    ----------
    model : forecaster
        Fitted; not modified.
    df : pandas.DataFrame
        As ``model.predict`` takes it.
    n_windows, step, metrics, season_length, on_bad_series
        As :func:`forecast.backtest.backtest`.

    Returns
    -------
    forecasts, metrics : pandas.DataFrame
        The tables of :class:`forecast.backtest.BacktestResult`, in pandas.
    bad_series : list of dict
        With ``on_bad_series="skip"``, the series left out.
    missing_actuals : int
        Test values that are missing.

    Raises
    ------
    InvalidParameterError, DataError
        As :func:`forecast.backtest.backtest`.
    """
    _check_params(model, n_windows, step, False, "expanding", None, metrics, season_length)
    if "cutoffs_" not in model.__dict__:
        raise InvalidParameterError(
            f"A backtest without refit forecasts with the fitted model: fit the "
            f"{type(model).__name__} first (or backtest a pandas frame, which fits one)."
        )
    horizon = model.horizon
    bad: list[dict[str, Any]] = []
    if on_bad_series != "fail":
        df, bad = _skip_bad(model, df, on_bad_series, n_windows, horizon, step)
    panel, layout = model._to_panel(df, np.float64)
    folds = make_folds(
        panel,
        n_windows=n_windows,
        step=horizon if step is None else step,
        horizon=horizon,
        window_length=None,
        sliding=False,
    )
    forecast, quantiles = _forecast_windows_quantiles(
        model, df, panel, layout, folds, range(n_windows)
    )
    shape = forecast.shape  # (W, S, H, T)
    actual = panel.values[:, : shape[-1]]
    test_rows = (panel.offsets[:-1] + folds.ends)[..., None] + np.arange(horizon)  # (W, S, H)
    missing_actuals = int(np.isnan(actual[test_rows]).sum()) if np.isnan(actual).any() else 0
    left_out = placeholders(panel, actual[test_rows], forecast, quantiles)
    levels = list(model.quantile_levels_)
    tidy = forecasts_table(panel, layout, folds, forecast, quantiles, levels)
    scores = metrics_table(
        panel, layout, folds, forecast, tuple(metrics), season_length, quantiles, levels
    )
    return (
        without_left_out(tidy, left_out, shape[-1] * horizon),
        without_left_out(scores, left_out, shape[-1]),
        bad,
        missing_actuals,
    )
