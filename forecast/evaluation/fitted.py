"""Backtests of a fitted model: every window forecast by it, nothing refitted.

:func:`forecast.backtest.backtest` fits a clone of the estimator at the first cutoff (or
at each). On a Spark or Dask frame (:mod:`forecast.engines`) the model the user fitted is
shipped to the workers instead, and :func:`fitted_backtest` runs on each partition of
whole series: each window's forecast of each series reads only that series' history up to
its cutoff, so a partition's tables are the rows the whole frame's tables hold for its
series. Run on the whole pandas frame it is the in-process result the engines are tested
against.

:func:`fold_rows` is the other half of a backtest on an engine: the rows a refitting
backtest fits window ``fold`` on (:func:`forecast.engines.folds.fold_history` runs it per
partition), so that one global model per window can be fitted on the engine and
backtested here without refit.

Symbols: W windows, S series, H horizon, T targets.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from forecast._exceptions import DataError, InvalidParameterError
from forecast.data.panel import series_positions
from forecast.evaluation.backtest import (
    _check_params,
    _forecast_windows_quantiles,
    _prepare,
    _scored_tables,
)
from forecast.evaluation.folds import history_frame
from forecast.protocol import Forecaster

__all__ = ["fitted_backtest", "fold_rows"]


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
    df, bad, panel, layout, folds = _prepare(model, df, n_windows, step, None, False, on_bad_series)
    _refuse_seen_tests(model, panel, folds)
    forecast, quantiles = _forecast_windows_quantiles(
        model, df, panel, layout, folds, range(n_windows)
    )
    levels = list(model.quantile_levels_)
    tidy, scores, missing_actuals = _scored_tables(
        panel, layout, folds, forecast, quantiles, levels, metrics, season_length
    )
    return tidy, scores, bad, missing_actuals


def _refuse_seen_tests(model: Forecaster, panel: Any, folds: Any) -> None:
    """Refuse a model fitted on a series past the first window's cutoff: it would be scored
    on values it was trained on (a backtest that looks better than the model is)."""
    fitted = series_positions(panel.ids, model.series_ids_)[0]  # (S,)
    first = panel.offsets[:-1] + folds.ends[0] - 1  # the first window's cutoff rows
    for s in np.flatnonzero(fitted >= 0):
        trained_to, cutoff = model.cutoffs_[fitted[s]], panel.times[first[s]]
        if trained_to > cutoff:
            raise DataError(
                f"The {type(model).__name__} was fitted on {panel.series_label(s)} up to "
                f"{trained_to}, after the backtest's first cutoff {cutoff}: its windows would "
                "be scored on values the model was trained on. Fit it on the rows before the "
                "first cutoff, forecast.backtest.fold_history(model, df, n_windows, step, "
                "fold=0), then backtest with refit=False."
            )


def fold_rows(
    estimator: Forecaster,
    df: pd.DataFrame,
    n_windows: int = 1,
    step: int | None = None,
    *,
    fold: int = 0,
    window: str = "expanding",
    window_length: int | None = None,
    on_bad_series: str = "fail",
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """The rows of ``df`` that :func:`forecast.backtest.backtest` fits window ``fold`` on.

    Parameters
    ----------
    estimator : forecaster
        Fitted or not: only its ``horizon`` and columns are read.
    df : pandas.DataFrame
    n_windows, step, window, window_length, on_bad_series
        As :func:`forecast.backtest.backtest`.
    fold : int, default 0
        The window, ``0 <= fold < n_windows`` (0: the oldest cutoff, the one a backtest
        with ``refit=False`` fits at).

    Returns
    -------
    history : pandas.DataFrame
        Rows of ``df`` (its columns, its order), nothing after each series' cutoff.
    bad_series : list of dict
        With ``on_bad_series="skip"``, the series left out.

    Raises
    ------
    InvalidParameterError, DataError
        As :func:`forecast.backtest.backtest`: a parameter out of range, a series too short.
    """
    sliding = window == "sliding"
    df, bad, panel, _, folds = _prepare(
        estimator, df, n_windows, step, window_length, sliding, on_bad_series
    )
    return history_frame(df, panel, folds, fold), bad
