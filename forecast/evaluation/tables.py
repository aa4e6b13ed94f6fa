"""Tidy backtest tables (forecasts, metrics per window) and MASE's in-sample scale.

Symbols: W windows (cutoffs), S series, H horizon, T targets, Q quantile levels, m season
length. Folds (which rows are history and test) are :mod:`forecast.evaluation.folds`'.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from forecast._exceptions import DataError
from forecast.data.output import quantile_column
from forecast.data.panel import Layout, Panel
from forecast.data.ranges import range_sums
from forecast.evaluation.folds import Folds
from forecast.evaluation.metrics import (
    coverage,
    interval_width,
    mae,
    mape,
    pinball_loss,
    rmse,
    smape,
    winkler_score,
)

__all__ = [
    "METRICS",
    "forecasts_table",
    "interval_pairs",
    "metrics_table",
    "seasonal_scale",
]

METRICS = ("mae", "rmse", "mape", "smape", "mase")
_POINT_METRICS = {"mae": mae, "rmse": rmse, "mape": mape, "smape": smape}


def seasonal_scale(
    panel: Panel, starts: np.ndarray, ends: np.ndarray, m: int, label: Any
) -> np.ndarray:
    """MASE's in-sample scale of each history ``starts:ends`` (absolute rows), ``(N, T)``.

    ``mean(|y[t] - y[t - m]|)`` over the history, one vectorised sum per history
    (:func:`~forecast.data.ranges.range_sums`). ``label(i)`` names history ``i`` in errors.

    A history of ``m`` rows or fewer is a ``DataError``, as is a target whose history
    repeats itself exactly (scale 0). Under ``missing="mask"`` a history (of one target)
    holding NaN is scaled over the pairs ``y[t], y[t - m]`` both observed, and is NaN where
    it has no such pair or they all repeat: gaps are expected there. The choice is made per
    history and target, so one NaN elsewhere in the panel changes nothing for the others.
    """
    y = panel.values[:, : len(panel.target_names)].astype(np.float64)
    count = ends - starts - m  # (N,)
    short = np.flatnonzero(count < 1)
    if short.size:  # too few rows, observed or not: no pair m steps apart can exist
        i = int(short[0])
        raise DataError(
            f"MASE with season_length={m} needs more than {m} history rows, but "
            f"{label(i)} has {ends[i] - starts[i]}. Use a smaller season_length, a longer "
            "history, or leave 'mase' out of metrics."
        )
    diff = np.zeros_like(y)
    diff[m:] = np.abs(y[m:] - y[:-m])  # rows whose lag crosses a series start are never summed
    seen = ~np.isnan(diff)
    # Summed with the NaN pairs as 0 (and counted out), so that a NaN of one history never
    # reaches the sums of another.
    total = range_sums(np.where(seen, diff, 0.0), starts + m, ends)
    pairs = range_sums(seen.astype(np.float64), starts + m, ends)
    gappy = pairs < count[:, None]  # (N, T): a missing value in that history's target
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = total / pairs
    zero_rows, zero_cols = np.nonzero((scale == 0) & ~gappy)
    if zero_rows.size:
        i = int(zero_rows[0])
        raise DataError(
            f"MASE is undefined for target {panel.target_names[zero_cols[0]]!r} of {label(i)}: "
            f"its history repeats itself exactly every {m} step(s), so the seasonal-naive "
            "scale is 0. Leave 'mase' out of metrics, or drop that series."
        )
    return np.where(scale > 0, scale, np.nan)


def _actuals(panel: Panel, folds: Folds) -> np.ndarray:
    """Observed test values ``(W, S, H, T)``."""
    rows = panel.offsets[:-1] + folds.ends  # (W, S) first test row
    steps = np.arange(folds.horizon)
    return panel.values[rows[..., None] + steps, : len(panel.target_names)]


def forecasts_table(
    panel: Panel,
    layout: Layout,
    folds: Folds,
    forecast: np.ndarray,
    quantiles: np.ndarray | None = None,
    levels: tuple[float, ...] | list[float] = (),
) -> pd.DataFrame:
    """Tidy frame: one row per window, series, target and step, with actual and forecast.

    Columns: ``[id_col], window, cutoff, <time>, step, target, actual, forecast``, where
    ``<time>`` is the input's time column or index name (``"timestamp"`` if unnamed) and
    holds the timestamp of the observation ``step`` rows after the series' cutoff; with
    ``quantiles`` ``(W, S, H, T, Q)``, then ``forecast_q{q:g}`` for each of ``levels``.
    """
    n_windows, n_series, horizon, n_targets = forecast.shape
    w, s, t, h = np.indices((n_windows, n_series, n_targets, horizon)).reshape(4, -1)
    cutoff_rows = panel.offsets[:-1][s] + folds.ends[w, s] - 1
    frame: dict[Any, Any] = {}
    if layout.is_long:
        frame[layout.id_col] = pd.Index(panel.ids).to_numpy()[s]
    frame.update(
        {
            "window": w,
            "cutoff": panel.times[cutoff_rows],
            layout.time_name or "timestamp": panel.times[cutoff_rows + 1 + h],
            "step": h + 1,
            "target": np.asarray(panel.target_names, dtype=object)[t],
            "actual": _actuals(panel, folds)[w, s, h, t],
            "forecast": forecast[w, s, h, t],
        }
    )
    if quantiles is not None:
        for j, q in enumerate(levels):
            frame[quantile_column("forecast", q)] = quantiles[w, s, h, t, j]
    return pd.DataFrame(frame)


def interval_pairs(levels: list[float] | tuple[float, ...]) -> list[tuple[int, int, float]]:
    """Central intervals among quantile levels: ``(lower index, upper index, coverage)``.

    A level ``q < 0.5`` whose mirror ``1 - q`` is also a level makes an interval of
    coverage ``1 - 2q``; widest first.

    Examples
    --------
    >>> interval_pairs([0.025, 0.1, 0.5, 0.9, 0.975])
    [(0, 4, 0.95), (1, 3, 0.8)]
    """
    pairs = []
    for i, q in enumerate(levels):
        mirror = [j for j, p in enumerate(levels) if q < 0.5 and abs(p - (1 - q)) < 1e-9]
        if mirror:
            pairs.append((i, mirror[0], round(1 - 2 * q, 12)))
    return pairs


def _interval_metrics(
    y_true: np.ndarray, quantiles: np.ndarray, levels: list[float] | tuple[float, ...]
) -> dict[str, np.ndarray]:
    """Per column of ``y_true`` ``(H, R)``, from ``quantiles`` ``(H, R, Q)`` at ``levels``.

    ``pinball``: the pinball loss averaged over the levels; for each central interval of
    coverage ``c`` (percent ``p``): ``coverage_p``, ``width_p``, ``winkler_p``.
    """
    raw = {"multioutput": "raw_values"}
    columns = {
        "pinball": np.mean(
            [pinball_loss(y_true, quantiles[..., j], q, **raw) for j, q in enumerate(levels)],
            axis=0,
        )
    }
    for lo, hi, c in interval_pairs(levels):
        lower, upper = quantiles[..., lo], quantiles[..., hi]
        percent = f"{100 * c:g}"
        columns[f"coverage_{percent}"] = coverage(y_true, lower, upper, **raw)
        columns[f"width_{percent}"] = interval_width(lower, upper, **raw)
        columns[f"winkler_{percent}"] = winkler_score(y_true, lower, upper, c, **raw)
    return columns


def metrics_table(
    panel: Panel,
    layout: Layout,
    folds: Folds,
    forecast: np.ndarray,
    names: tuple[str, ...],
    season_length: int,
    quantiles: np.ndarray | None = None,
    levels: tuple[float, ...] | list[float] = (),
    scored: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per window, series and target: ``[id_col], window, cutoff, target, *names``.

    Each metric is computed over the ``H`` test steps of its row. MASE's scale is the
    seasonal-naive error on that window's history of that series (what a refit at that
    cutoff trains on), so it does not depend on the refit schedule. With ``quantiles``
    ``(W, S, H, T, Q)`` at ``levels``, the interval metrics of :func:`_interval_metrics`
    follow (``pinball``, and ``coverage_80``, ``width_80``, ``winkler_80`` for the 80 %
    interval ...). Every column after ``target`` is a metric.

    ``scored`` ``(W, S)``, if given, holds the (window, series) pairs to score; the others
    (those a ``drop_short`` model left out) get no row, and none of the checks (MASE's
    history, MAPE's zero actuals, missing actuals) looks at them.
    """
    actual = _actuals(panel, folds)  # (W, S, H, T)
    n_windows, n_series, horizon, n_targets = actual.shape
    w, s, t = np.indices((n_windows, n_series, n_targets)).reshape(3, -1)
    # (H, W·S·T): one column per row of the table, so each metric is one vectorised call.
    y_true = actual.transpose(2, 0, 1, 3).reshape(horizon, -1)
    y_pred = forecast.transpose(2, 0, 1, 3).reshape(horizon, -1)
    y_quant = None
    if quantiles is not None:
        y_quant = quantiles.transpose(2, 0, 1, 3, 4).reshape(horizon, -1, len(levels))
    if scored is not None:
        keep = np.flatnonzero(scored[w, s])
        w, s, t, y_true, y_pred = w[keep], s[keep], t[keep], y_true[:, keep], y_pred[:, keep]
        y_quant = None if y_quant is None else y_quant[:, keep]
    begin = panel.offsets[:-1]
    cutoffs = panel.times[begin[s] + folds.ends[w, s] - 1]

    def label(i: int) -> str:
        return f"{panel.series_label(s[i])} at window {w[i]} (cutoff {cutoffs[i]})"

    columns: dict[Any, Any] = {}
    if layout.is_long:
        columns[layout.id_col] = pd.Index(panel.ids).to_numpy()[s]
    columns.update(window=w, cutoff=cutoffs)
    missing = np.isnan(y_true)
    if missing.any():  # missing="mask": scored on the observed steps, and says how many
        columns["n_actual"] = (~missing).sum(axis=0)
        scale = None
        if "mase" in names:
            starts = (begin[None, :] + folds.starts)[w, s]
            ends = (begin[None, :] + folds.ends)[w, s]
            scale = seasonal_scale(panel, starts, ends, season_length, label)[np.arange(len(t)), t]
        columns["target"] = np.asarray(panel.target_names, dtype=object)[t]
        columns.update(_observed_metrics(y_true, y_pred, names, scale, y_quant, levels))
        return pd.DataFrame(columns)
    columns["target"] = np.asarray(panel.target_names, dtype=object)[t]
    for name in names:
        if name == "mase":
            starts = (begin[None, :] + folds.starts)[w, s]
            ends = (begin[None, :] + folds.ends)[w, s]
            scale = seasonal_scale(panel, starts, ends, season_length, label)[np.arange(len(t)), t]
            columns[name] = mae(y_true, y_pred, multioutput="raw_values") / scale
            continue
        if name == "mape" and (y_true == 0).any():
            step, i = (int(k[0]) for k in np.nonzero(y_true == 0))
            raise DataError(
                f"MAPE divides by the actual values, but {label(i)} has 0 at step {step + 1} "
                f"({int((y_true == 0).sum())} zero actual(s) in all). Leave 'mape' out of "
                "metrics, or use smape or mase."
            )
        columns[name] = _POINT_METRICS[name](y_true, y_pred, multioutput="raw_values")
    if y_quant is not None:
        columns.update(_interval_metrics(y_true, y_quant, levels))
    return pd.DataFrame(columns)


def _observed_metrics(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    names: tuple[str, ...],
    scale: np.ndarray | None,
    y_quant: np.ndarray | None,
    levels: tuple[float, ...] | list[float],
) -> dict[str, np.ndarray]:
    """Each metric of each column ``(H, R)`` over its observed (non-NaN) steps only.

    With ``missing="mask"`` some actuals are missing; each column is scored on the steps it
    has (NaN where it has none), one column at a time with the same metric functions.
    """
    n_cols = y_true.shape[1]
    out: dict[str, np.ndarray] = {}
    for j in range(n_cols):
        seen = ~np.isnan(y_true[:, j])
        if not seen.any():
            continue
        yt, yp = y_true[seen, j : j + 1], y_pred[seen, j : j + 1]
        row = {}
        for name in names:
            if name == "mase":
                row[name] = float(mae(yt, yp)) / float(scale[j]) if scale is not None else np.nan
            else:
                row[name] = float(_POINT_METRICS[name](yt, yp))
        if y_quant is not None:
            interval = _interval_metrics(yt, y_quant[seen, j : j + 1], levels)
            row.update({k: float(v[0]) for k, v in interval.items()})
        for key, value in row.items():
            out.setdefault(key, np.full(n_cols, np.nan))[j] = value
    return out
