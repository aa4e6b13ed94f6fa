"""``target_transform`` in the fit/predict template: fit on transformed targets, answer in units.

(And the checks and the notice of ``past_covariates``, the template's other new parameter.)

:class:`~forecast.BaseForecaster` calls these around its hooks, so every forecaster gets
the parameter without code of its own: ``_fit`` sees the transformed panel, and every
forecast of ``_forecast`` / ``_forecast_fitted`` (points and quantiles) is inverted before
conformal bounds, metrics, plots or the output frame see it. The maths is in
:mod:`forecast.data.transforms`.

Box-Cox lambdas are fitted per series on the panel ``_fit`` gets, which is only the
training part: a backtest fold's history, the calibration fit's head. A series the model
was not fitted on (``predict(df)`` with a new series, or one ``drop_short`` left out) gets
a lambda fitted on its own history before its first forecast origin.

Symbols: S series, T targets, N forecasts, H horizon, Q quantile levels.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from forecast._exceptions import InvalidParameterError, ModelFileError, NumericalError
from forecast._validation import series_name
from forecast._warnings import warn_once
from forecast.data.features import CALENDAR_FEATURES, calendar_features
from forecast.data.panel import Panel, series_positions
from forecast.data.past_covariates import check_roles, notice_implicit
from forecast.data.seasonality import season_positions
from forecast.data.transforms import (
    TRANSFORMS,
    check_domain,
    fit_lambdas,
    forward,
    inverse,
    no_season,
    out_of_range,
)
from forecast.forecasters._fit_windows import too_short
from forecast.neural.loss_names import RELATIVE_LOSSES
from forecast.protocol import Forecast

__all__ = [
    "calendar_columns",
    "check_domain",
    "check_fit_domain",
    "check_transform",
    "end_label",
    "filled_calendar",
    "forecast",
    "in_original_units",
    "invert",
    "kept_lambdas",
    "lambdas_for",
    "notice_relative_loss",
    "origin_label",
    "prepare_fit",
    "restore_extras",
    "restored_lambdas",
    "save_extras",
    "transformed_targets",
]

_LAMBDAS = "target_transform.lambdas"  # a model file's array of Box-Cox lambdas
_FITTED = ("boxcox", "deseasonalize")  # transforms with parameters fitted per series
_CALENDAR = "calendar_features"  # its metadata key


def check_transform(owner: Any) -> None:
    """``target_transform`` (one of :data:`~forecast.data.transforms.TRANSFORMS`) and
    ``past_covariates`` (no column with another role), the template's parameters."""
    future, static = owner._covariates()
    roles = {"target": owner.target, "id_col": owner.id_col, "time_col": owner.time_col}
    roles |= {"future_covariates": future, "static_covariates": static}
    check_roles(owner, owner.past_covariates, roles)
    value = owner.target_transform
    if value not in TRANSFORMS:
        raise InvalidParameterError(
            f"The 'target_transform' parameter of {type(owner).__name__} must be one of "
            f"{list(TRANSFORMS)}. Got {value!r} instead."
        )
    season = getattr(owner, "season_length", None)
    if value == "deseasonalize" and not (isinstance(season, int | np.integer) and season >= 2):
        name = type(owner).__name__
        if "season_length" not in owner.get_params(deep=False):
            raise InvalidParameterError(
                f"target_transform='deseasonalize' takes each series' season off, "
                f"which needs a season_length, and {name} has none. Use a forecaster "
                "with one (SeasonalNaiveForecaster, RNNForecaster, LSTMForecaster, "
                "GRUForecaster) or another target_transform."
            )
        raise InvalidParameterError(
            f"target_transform='deseasonalize' takes each series' season off, "
            f"so {name} needs season_length, an int >= 2 (12 for monthly "
            f"data, 4 for quarterly, 7 for daily). Got season_length={season!r}."
        )


def prepare_fit(owner: Any, panel: Panel) -> Panel:
    """The panel ``_fit`` gets: targets transformed (``owner.target_lambdas_`` set).

    Also names, once, the past covariates that ``past_covariates=None`` chose, if ``owner``
    reads them (:func:`~forecast.data.past_covariates.notice_implicit`), and keeps the
    known-future covariates that are calendar features in ``owner.calendar_features_``
    (:func:`calendar_columns`, for ``make_future_frame``).
    """
    if owner.past_covariates is None and owner._reads_past_covariates:
        notice_implicit(type(owner).__name__, panel.covariate_names)
    owner.calendar_features_ = calendar_columns(panel)
    # A warm start (only a fitted network starts one) keeps the lambdas of the series seen.
    panel, owner.target_lambdas_ = transformed_targets(owner, panel, warm=owner)
    return panel


