"""Rolling-origin backtests of any of our estimators, that cannot see past their cutoffs.

``backtest`` cuts the user's frame at the last ``n_windows`` cutoffs of every series, fits a
``sklearn.base.clone`` of the estimator on each history (the frame literally truncated, so
validation, scalers and early stopping see nothing after the cutoff), forecasts the next
``horizon`` steps and scores them. How cutoffs are placed on panels of unequal series is
described in :mod:`forecast.evaluation.folds`.

Without refit (``refit=False`` or an int ``k``), the windows served by one fitted model are
forecast together: every (window, series) history window goes through one batched call of
the forecaster's ``_forecast_at`` (:class:`forecast.protocol.Forecaster`; for the recurrent
models, one forward pass over windows gathered from a zero-copy view; for the baselines,
one vectorised NumPy expression). A model fitted on other columns than the frame has is
asked ``predict(history)`` once per window instead.

Models that emit quantiles (``quantiles=[...]``) or conformal intervals
(``intervals="conformal"``) get their quantile columns in ``forecasts`` and the interval
metrics (pinball loss, coverage, width, Winkler score) in ``metrics`` and ``summary()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from forecast._exceptions import BadSeriesError, DataError, InvalidParameterError
from forecast._validation import check_int, check_option
from forecast._warnings import once_per_scope, warn
from forecast.data.distributed import engine_of
from forecast.data.frames import to_native, to_pandas
from forecast.data.output import quantile_column
from forecast.data.panel import Layout, Panel
from forecast.evaluation.folds import Folds, history_frame, make_folds
from forecast.evaluation.left_out import forecast_where_possible, placeholders, without_left_out
from forecast.evaluation.tables import METRICS, forecasts_table, metrics_table
from forecast.io import registry
from forecast.protocol import Forecaster

__all__ = ["BacktestResult", "backtest"]


@dataclass
class BacktestResult:
    """What :func:`backtest` found.

    Attributes
    ----------
    forecasts : pandas.DataFrame (or polars, pyarrow: the input's library)
        One row per window, series, target and step: ``[id_col], window, cutoff, <time>,
        step, target, actual, forecast``. ``window`` counts from 0 (the oldest cutoff);
        ``cutoff`` is the series' last timestamp seen; ``<time>`` (named like the input's
        time column or index, ``"timestamp"`` if unnamed) is the observation's timestamp.
        A model with quantiles or intervals adds ``forecast_q{q:g}`` per level
        (``forecast_q0.1``, ``forecast_q0.9``).
    metrics : pandas.DataFrame
        One row per window, series and target: ``[id_col], window, cutoff, target`` and one
        column per metric, computed over the ``horizon`` steps of that window. With
        quantiles or intervals: ``pinball`` (mean over the levels) and, per central
        interval of coverage ``p`` percent, ``coverage_p`` (the fraction of steps inside),
        ``width_p`` and ``winkler_p``; see :mod:`forecast.evaluation.metrics`.
    models : list
        ``models[w]`` is the fitted estimator that forecast window ``w`` (the same object
        for the windows it served without refit).
    bad_series : list of dict
        With ``on_bad_series="skip"``: the series left out, each ``{"id", "reason",
        "detail", "action"}``.
    missing_actuals : int
        Test values that are missing (NaN, or missing timestamps, with an estimator's
        ``missing="mask"``): their ``actual`` is NaN in ``forecasts``, and the metrics skip
        them; ``metrics`` then has a column ``n_actual``, the steps each row was scored on.
    """

    forecasts: Any  # pandas.DataFrame, or a frame of the input's library
    metrics: Any
    models: list[Forecaster] = field(repr=False)
    bad_series: list[dict[str, Any]] = field(default_factory=list)
    missing_actuals: int = 0

    def summary(self) -> Any:
        """Each metric averaged over all windows and series, one row per target.

        A metric that is NaN in a row (with ``missing="mask"``: no observed actual in that
        window, or MASE's scale undefined on a history with gaps) is left out of that
        metric's mean, with a warning naming the series and windows left out.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``target``; columns are the metrics. A backtest of a polars or
            pyarrow frame gets a frame of that library, with ``target`` as its first column;
            of a Spark or Dask frame, a frame of that engine, computed there.
        """
        engine = engine_of(self.metrics)  # a backtest on Spark or Dask: computed there
        if engine is None:
            # pandas, polars or pyarrow: read as pandas (a pyarrow Table's .columns are its
            # ChunkedArrays, not names).
            metrics, kind = to_pandas(self.metrics)
            names = _metric_names(list(metrics.columns))
            _warn_left_out_of_means(metrics, names)
            return to_native(metrics.groupby("target", sort=False)[names].mean(), kind)
        names = _metric_names(list(self.metrics.columns))
        if engine == "dask":
            return self.metrics.groupby("target")[names].mean()
        from pyspark.sql import functions as F  # engine == "spark"

        means = [F.mean(F.col(f"`{n}`")).alias(n) for n in names]
        return self.metrics.groupBy("target").agg(*means)


def _metric_names(columns: list[str]) -> list[str]:
    """The metric columns: those after ``target`` (the keys come first)."""
    return columns[columns.index("target") + 1 :]


def _warn_left_out_of_means(metrics: pd.DataFrame, names: list[str]) -> None:
    """Name the rows whose metric is NaN: the means skip them, and a mean over fewer series
    than the others' is no longer comparable with them."""
    nan = metrics[names].isna()
    if not nan.to_numpy().any():
        return
    keys = list(metrics.columns[: list(metrics.columns).index("cutoff")])  # [id], window
    if metrics["target"].nunique() > 1:
        keys.append("target")
    said = []
    for name in names:
        rows = metrics.loc[nan[name].to_numpy(), keys]
        if len(rows):
            shown = ", ".join(
                " ".join(f"{k} {v!r}" if k != "window" else f"window {v}" for k, v in r.items())
                for r in rows.head(5).to_dict("records")
            )
            more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
            said.append(f"{name!r} at {len(rows)} of {len(metrics)} row(s) ({shown}{more})")
    warn(
        "summary() leaves NaN metrics out of its means, which are then over fewer series "
        f"or windows: {'; '.join(said)}. With missing='mask' a metric is NaN where the "
        "window has no observed actual, and MASE where its history's observed values give "
        "no seasonal-naive scale (no two values season_length apart that differ)."
    )


def _refit_windows(refit: bool | int, n_windows: int) -> list[int]:
    if refit is True:
        return list(range(n_windows))
    if refit is False:
        return [0]
    return list(range(0, n_windows, refit))


def _prepare(
    estimator: Forecaster,
    df: pd.DataFrame,
    n_windows: int,
    step: int | None,
    window_length: int | None,
    sliding: bool,
    on_bad_series: str,
) -> tuple[pd.DataFrame, list[dict[str, Any]], Panel, Layout, Folds]:
    """``df`` without the series ``on_bad_series`` leaves out, those series, its panel and
    layout, and the folds: what a backtest, with or without refit, forecasts and scores."""
    horizon = estimator.horizon
    bad: list[dict[str, Any]] = []
    if on_bad_series != "fail":
        df, bad = _skip_bad(estimator, df, on_bad_series, n_windows, horizon, step)
    panel, layout = estimator._to_panel(df, np.float64)
    folds = make_folds(
        panel,
        n_windows=n_windows,
        step=horizon if step is None else step,
        horizon=horizon,
        window_length=window_length,
        sliding=sliding,
    )
    return df, bad, panel, layout, folds


def _scored_tables(
    panel: Panel,
    layout: Layout,
    folds: Folds,
    forecast: np.ndarray,
    quantiles: np.ndarray | None,
    levels: list[float],
    metrics: Sequence[str],
    season_length: int,
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """The forecasts and metrics tables of ``forecast (W, S, H, T)`` without the series
    ``drop_short`` left out, and the number of missing actuals among the test values."""
    n_targets, horizon = forecast.shape[-1], forecast.shape[2]
    test_rows = (panel.offsets[:-1] + folds.ends)[..., None] + np.arange(horizon)  # (W, S, H)
    actual = panel.values[test_rows, :n_targets]  # (W, S, H, T)
    left_out = placeholders(panel, actual, forecast, quantiles)
    # Only the pairs in the tables: a left-out pair's missing actuals are not the result's.
    missing_actuals = int(np.isnan(actual[~left_out]).sum())
    tidy = forecasts_table(panel, layout, folds, forecast, quantiles, levels)
    scores = metrics_table(
        panel,
        layout,
        folds,
        forecast,
        tuple(metrics),
        season_length,
        quantiles,
        levels,
        scored=~left_out,
    )
    return without_left_out(tidy, left_out, n_targets * horizon), scores, missing_actuals


def _check_params(
    estimator: Forecaster,
    n_windows: Any,
    step: Any,
    refit: Any,
    window: Any,
    window_length: Any,
    metrics: Any,
    season_length: Any,
) -> None:
    check_int("backtest", "n_windows", n_windows, low=1)
    check_int("backtest", "step", step, low=1, allow_none=True)
    if not isinstance(refit, bool):
        check_int("backtest", "refit", refit, low=1)
    check_option("backtest", "window", window, ("expanding", "sliding"))
    check_int("backtest", "window_length", window_length, low=1, allow_none=True)
    if window_length is not None and window != "sliding":
        raise InvalidParameterError(
            "The 'window_length' parameter of backtest only applies to window='sliding'. "
            f"Got window_length={window_length!r} with window={window!r}; drop it or use "
            "window='sliding'."
        )
    if isinstance(metrics, str) or not metrics:
        raise InvalidParameterError(
            "The 'metrics' parameter of backtest must be a non-empty list of metric names "
            f"among {list(METRICS)}. Got {metrics!r} instead."
        )
    for name in metrics:
        check_option("backtest", "metrics", name, METRICS)
    check_int("backtest", "season_length", season_length, low=1)
    if registry.registered_name(estimator) is None:  # every forecaster class registers
        raise InvalidParameterError(
            "The 'estimator' parameter of backtest must be a forecaster (a subclass of "
            "forecast.BaseForecaster, e.g. LSTMForecaster, NaiveForecaster). Got "
            f"{estimator!r} instead."
        )
    check_int(type(estimator).__name__, "horizon", estimator.horizon, low=1)


def _skip_bad(
    estimator: Any, df: pd.DataFrame, mode: str, n_windows: int, horizon: int, step: int | None
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """``df`` without the series a backtest cannot use (``on_bad_series="skip"``)."""
    from forecast._warnings import warn
    from forecast.evaluation.isolation import isolate_for_backtest

    if mode != "skip":
        raise InvalidParameterError(
            "The 'on_bad_series' parameter of backtest must be 'fail' or 'skip'. Got "
            f"{mode!r} instead ('fallback' is predict's: a baseline's errors scored as the "
            "model's would mislead)."
        )
    needed = horizon + (n_windows - 1) * (horizon if step is None else step) + 1
    good, bad = isolate_for_backtest(estimator, df, needed)
    if bad:
        shown = "; ".join(f"{b['id']!r}: {b['reason']} ({b['detail']})" for b in bad[:10])
        if not len(good):
            report = {"n_series": len(bad), "n_bad": len(bad), "bad_fraction": 1.0, "bad": bad}
            raise BadSeriesError(f"Nothing to backtest: every series is bad: {shown}.", report)
        warn(f"Left {len(bad)} bad series out of the backtest: {shown}.")
    return good, bad


def _from_predictions(
    fc: pd.DataFrame, panel: Panel, layout: Layout, horizon: int, columns: list[Any] | None = None
) -> np.ndarray:
    """``columns`` (default the targets) of a ``predict`` frame as ``(S, H, k)``, in panel order."""
    if layout.multiindex:
        fc = fc.reset_index()
    values = fc[panel.target_names if columns is None else columns].to_numpy(dtype=np.float64)
    if not layout.is_long:
        return values[None, :horizon]
    codes = pd.Index(panel.ids).get_indexer(fc[layout.id_col])
    if (codes < 0).any() or len(codes) != panel.n_series * horizon:
        raise DataError(
            f"The estimator's forecast has {len(codes)} rows for series "
            f"{sorted(set(fc[layout.id_col]), key=str)[:10]}; expected {horizon} rows for each "
            "series of the data."
        )
    order = np.argsort(codes, kind="stable")  # rows of one series stay in time order
    return values[order].reshape(panel.n_series, horizon, -1)


def _forecast_windows(
    model: Forecaster,
    df: Any,
    panel: Panel,
    layout: Layout,
    folds: Folds,
    windows: range,
    *,
    batched: bool = True,
) -> np.ndarray:
    """Forecasts ``(len(windows), S, H, T)`` of a fitted ``model`` at the cutoffs of ``windows``.

    Each forecast reads only its own history (up to its cutoff). ``batched`` makes one call
    of the model's ``_forecast_at`` over all (window, series) pairs; otherwise, or for a
    model fitted on other columns, one ``predict(history)`` per window. The point forecasts
    of :func:`_forecast_windows_quantiles`.
    """
    return _forecast_windows_quantiles(model, df, panel, layout, folds, windows, batched=batched)[0]


def _forecast_windows_quantiles(
    model: Forecaster,
    df: Any,
    panel: Panel,
    layout: Layout,
    folds: Folds,
    windows: range,
    *,
    batched: bool = True,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Point forecasts ``(n, S, H, T)`` and quantiles ``(n, S, H, T, Q)`` (None if none).

    The quantiles are at the model's ``quantile_levels_`` (quantile regression or conformal
    bounds). Paths as in :func:`_forecast_windows`.
    """
    n_series, horizon = panel.n_series, folds.horizon
    levels = list(model.quantile_levels_)
    same_columns = list(model.feature_names_in_) == panel.feature_names
    if batched and same_columns:
        served = list(windows)
        if not folds.starts[served].any():  # expanding: every origin in one call
            return _batched(model, panel, folds.ends[served], horizon, len(levels))
        # Sliding: each window forecasts from its own part only. A local model (Theta, ETS)
        # re-estimates on the history it is given, and would otherwise read it all.
        parts = [
            _batched(
                model,
                panel.drop_first(folds.starts[w]),
                (folds.ends[w] - folds.starts[w])[None, :],
                horizon,
                len(levels),
            )
            for w in served
        ]
        quants = [q for _, q in parts if q is not None]
        return (
            np.concatenate([p for p, _ in parts]),
            np.concatenate(quants) if len(quants) == len(parts) else None,
        )
    # Known-future covariates over each horizon are read from df, as the batched path does.
    future = {"future_covariates": df} if model.future_names_ else {}
    names = [quantile_column(t, q) for t in panel.target_names for q in levels]
    points, quants = [], []
    for w in windows:
        fc = model.predict(history_frame(df, panel, folds, w), **future)
        points.append(_from_predictions(fc, panel, layout, horizon))
        if levels:
            quant = _from_predictions(fc, panel, layout, horizon, names)
            quants.append(quant.reshape(n_series, horizon, -1, len(levels)))
    return np.stack(points), np.stack(quants) if levels else None


def _batched(
    model: Forecaster, panel: Panel, ends: np.ndarray, horizon: int, n_levels: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """Forecasts ``(n, S, H, T)`` (and quantiles) from the origins ``ends`` ``(n, S)`` (rows
    inside each series of ``panel``), in one call to the model."""
    n, n_series = ends.shape
    rows = panel.offsets[:-1][None, :] + ends
    series = np.broadcast_to(np.arange(n_series), rows.shape).ravel()
    point, quant = forecast_where_possible(model, panel, series, rows.ravel())
    point = point[:, :horizon].reshape(n, n_series, horizon, -1)
    if quant is not None:
        quant = quant[:, :horizon].reshape(n, n_series, horizon, -1, n_levels)
    return point, quant


def backtest(
    estimator: Forecaster,
    df: pd.DataFrame,
    n_windows: int = 1,
    step: int | None = None,
    *,
    refit: bool | int = True,
    window: str = "expanding",
    window_length: int | None = None,
    metrics: tuple[str, ...] | list[str] = ("mae", "rmse", "smape", "mase"),
    season_length: int = 1,
    on_bad_series: str = "fail",
) -> BacktestResult:
    """Rolling-origin evaluation over the last ``n_windows`` cutoffs of every series.

    Window ``w`` (0 = oldest) puts the cutoff of each series ``horizon + (n_windows - 1 - w)
    * step`` rows before that series' end, fits on the history up to the cutoff, forecasts
    the ``horizon`` rows after it and scores them. Cutoffs are counted per series from its
    own end, so a panel's series may have different lengths and end dates.

    Parameters
    ----------
    estimator : forecaster
        An unfitted (or fitted: it is not used, only cloned) estimator of ours, e.g.
        ``LSTMForecaster(...)`` or ``NaiveForecaster(...)``. It is never modified.
    df : pandas.DataFrame, polars.DataFrame or pyarrow.Table
        Wide or long data, as ``estimator.fit`` takes it. The result's frames are of the
        same library (:mod:`forecast.data.frames`).
    n_windows : int, default 1
        Number of cutoffs.
    step : int, optional
        Rows between consecutive cutoffs; default ``estimator.horizon`` (test windows tile
        the end of the data without overlap).
    refit : bool or int, default True
        ``True``: a fresh clone is fitted at every cutoff. ``False``: the clone fitted at
        the first cutoff forecasts the later ones from their own histories, without refit
        (the scheduled-job case). An int ``k``: refit at every ``k``-th cutoff.
    window : {"expanding", "sliding"}, default "expanding"
        Fit on all history up to the cutoff, or on its last ``window_length`` rows.
    window_length : int, optional
        Rows per series in a sliding window; default what each series has at the first
        cutoff. Only with ``window="sliding"``.
    metrics : sequence of {"mae", "rmse", "mape", "smape", "mase"}
        See :mod:`forecast.evaluation.metrics`. MAPE refuses zero actuals.
    season_length : int, default 1
        MASE's ``m``; its scale is the seasonal-naive error on each window's history.
    on_bad_series : {"fail", "skip"}, default "fail"
        ``"skip"``: series with NaN, a gap or another per-series problem, or too short for
        the windows, are left out with a warning naming them (``BadSeriesError`` if none is
        left); ``bad_series`` of the result lists them. ``"fallback"`` is refused: a
        baseline's errors scored as the model's would mislead. See
        :mod:`forecast.evaluation.isolation`.

    Returns
    -------
    BacktestResult
        ``.forecasts``, ``.metrics``, ``.models`` and ``.summary()``.

    Raises
    ------
    InvalidParameterError
        A parameter out of range, named.
    DataError
        A series too short for the windows asked (named), or data the estimator refuses.

    Examples
    --------
    >>> from forecast.backtest import backtest
    >>> from forecast.baselines import SeasonalNaiveForecaster
    >>> from forecast.datasets import load_air_passengers
    >>> res = backtest(SeasonalNaiveForecaster(season_length=12, horizon=12),
    ...                load_air_passengers(), n_windows=3, season_length=12)
    >>> res.metrics[["window", "cutoff"]].astype(str).values.tolist()
    [['0', '1957-12-01'], ['1', '1958-12-01'], ['2', '1959-12-01']]
    >>> res.summary()[["mae", "mase"]].round(2).to_dict("index")
    {'passengers': {'mae': 35.92, 'mase': 1.21}}
    """
    _check_params(estimator, n_windows, step, refit, window, window_length, metrics, season_length)
    if engine_of(df):  # Spark, Dask: the fitted model per partition (forecast/engines)
        options = {k: v for k, v in locals().items() if k not in ("estimator", "df")}
        return estimator._on_engine("backtest", df, options)
    horizon = estimator.horizon
    df, kind = to_pandas(df)
    with once_per_scope():  # a warning about the data: once, not once per refit
        df, bad, panel, layout, folds = _prepare(
            estimator, df, n_windows, step, window_length, window == "sliding", on_bad_series
        )
        starts = _refit_windows(refit, n_windows)
        shape = (n_windows, panel.n_series, horizon, len(panel.target_names))
        forecast, quantiles = np.empty(shape), None
        models: list[Forecaster] = []
        for first, stop in zip(starts, [*starts[1:], n_windows], strict=True):
            model = clone(estimator).fit(history_frame(df, panel, folds, first))
            served = range(first, stop)
            point, quant = _forecast_windows_quantiles(model, df, panel, layout, folds, served)
            forecast[first:stop] = point
            if quant is not None:
                if quantiles is None:
                    quantiles = np.empty((*shape, quant.shape[-1]))
                quantiles[first:stop] = quant
            models += [model] * len(served)
    levels = list(models[0].quantile_levels_)
    tidy, scores, missing_actuals = _scored_tables(
        panel, layout, folds, forecast, quantiles, levels, metrics, season_length
    )
    cutoff = {"cutoff": layout.time_col}  # a polars Date time column: Date cutoffs too
    return BacktestResult(
        forecasts=to_native(tidy, kind, same_type=cutoff),
        metrics=to_native(scores, kind, same_type=cutoff),
        models=models,
        bad_series=bad,
        missing_actuals=missing_actuals,
    )
