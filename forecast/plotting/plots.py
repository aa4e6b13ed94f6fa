"""Matplotlib figures: a forecast with its history and intervals, a backtest, a training curve.

Every function draws into the ``ax=`` (or ``fig=``) it is given, or a new figure, returns
the matplotlib ``Axes`` or ``Figure``, and never calls ``plt.show()``: in a notebook the
figure appears as the cell's output (a returned ``Figure`` left as the cell's last value is
drawn twice, as any pyplot figure is: assign it or end the line with ``;``); in a script or
a job, save it (``fig.savefig``). Dates
on the x axis use matplotlib's ``AutoDateLocator`` and ``ConciseDateFormatter``, which pick
ticks and labels for the span and frequency shown (hours, days, months, years).

Prediction intervals are drawn where the forecast has quantile columns ``f"{target}_q{q:g}"``
(``y_q0.1``, ``y_q0.9``): one shaded band per symmetric pair ``(q, 1 - q)``, labelled by its
coverage ("80% interval"). See :mod:`forecast.plotting.frames` for the frame layouts read.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from forecast._exceptions import DataError, InvalidParameterError
from forecast._validation import check_int
from forecast.data.frames import to_pandas
from forecast.forecasters.base import BaseForecaster
from forecast.neural.loss_names import resolve_loss

if TYPE_CHECKING:
    from forecast.protocol import TrainedForecaster
from forecast.plotting.frames import (
    FrameLayout,
    interval_columns,
    point_and_quantiles,
    quantile_columns,
    select_ids,
    split_series,
)

__all__ = ["plot_backtest", "plot_forecast", "plot_history"]

HISTORY_COLOR, FORECAST_COLOR = "0.3", "tab:blue"


def _new_axes(nrows: int = 1, ncols: int = 1, *, fig: Any = None, **kwargs: Any) -> Any:
    """A grid of Axes ``(nrows, ncols)`` on ``fig``, or on a new pyplot figure."""
    if fig is None:
        import matplotlib.pyplot as plt

        size = kwargs.pop("figsize", (9.0, 4.0))
        fig = plt.figure(figsize=size, layout="constrained")
    kwargs.pop("figsize", None)
    return fig.subplots(nrows, ncols, squeeze=False, **kwargs)


def _date_axis(ax: Any, tz: Any) -> None:
    """Concise date ticks in ``tz``, the data's zone (matplotlib's locator and formatter
    default to UTC, and would label Tokyo's midnight 15:00 the day before)."""
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=3, maxticks=8, tz=tz)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=tz))


def _draw_one(
    ax: Any,
    forecast: pd.DataFrame,
    history: pd.DataFrame,
    target: str,
    point: str | None,
    quantiles: dict[float, str],
    n_history: int | None,
) -> None:
    """History (and actuals after the origin), bands, forecast and origin line on ``ax``."""
    start = forecast.index[0]
    if target not in history.columns:
        raise DataError(
            f"The history has no column {target!r} to plot before the forecast; pass the "
            "frame the model was fitted on (or a newer one)."
        )
    observed = history[target].dropna()
    before, after = observed[observed.index < start], observed[observed.index >= start]
    if before.empty:
        raise DataError(
            f"The history has no {target!r} before the forecast's first timestamp {start}: "
            "nothing to draw the forecast from."
        )
    if n_history is not None:
        before = before.iloc[-n_history:]
    origin = before.index[-1]
    ax.plot(before.index, before.to_numpy(), color=HISTORY_COLOR, lw=1.2, label="history")
    after = after[after.index <= forecast.index[-1]]
    if not after.empty:  # the history reaches into the forecast: show what happened
        joined = pd.concat([before.iloc[-1:], after])
        ax.plot(joined.index, joined.to_numpy(), color="black", lw=1.2, ls=":", label="actual")
    for i, (coverage, lower, upper) in enumerate(interval_columns(quantiles)):
        ax.fill_between(
            forecast.index,
            forecast[lower].to_numpy(dtype=float),
            forecast[upper].to_numpy(dtype=float),
            color=FORECAST_COLOR,
            alpha=min(0.15 + 0.1 * i, 0.5),
            lw=0,
            label=f"{round(coverage * 100, 6):g}% interval",
        )
    if point is not None:
        marker = "o" if len(forecast) <= 60 else None
        ax.plot(
            forecast.index,
            forecast[point].to_numpy(dtype=float),
            color=FORECAST_COLOR,
            lw=2,
            marker=marker,
            ms=3,
            label="forecast" if point == target else "forecast (median)",
        )
    ax.axvline(origin, color="0.5", ls="--", lw=1, label="forecast origin")
    _date_axis(ax, pd.DatetimeIndex(forecast.index).tz)