def transformed_targets(
    owner: Any, panel: Panel, warm: Any = None
) -> tuple[Panel, np.ndarray | None]:
    """``panel`` with its targets transformed as ``owner`` transforms them, and what the
    transform fitted on it: Box-Cox lambdas ``(S, T)``, the seasons ``(S, T, m, 2)``, or
    None. What :func:`prepare_fit` does to the panel ``_fit`` gets, and each rank of a fit
    from parts to the series it reads (:mod:`forecast.forecasters._partitioned`).

    ``warm`` is the fitted model a warm start continues (``owner`` itself in one process,
    its copy in a fit from parts), or None: the series it was fitted on keep its lambdas
    (:func:`kept_lambdas`).
    """
    method = owner.target_transform
    lambdas = fit_lambdas(panel, method, getattr(owner, "season_length", None))
    if warm is not None:
        lambdas = kept_lambdas(owner, warm, panel, lambdas)
    return forward(panel, method, lambdas), lambdas


def kept_lambdas(
    owner: Any, warm: Any, panel: Panel, lambdas: np.ndarray | None
) -> np.ndarray | None:
    """``lambdas`` (fitted on ``panel``) with those of the series ``warm`` was fitted on
    replaced by ``warm``'s, when a fit of ``owner`` would start warm from ``warm``.

    Why: a warm start keeps the fitted scalers' statistics of those series
    (:func:`~forecast.forecasters._warm_start.warm_state`), which are in the units of the
    fitted lambdas; refitted on the new data, the lambdas would put the series in other
    units than the kept statistics and weights read (a Box-Cox lambda of -0.18 refitted to
    -0.09 moved the forecasts of unchanged weights by 42%). Series new to the model get
    the lambdas fitted on their own data, as a cold fit gives them. Where the fitted state
    cannot be kept (another transform, season length or number of targets), the fresh
    lambdas are returned: the warm start's check then refuses the fit, naming why.
    """
    fitted = warm.__dict__.get("target_lambdas_")
    if (
        lambdas is None
        or fitted is None
        or not getattr(warm, "warm_start", False)
        or "network_" not in warm.__dict__
        or warm.__dict__.get("fitted_transform_", transform_of(owner)) != transform_of(owner)
        or fitted.shape[1:] != lambdas.shape[1:]
    ):
        return lambdas
    positions, _ = series_positions(panel.ids, warm.series_ids_)
    seen = positions >= 0
    lambdas = lambdas.copy()
    lambdas[seen] = fitted[positions[seen]]
    return lambdas


def check_fit_domain(owner: Any, panel: Panel) -> None:
    """What ``owner``'s transform refuses in ``panel``, before any training: a value it
    cannot take, a frequency ``"deseasonalize"`` cannot count seasons in."""
    check_domain(panel, owner.target_transform)
    if owner.target_transform == "deseasonalize" and panel.n_series:
        season_positions(panel.times[:1], panel.freq, int(owner.season_length))
    notice_relative_loss(owner, panel)


def notice_relative_loss(owner: Any, panel: Panel) -> None:
    """Warn when a percentage-error loss (``loss="mape"``, ``"smape"``) meets a target at or
    below 0: such an error is then relative to a value near or across 0. Training goes on
    (an actual's size is floored at a tenth of its input window's level, so nothing blows
    up), but the loss no longer means what its name says; the warning names the first
    value, once per :func:`forecast._warnings.once_per_scope` (an ensemble's members, a
    backtest's refits).

    What is checked is what the network will train on: the series ``drop_short`` keeps,
    and under ``target_transform="deseasonalize"`` the values with the season taken off (a
    positive series whose season is additive, because an index would be under 0.01, can
    go below 0 once its components are subtracted; one with a 0 may not).
    """
    if getattr(owner, "loss", None) not in RELATIVE_LOSSES or not len(panel.values):
        return
    trained = np.flatnonzero(_trained_series(owner, panel))
    if not len(trained):
        return
    if len(trained) < panel.n_series:
        panel = panel.subset(trained)
    adjusted = owner.target_transform == "deseasonalize"
    if adjusted:
        with warnings.catch_warnings():  # the fit's own transform says what it has to say
            warnings.simplefilter("ignore")
            panel = transformed_targets(owner, panel)[0]
    targets = panel.values[:, : len(panel.target_names)]
    low = np.flatnonzero((targets <= 0).any(axis=1))  # NaN compares False: not counted
    if not len(low):
        return
    row = int(low[0])
    first = panel.series_label(int(panel.series_of(row)))
    count = len(np.unique(panel.series_of(low)))
    seen = " with its season taken off (target_transform='deseasonalize')" if adjusted else ""
    warn_once(
        f"loss={owner.loss!r} measures errors relative to the actual values, but the "
        f"target{seen} has values at or below 0 in {count} series (first: {first} at "
        f"{panel.times[row]}). Their errors are measured against "
        "at least a tenth of each input window's level; for series that touch or cross 0, "
        "loss='mae' weighs errors evenly."
    )


def _trained_series(owner: Any, panel: Panel) -> np.ndarray:
    """Which series of ``panel`` ``owner``'s fit trains on ``(S,)``: every one, but those
    ``drop_short=True`` leaves out. (Where it would leave out all, one process refuses the
    fit; a rank of a fit from parts trains on none of them.)"""
    if getattr(owner, "drop_short", False):
        return ~too_short(owner, panel.lengths)
    return np.ones(panel.n_series, dtype=bool)


def calendar_columns(panel: Panel) -> list[str]:
    """The known-future covariates of ``panel`` that are calendar features (``forecast.features``).

    Named as a feature of ``CALENDAR_FEATURES`` and equal to it at every observed row (to
    float32 rounding): a column named ``month`` that holds 1..12 is the user's, not ours.
    Rows where the column is NaN (a gap's inserted rows under ``missing="mask"``) say
    nothing either way, so they are left out of the comparison.
    """
    return [name for name in panel.future_names if _calendar_values(panel, name) is not None]


def filled_calendar(panel: Panel, names: list[str] | None = None) -> Panel:
    """``panel`` with the NaN of its calendar-feature columns computed from the timestamps.

    Under ``missing="mask"`` a gap's inserted rows are NaN in every column; a calendar
    feature's value there is known, not missing, so it is computed rather than imputed
    (and the column gets no observed channel). Done for the columns among ``names``
    (default: the known-future covariates) that :func:`calendar_columns` recognises; the
    panel itself is returned when there is nothing to fill.
    """
    values = None
    for name in panel.future_names if names is None else names:
        j = panel.feature_names.index(name)
        gaps = np.isnan(panel.values[:, j])
        expected = _calendar_values(panel, name) if gaps.any() else None
        if expected is not None:
            values = panel.values.copy() if values is None else values
            values[gaps, j] = expected[gaps]
    if values is None:
        return panel
    values.setflags(write=False)  # as to_panel's: the panel is shared read-only
    return replace(panel, values=values)


def _calendar_values(panel: Panel, name: str) -> np.ndarray | None:
    """The calendar feature ``name`` at ``panel``'s timestamps ``(R,)``, if ``panel``'s
    column ``name`` holds it at every row where it is not NaN (one row at least)."""
    if name not in CALENDAR_FEATURES:
        return None
    column = panel.values[:, panel.feature_names.index(name)]
    seen = ~np.isnan(column)
    if not seen.any():
        return None
    expected = calendar_features(panel.times, features=[name])[name].to_numpy()
    return expected if np.allclose(column[seen], expected[seen], rtol=0, atol=1e-6) else None