def plot_forecast(
    model_or_forecast: BaseForecaster | Any,
    history: Any,
    ax: Any = None,
    *,
    ids: Any = None,
    target: str | None = None,
    n_history: int | None = 200,
    max_series: int = 6,
    future_covariates: pd.DataFrame | None = None,
    id_col: str | None = None,
    time_col: str | None = None,
    title: str | None = None,
    fig: Any = None,
) -> Any:
    """Plot the end of the history, the forecast, its intervals and the forecast origin.

    Parameters
    ----------
    model_or_forecast : fitted forecaster or pandas.DataFrame
        A fitted model of ours (the forecast is then ``model.predict(history)``, from the
        end of ``history``) or a forecast frame as ``predict`` returns it, possibly with
        quantile columns ``f"{target}_q{q:g}"``, drawn as bands (a polars or pyarrow
        frame too: every frame here may be one).
    history : pandas.DataFrame or pandas.Series
        The observed data, in the same layout as the forecast. Rows after the forecast
        origin, if any, are drawn as the actual values.
    ax : matplotlib.axes.Axes, optional
        Where to draw one series; a new figure when omitted.
    ids : id or list of ids, optional
        Series of a long frame to plot; default all, at most ``max_series``.
    target : str, optional
        Column to plot; default the first target.
    n_history : int or None, default 200
        Observations shown before the forecast origin, per series (None: all).
    max_series : int, default 6
        Most series drawn (one panel each); a warning says how many were left out.
    future_covariates : pandas.DataFrame, optional
        Passed to ``model.predict`` for a model with known-future covariates.
    id_col, time_col : str, optional
        Where a forecast frame (not a model) keeps series ids and timestamps; guessed when
        omitted (a ``MultiIndex``, Nixtla's ``unique_id, ds, y`` as ``fit`` reads them, a
        ``DatetimeIndex``, or the only date and text columns; repeated timestamps without
        a text column, as with integer ids under other names, need ``id_col=``).
    title : str, optional
    fig : matplotlib.figure.Figure, optional
        Figure to draw the panels of many series into; a new one when omitted.

    Returns
    -------
    matplotlib.axes.Axes or matplotlib.figure.Figure
        The Axes for a one-series (wide) frame or model, or the ``ax`` given; else, for a
        panel (a long frame or a ``MultiIndex``), the Figure with one Axes per chosen
        series, even when ``ids`` chooses one (``fig.axes[0]``): what is returned depends
        on the data's layout, not on how many series are drawn.

    Raises
    ------
    DataError
        Unknown ``ids``, a target not in the forecast, or a history that ends after the
        forecast starts without any row before it.
    InvalidParameterError
        ``ax`` given for several series.

    Examples
    --------
    >>> from forecast.baselines import SeasonalNaiveForecaster
    >>> from forecast.datasets import load_air_passengers
    >>> df = load_air_passengers()
    >>> model = SeasonalNaiveForecaster(season_length=12, horizon=12).fit(df)
    >>> ax = plot_forecast(model, df, n_history=48)
    >>> [line.get_label() for line in ax.get_lines()]
    ['history', 'forecast', 'forecast origin']
    >>> ax.figure.savefig("forecast.png")  # doctest: +SKIP
    """
    check_int("plot_forecast", "max_series", max_series, low=1)
    check_int("plot_forecast", "n_history", n_history, low=1, allow_none=True)
    history = to_pandas(history, "history")[0]
    future_covariates = to_pandas(future_covariates, "future_covariates")[0]
    if isinstance(model_or_forecast, BaseForecaster):
        model = model_or_forecast
        given: Any = history  # a Series is refused by predict, with a message naming it
        forecast = model.predict(given, future_covariates=future_covariates)
        layout = FrameLayout.of_model(model)
        target = target if target is not None else model.target_names_[0]
    else:
        forecast = to_pandas(model_or_forecast, "The forecast")[0]
        layout = FrameLayout.guess(forecast, id_col, time_col)
    forecasts = split_series(forecast, layout)
    histories = split_series(history, layout)
    columns = next(iter(forecasts.values())).columns
    target, point, quantiles = point_and_quantiles(list(columns), target)
    chosen, total = select_ids(list(forecasts), ids, max_series, "plot_forecast")
    absent = [key for key in chosen if key not in histories]
    if absent:
        raise DataError(
            f"The history has no rows of {layout.id_col or 'series'} {absent[0]!r}, which the "
            f"forecast holds{f' (and {len(absent) - 1} more)' if len(absent) > 1 else ''}: "
            "pass the frame the model was fitted on (or a newer one), or ids= without it."
        )
    horizon = len(forecasts[chosen[0]])
    heading = title if title is not None else f"{target}: {horizon}-step forecast"
    if ax is not None:
        if len(chosen) != 1:
            raise InvalidParameterError(
                f"plot_forecast draws one series into ax=; {len(chosen)} were chosen. Pass "
                "ids=[one id], or fig= (or nothing) for one panel per series."
            )
        grid = np.array([[ax]])
    else:
        ncols = 1 if len(chosen) < 4 else 2
        nrows = math.ceil(len(chosen) / ncols)
        grid = _new_axes(nrows, ncols, fig=fig, figsize=(9.0 * ncols / 1.2, 2.8 + 2.2 * nrows))
    axes = grid.ravel()
    for key, panel in zip(chosen, axes, strict=False):
        _draw_one(panel, forecasts[key], histories[key], target, point, quantiles, n_history)
        panel.set_ylabel(str(target))
        if key is not None:
            panel.set_title(f"{layout.id_col or 'series'} {key}", fontsize="medium")
    for extra_axes in axes[len(chosen) :]:
        extra_axes.remove()
    axes[0].legend(loc="best", fontsize="small")
    if layout.id_col is None or ax is not None:
        only = chosen[0]
        axes[0].set_title(heading if only is None else f"{heading}: {layout.id_col} {only}")
        return axes[0]
    shown = f" ({len(chosen)} of {total} series)" if len(chosen) < total else ""
    axes[0].figure.suptitle(heading + shown)
    return axes[0].figure