def save_extras(owner: Any, arrays: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
    """Add the Box-Cox lambdas (or the seasons) and the calendar features to a model file's
    state. Seasons without an additive offset are saved as their indices alone ``(S, T,
    m)``, as before the additive seasons: such a file opens in the versions before them."""
    lambdas = owner.__dict__.get("target_lambdas_")
    if lambdas is not None:
        if owner.target_transform == "deseasonalize" and not lambdas[..., 1].any():
            lambdas = lambdas[..., 0]
        arrays[_LAMBDAS] = lambdas
    if owner.__dict__.get("calendar_features_"):
        metadata[_CALENDAR] = list(owner.calendar_features_)


def transform_of(owner: Any) -> str:
    """``owner``'s target transform (with its season length for ``"deseasonalize"``), as
    a warm start's message shows it: the units its fitted scalers and weights are in."""
    method = owner.target_transform
    if method == "deseasonalize":
        season = getattr(owner, "season_length", None)
        return f"{method!r} (season_length={season if season is None else int(season)})"
    return repr(method)


def restore_extras(
    owner: Any, arrays: dict[str, np.ndarray], metadata: dict[str, Any]
) -> dict[str, np.ndarray]:
    """Inverse of :func:`save_extras` (``metadata`` loses its key); the other arrays."""
    owner.fitted_transform_ = transform_of(owner)  # the saved parameters' transform
    owner.target_lambdas_ = restored_lambdas(arrays.get(_LAMBDAS), owner)
    calendar = metadata.pop(_CALENDAR, [])
    if not isinstance(calendar, list) or not set(calendar) <= set(owner.future_names_):
        raise ModelFileError(f"its calendar features {calendar!r} are not future covariates")
    owner.calendar_features_ = calendar
    return {k: v for k, v in arrays.items() if k != _LAMBDAS}


def lambdas_for(
    panel: Panel,
    series: np.ndarray,
    ends: np.ndarray,
    owner: Any,
) -> np.ndarray:
    """Box-Cox lambdas ``(S, T)`` (or the seasons' divisors and offsets ``(S, T, m, 2)``) of
    each series of ``panel``: the fitted ones where ``owner`` was fitted on the series; else
    fitted on the series' rows before its first origin."""
    method, season = owner.target_transform, int(getattr(owner, "season_length", None) or 1)
    fitted = owner.__dict__.get("target_lambdas_")
    positions, _ = series_positions(panel.ids, owner.series_ids_)
    n_targets = len(panel.target_names)
    shape = (panel.n_series, n_targets)
    lambdas = no_season((*shape, season)) if method == "deseasonalize" else np.ones(shape)
    known = positions >= 0
    if fitted is not None:
        lambdas[known] = fitted[positions[known]]
    for p in np.flatnonzero(~known):
        mine = ends[series == p]
        if mine.size:  # only the history before the first origin: no look-ahead
            head = panel.subset(np.array([p])).head(np.array([int(mine.min() - panel.offsets[p])]))
            lambdas[p] = fit_lambdas(head, method, season)[0]  # type: ignore[index]
    return lambdas


def _horizon_positions(
    owner: Any, times: pd.DatetimeIndex, freq: pd.offsets.BaseOffset, horizon: int
) -> np.ndarray | None:
    """Season positions ``(N, H)`` of the steps after each origin ``times`` (deseasonalize)."""
    if owner.target_transform != "deseasonalize":
        return None
    season = int(owner.season_length)
    return (season_positions(times, freq, season)[:, None] + 1 + np.arange(horizon)) % season


def forecast(
    owner: Any,
    panel: Panel,
    series: np.ndarray,
    ends: np.ndarray,
    future: np.ndarray | None = None,
    *,
    checked: bool = False,
) -> Forecast:
    """``owner._forecast(panel, series, ends, future)`` in original units (no bounds).

    ``checked``: a Box-Cox forecast beyond the transform's range is refused, naming its
    series (:func:`origin_label`), instead of left NaN (calibration and scores take NaN
    as a missing forecast).
    """
    named = None
    if checked:
        named = (origin_label(panel, series, ends), lambda i: panel.ids[int(series[i])])
    return in_original_units(
        lambda p: owner._forecast(p, series, ends, future), panel, series, ends, owner, named
    )


def origin_label(panel: Panel, series: np.ndarray, ends: np.ndarray) -> Callable[[int], str]:
    """What names forecast ``i`` from origins ``series``, ``ends`` of ``panel`` in errors."""
    return lambda i: f"{panel.series_label(int(series[i]))} (from {panel.times[ends[i] - 1]})"


def end_label(ids: list[Any]) -> Callable[[int], str]:
    """What names the forecast from the end of fitted series ``i`` (of ``ids``) in errors."""
    return lambda i: "the series" if ids == [None] else series_name(ids[i])


# What names forecast i in an error, and the id of its series.
_Named = tuple[Callable[[int], str], Callable[[int], Any]]


def in_original_units(
    forecast: Callable[[Panel], Forecast],
    panel: Panel,
    series: np.ndarray,
    ends: np.ndarray,
    owner: Any,
    named: _Named | None = None,
) -> Forecast:
    """``forecast(transformed panel)`` (from origins ``series``, ``ends``) in original units,
    as ``owner`` (a fitted forecaster) transforms its targets; with ``named``, a Box-Cox
    forecast beyond the range is refused (:func:`_invert`)."""
    method = owner.target_transform
    if method is None:
        return forecast(panel)
    check_domain(panel, method)  # before a lambda is fitted on a new series' history
    lambdas = None
    if method in _FITTED:
        lambdas = lambdas_for(panel, series, ends, owner)
    result = forecast(forward(panel, method, lambdas))
    where = _horizon_positions(owner, panel.times[ends - 1], panel.freq, result.point.shape[1])
    lambdas = None if lambdas is None else lambdas[series]
    return _invert(result, owner, lambdas, where, named)


def invert(forecast: Forecast, owner: Any) -> Forecast:
    """``forecast`` from the end of ``owner``'s fitted series, in original units; a Box-Cox
    forecast beyond the range is refused, naming its series."""
    where = _horizon_positions(owner, owner.cutoffs_, owner.freq_, forecast.point.shape[1])
    lambdas = owner.__dict__.get("target_lambdas_")
    ids = owner.series_ids_
    return _invert(forecast, owner, lambdas, where, (end_label(ids), lambda i: ids[i]))


def _invert(
    forecast: Forecast,
    owner: Any,
    lambdas: np.ndarray | None,
    positions: np.ndarray | None = None,
    named: _Named | None = None,
) -> Forecast:
    """``forecast`` (points and quantiles) in original units, as ``owner`` transforms its
    targets; ``lambdas`` ``(N, T)`` (or ``(N, T, m, 2)`` with season ``positions``
    ``(N, H)``).

    With ``named`` (what names forecast ``i``, and its series' id), Box-Cox forecasts
    beyond the transform's range are a :class:`~forecast.NumericalError` that names the
    first and lists every such series in ``series`` (``on_bad_series`` isolates them).
    Not clipped to the bound: a forecast there is the model's extrapolation of a
    transformed series past where it means anything, and 0 (the bound's value, for
    lambda > 0) would be a silent guess at a series that is still falling.
    """
    method = owner.target_transform
    if method is None:
        return forecast
    quantiles = forecast.quantiles
    result = Forecast(
        inverse(forecast.point, method, lambdas, positions),
        None if quantiles is None else inverse(quantiles, method, lambdas, positions),
    )
    if named is None or method != "boxcox" or lambdas is None:
        return result
    label, id_of = named
    found = {"forecast": out_of_range(forecast.point, result.point, lambdas, owner.target_names_)}
    if quantiles is not None and result.quantiles is not None:
        found["interval"] = out_of_range(quantiles, result.quantiles, lambdas, owner.target_names_)
    bad = np.logical_or.reduce([mask for mask, _ in found.values()])
    if not bad.any():
        return result
    what, (mask, detail) = next((w, f) for w, f in found.items() if f[0].any())
    first = int(np.flatnonzero(mask)[0])
    raise NumericalError(
        f"The {what} of {label(first)} left the range of target_transform='boxcox' "
        f"({int(bad.sum())} forecast(s) in all): {detail}. Refitting will not help: the "
        "model extrapolates the transformed series past the range. Use "
        "target_transform='log' (defined for any forecast) or None.",
        series=[id_of(int(i)) for i in np.flatnonzero(bad)],
    )


def restored_lambdas(saved: np.ndarray | None, owner: Any) -> np.ndarray | None:
    """The Box-Cox lambdas (or seasons) of a model file, checked against its parameters and
    series. Seasonal indices ``(S, T, m)``, as files written before the additive seasons
    hold them, are read as divisors with offsets 0."""
    method = owner.target_transform
    what = "seasons" if method == "deseasonalize" else "Box-Cox lambdas"
    if (saved is not None) != (method in _FITTED):
        raise ModelFileError(
            f"its target_transform={method!r} does not match its "
            f"{'saved' if saved is not None else 'missing'} {what}"
        )
    if saved is None:
        return None
    saved = np.asarray(saved, dtype=np.float64)
    expected: tuple[int, ...] = (len(owner.series_ids_), len(owner.target_names_))
    if method == "deseasonalize":
        expected += (int(owner.season_length), 2)
        if saved.shape == expected[:-1]:  # multiplicative indices only
            saved = np.stack([saved, np.zeros_like(saved)], axis=-1)
    if saved.shape != expected:
        raise ModelFileError(f"its {what} have shape {saved.shape}, not {expected}")
    return saved