def plot_backtest(
    result: Any,
    *,
    series: Any = None,
    target: str | None = None,
    metric: str = "mae",
    fig: Any = None,
    title: str | None = None,
) -> Any:
    """Plot the actual values against each window's forecast, and the error per cutoff.

    Parameters
    ----------
    result : BacktestResult
        What :func:`forecast.backtest.backtest` returned.
    series : id, optional
        For a panel, the series whose forecasts are drawn (default the first); the error
        panel averages every series.
    target : str, optional
        Default the first target.
    metric : str, default "mae"
        A column of ``result.metrics`` (``"mae"``, ``"rmse"``, ``"smape"``, ``"mase"``...).
    fig : matplotlib.figure.Figure, optional
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        Two Axes: on top the actual values (black) and one forecast per window, in the
        window's colour with a dotted line at its cutoff; below, ``metric`` per cutoff
        (a bar per window, in the same colours) and its mean over windows. A backtest
        with quantile columns (``forecast_q0.1``...) also gets the widest central interval
        of each window as a band in the window's colour.

    Raises
    ------
    DataError, InvalidParameterError
        An unknown series, target or metric, named with the choices.

    Examples
    --------
    >>> from forecast.backtest import backtest
    >>> from forecast.baselines import SeasonalNaiveForecaster
    >>> from forecast.datasets import load_air_passengers
    >>> res = backtest(SeasonalNaiveForecaster(season_length=12, horizon=12),
    ...                load_air_passengers(), n_windows=3)
    >>> fig = plot_backtest(res)
    >>> top, bottom = fig.axes
    >>> len(top.get_lines()), len(bottom.patches)  # actual + 3 forecasts + 3 cutoffs; 3 bars
    (7, 3)
    """
    frame, metrics = to_pandas(result.forecasts)[0], to_pandas(result.metrics)[0]
    names = list(frame.columns)
    time_col = names[names.index("cutoff") + 1]
    id_col = names[0] if names[0] != "window" else None
    targets = list(pd.unique(frame["target"]))
    target = targets[0] if target is None else target
    if target not in targets:
        raise DataError(f"plot_backtest: target {target!r} is not in the backtest: {targets}.")
    if metric not in metrics.columns or metric in ("window", "cutoff", "target", id_col):
        choices = [c for c in metrics.columns if c not in ("window", "cutoff", "target", id_col)]
        raise InvalidParameterError(
            f"The 'metric' parameter of plot_backtest must be one of {choices} (the metrics "
            f"the backtest computed). Got {metric!r} instead."
        )
    frame = frame[frame["target"] == target]
    metrics = metrics[metrics["target"] == target]
    n_series = 1
    label = who = ""
    if id_col is not None:
        available = list(pd.unique(frame[id_col]))
        n_series = len(available)
        chosen, _ = select_ids(available, available[0] if series is None else series, 1,
                               "plot_backtest")  # fmt: skip
        frame = frame[frame[id_col] == chosen[0]]
        who = f"{id_col} {chosen[0]}"
        label = f" ({who})"
    import matplotlib as mpl

    top, bottom = _new_axes(2, 1, fig=fig, figsize=(9.0, 6.0), height_ratios=(2.2, 1)).ravel()
    windows = sorted(pd.unique(frame["window"]))
    colours = mpl.colormaps["viridis"](np.linspace(0.0, 0.85, max(len(windows), 1)))
    actual = frame.drop_duplicates(time_col).sort_values(time_col)
    top.plot(actual[time_col], actual["actual"], color="black", lw=1.3, label="actual")
    # With quantiles or intervals: the widest central interval of each window as a band.
    bands = interval_columns(quantile_columns(names, "forecast"))[:1]
    parts = [frame[frame["window"] == w].sort_values(time_col) for w in windows]
    cutoffs = [part["cutoff"].iloc[0] for part in parts]
    names = _cutoff_names(cutoffs)
    for w, colour, part, cutoff, name in zip(windows, colours, parts, cutoffs, names, strict=True):
        top.plot(part[time_col], part["forecast"], color=colour, lw=1.8, label=f"cutoff {name}")
        top.axvline(cutoff, color=colour, ls=":", lw=1)
        for coverage, lower, upper in bands:
            top.fill_between(
                part[time_col],
                part[lower].to_numpy(dtype=float),
                part[upper].to_numpy(dtype=float),
                color=colour,
                alpha=0.2,
                lw=0,
                label=f"{round(coverage * 100, 6):g}% interval" if w == windows[0] else None,
            )
    top.set_ylabel(str(target))
    lines = top.get_lines()
    # The actuals, the windows (all, or with many the oldest and the latest), then the band.
    shown = [lines[0], *lines[1::2]] if len(windows) <= 6 else [lines[0], lines[1], lines[-2]]
    shown += top.collections[:1]
    top.legend(
        shown,
        [h.get_label() for h in shown],
        loc="best",
        fontsize="small",
        ncols=2 if 3 < len(windows) <= 6 else 1,
    )
    _date_axis(top, pd.DatetimeIndex(actual[time_col]).tz)
    top.set_title(title if title is not None else f"Backtest of {target}{label}")

    per_window = metrics.groupby("window")[metric].mean().reindex(windows)
    positions = np.arange(len(windows))
    bottom.bar(positions, per_window.to_numpy(), color=colours, width=0.6)
    mean = float(np.nanmean(per_window.to_numpy()))
    bottom.axhline(mean, color="0.4", ls="--", lw=1, label=f"mean {mean:.4g}")
    bottom.set_xticks(positions, names, fontsize="small")
    if len(windows) > 6:
        bottom.tick_params(axis="x", labelrotation=30)
        for tick in bottom.get_xticklabels():
            tick.set_horizontalalignment("right")
    # On a panel each series has its own cutoffs: the ticks name the drawn series' ones.
    averaged = f" of {who}; {metric.upper()} mean over {n_series} series" if who else ""
    bottom.set_ylabel(metric.upper())
    bottom.set_xlabel("cutoff" + averaged)
    bottom.legend(loc="best", fontsize="small")
    return top.figure


def _cutoff_names(cutoffs: list[Any]) -> list[str]:
    """The cutoffs as dates, with the time of day when one is not at midnight (hourly
    windows would otherwise read the same date twice), and seconds when one has them."""
    stamps = [pd.Timestamp(c) for c in cutoffs]
    if all(s == s.normalize() for s in stamps):
        fmt = "%Y-%m-%d"
    elif all(s.second == 0 and s.microsecond == 0 and s.nanosecond == 0 for s in stamps):
        fmt = "%Y-%m-%d %H:%M"
    else:
        fmt = "%Y-%m-%d %H:%M:%S"
    return [s.strftime(fmt) for s in stamps]


def plot_history(model: BaseForecaster, ax: Any = None, *, logy: bool = False) -> Any:
    """Plot the training and validation loss per epoch, with the epoch whose weights were kept.

    Parameters
    ----------
    model : RNNForecaster
        A fitted recurrent model (``LSTMForecaster``, ``GRUForecaster``...): its ``history_``
        and ``best_epoch_``.
    ax : matplotlib.axes.Axes, optional
    logy : bool, default False
        Logarithmic loss axis.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    NotFittedError
        Before ``fit``.
    InvalidParameterError
        A model that trains no network (a baseline).

    Examples
    --------
    >>> from forecast import GRUForecaster
    >>> from forecast.datasets import load_air_passengers
    >>> model = GRUForecaster(seq_len=12, horizon=3, hidden_size=4, max_epochs=3,
    ...                       progress_bar=False, random_state=0)
    >>> ax = plot_history(model.fit(load_air_passengers()))
    >>> [line.get_label() for line in ax.get_lines()][:2]
    ['train loss', 'validation loss']
    """
    from sklearn.utils.validation import check_is_fitted

    params = model.get_params() if isinstance(model, BaseForecaster) else {}
    if "max_epochs" not in params:
        raise InvalidParameterError(
            "plot_history needs a fitted recurrent model (RNNForecaster, LSTMForecaster, "
            f"GRUForecaster), whose history_ has the loss per epoch. Got "
            f"{type(model).__name__}, which trains no network."
        )
    check_is_fitted(model, "history_")
    trained = cast("TrainedForecaster", model)  # it has max_epochs: it trains a network
    history = trained.history_
    if ax is None:
        ax = _new_axes(figsize=(7.0, 3.8))[0, 0]
    epochs = history["epoch"].to_numpy()
    ax.plot(epochs, history["train_loss"], color="tab:blue", marker=".", label="train loss")
    validated = bool(np.isfinite(history["val_loss"].to_numpy(dtype=float)).any())
    if validated:
        ax.plot(
            epochs, history["val_loss"], color="tab:orange", marker=".", label="validation loss"
        )
    best = trained.best_epoch_
    if best is not None:
        ax.axvline(best, color="tab:green", ls="--", lw=1, label=f"best epoch {best} (kept)")
    ran, budget = len(history), params["max_epochs"]
    steps = (params.get("trainer_kwargs") or {}).get("max_steps")
    if isinstance(steps, int) and steps > 0:  # a step budget ends the fit, not max_epochs
        ended = f"; step budget of {steps} steps ({ran} epochs)"
    else:
        ended = f"; stopped early after {ran} of {budget} epochs" if budget and ran < budget else ""
    name = str(params.get("cell") or type(model).__name__).upper()
    ax.set_title(f"{name}: loss per epoch{ended}", fontsize="medium")
    ax.set_xlabel("epoch")
    # The loss trained with: loss=None means mse, or pinball with quantiles (as fit reads it).
    loss = resolve_loss(params.get("loss"), params.get("quantiles"))
    ax.set_ylabel(f"{loss} loss (scaled values)")
    if logy:
        ax.set_yscale("log")
    ax.legend(loc="best", fontsize="small")
    return ax
