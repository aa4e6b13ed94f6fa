"""Target transforms (``target_transform=``): log, log1p and Box-Cox, per series, exactly inverted.

A forecaster with ``target_transform`` is fitted on the transformed targets and its
forecasts (points, quantiles) are turned back into original units before anything else
sees them (:mod:`forecast.forecasters._transformed`, the base class's hook). Here is only
the maths, on arrays and :class:`~forecast.data.panel.Panel` s (no estimator, no frames):

* :func:`check_domain`: values a transform cannot take (``log``/``boxcox``: ``<= 0``;
  ``log1p``: ``<= -1``) are a :class:`~forecast.DataError` naming the column, series and
  timestamp, before any training;
* :func:`fit_lambdas`: Box-Cox's lambda per series and target, by maximum likelihood on the
  rows given (the training part: a backtest fold or calibration head fits its own);
* :func:`forward` / :func:`inverse`: the transform of a panel's target columns and the
  inverse of forecasts ``(N, H, T)`` or ``(N, H, T, Q)``.

``"deseasonalize"`` takes each series' season off as
:func:`~forecast.data.seasonality.season_map` finds it: divided by multiplicative
indices, or, for a seasonal series with a value ``<= 0`` (sales that stop in winter) or an
index under 0.01, minus additive components, as the local models do. Its fitted state is
one affine map per season position, ``y' = (y - offset) / divisor``: ``(S, T, m, 2)``,
``[..., 0]`` the divisor (the index; 1 when additive or not seasonal) and ``[..., 1]`` the
offset (the component; 0 when multiplicative or not seasonal).

Why maximum likelihood and not Guerrero's method: Guerrero's needs a season length (the
recurrent estimators have none), and ``scipy.stats.boxcox_normmax(method="mle")`` is a
maintained implementation (scipy comes with scikit-learn), where Guerrero would be written
by hand. Lambda is searched in [-1, 2], the range R's ``forecast::BoxCox.lambda`` and
statsforecast use: outside it the inverse explodes for small forecast errors.

The inverse of the mean of transformed values is their median in original units (the
transforms are increasing): point forecasts are not bias-adjusted; quantiles map exactly.

Symbols: R rows, S series, T targets, N forecasts, H horizon, Q quantile levels.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy import optimize, special, stats

from forecast._exceptions import DataError
from forecast._warnings import warn
from forecast.data.panel import Panel
from forecast.data.seasonality import season_map, season_positions

__all__ = [
    "LAMBDA_RANGE",
    "LOG_SCALES",
    "TRANSFORMS",
    "check_domain",
    "fit_lambdas",
    "forward",
    "inverse",
    "no_season",
    "out_of_range",
]

TRANSFORMS = (None, "log", "log1p", "boxcox", "deseasonalize")
#: The transforms that put values on a log scale (Box-Cox: a log or a power). There a
#: change of the data's units is a shift of the log, an affine map of Box-Cox with its
#: lambda (whose maximum likelihood does not depend on the units) and nearly a shift of
#: ``log1p`` for values well above 1: additive seasons and errors move with it, ratios and
#: the values' sign (a log is > 0 only above 1) do not. The local smoothing models take
#: seasons and errors on these transforms' values as additive, the classical choice.
LOG_SCALES = ("log", "log1p", "boxcox")
LAMBDA_RANGE = (-1.0, 2.0)

# Below this |lambda| Box-Cox is the log, both ways: the transform differs from the log by a
# factor 1 + lambda * log(y) / 2 (under 1e-9 for any positive float), and scipy's inv_boxcox
# loses the value at the smallest subnormal lambdas (5e-324 turns 0.5 into exp(-1), found by
# tests/test_transforms.py's property test).
_LOG_LAMBDA = 1e-12

# The smallest value each transform takes, excluded; and what to do about it.
_LOWER = {"log": 0.0, "boxcox": 0.0, "log1p": -1.0}
_FIX = {
    "log": "log needs values > 0: use target_transform='log1p' for counts with zeros, or "
    "shift the column by a constant",
    "boxcox": "Box-Cox needs values > 0: use target_transform='log1p' for counts with zeros, "
    "or shift the column by a constant",
    "log1p": "log1p needs values > -1: shift the column by a constant, or use "
    "target_transform=None",
}


def check_domain(panel: Panel, method: str | None) -> None:
    """Raise :class:`~forecast.DataError` for the first target value ``method`` cannot take.

    The message names the column, the series and the timestamp, and the fix.
    """
    if method not in _LOWER:  # None, or "deseasonalize" (any value: see seasonality.py)
        return
    n_targets = len(panel.target_names)
    targets = panel.values[:, :n_targets]
    # NaN is missing="mask"'s missing value (a panel of "raise" holds none): it stays NaN.
    bad = ~(targets > _LOWER[method]) & ~np.isnan(targets)  # (R, T)
    if not bad.any():
        return
    row, j = (int(k[0]) for k in np.nonzero(bad))
    series = int(panel.series_of(row))
    raise DataError(
        f"Target column {panel.target_names[j]!r} has the value {panel.values[row, j]!r} at "
        f"{panel.times[row]} in {panel.series_label(series)} ({int(bad[:, j].sum())} such "
        f"value(s) in that column), which target_transform={method!r} cannot take. "
        f"{_FIX[method]}."
    )


def _boxcox_mle(x: np.ndarray) -> float:
    """Box-Cox lambda of positive ``x`` by maximum likelihood, within :data:`LAMBDA_RANGE`."""
    if np.ptp(x) == 0:
        return 1.0  # a constant series: every lambda is as likely; 1 is a shift
    return float(
        stats.boxcox_normmax(
            x,
            method="mle",
            optimizer=lambda f: optimize.minimize_scalar(f, bounds=LAMBDA_RANGE, method="bounded"),
        )
    )


def fit_lambdas(
    panel: Panel, method: str | None, season_length: int | None = None
) -> np.ndarray | None:
    """Box-Cox's lambda ``(S, T)`` of each series and target of ``panel`` (None otherwise).

    With ``method="deseasonalize"``, each series' and target's season instead, by season
    position: divisor and offset ``(S, T, season_length, 2)`` (the module's docstring).
    Fitted on every row of ``panel``: pass only the training part.
    """
    if method == "deseasonalize":
        if season_length is None or int(season_length) < 2:  # checked by the estimator
            raise ValueError(f"deseasonalize needs a season_length >= 2, not {season_length!r}")
        return _fit_seasons(panel, int(season_length))
    if method != "boxcox":
        return None
    n_targets = len(panel.target_names)
    lambdas = np.empty((panel.n_series, n_targets))
    for i, (a, b) in enumerate(zip(panel.offsets[:-1], panel.offsets[1:], strict=True)):
        for j in range(n_targets):
            x = panel.values[a:b, j].astype(np.float64)
            x = x[~np.isnan(x)]  # observed values (missing="mask")
            if not x.size:
                raise DataError(
                    f"No value of target {panel.target_names[j]!r} is observed in "
                    f"{panel.series_label(i)} ({b - a} rows): Box-Cox has nothing to fit its "
                    "lambda on, and a model nothing to learn from. Drop the series."
                )
            lambdas[i, j] = _boxcox_mle(x)
    return lambdas


def no_season(shape: tuple[int, ...]) -> np.ndarray:
    """``"deseasonalize"``'s state ``(*shape, 2)`` of a series left as it is: divisor 1,
    offset 0."""
    state = np.ones((*shape, 2))
    state[..., 1] = 0.0
    return state


def _fit_seasons(panel: Panel, season_length: int) -> np.ndarray:
    """Divisor and offset ``(S, T, m, 2)`` of each series and target of ``panel``."""
    n_targets = len(panel.target_names)
    positions = season_positions(panel.times, panel.freq, season_length)
    seasons = no_season((panel.n_series, n_targets, season_length))
    gaps = []
    for i, (a, b) in enumerate(zip(panel.offsets[:-1], panel.offsets[1:], strict=True)):
        for j in range(n_targets):
            seasons[i, j] = season_map(panel.values[a:b, j], season_length, positions[a:b])
            if np.isnan(panel.values[a:b, j]).any() and b - a >= 3 * season_length:
                gaps.append(i)
    if gaps:  # missing="mask": the classical decomposition needs every value
        shown = ", ".join(panel.series_label(i) for i in sorted(set(gaps))[:5])
        warn(
            f"target_transform='deseasonalize' left {len(set(gaps))} series as they are "
            f"({shown}{', ...' if len(set(gaps)) > 5 else ''}): they have missing values, "
            "and their seasonal indices are estimated from complete series only. Fill the "
            "gaps first (forecast.fill_gaps, then interpolate) to have them de-seasonalised."
        )
    return seasons


def _apply(values: np.ndarray, method: str, lambdas: np.ndarray | None) -> np.ndarray:
    """The transform of ``values`` ``(R, T)`` (float64); ``lambdas`` ``(R, T)`` for Box-Cox."""
    if method == "log":
        return np.log(values)
    if method == "log1p":
        return np.log1p(values)
    return np.asarray(special.boxcox(values, _log_below_tiny(lambdas)))


def _log_below_tiny(lambdas: np.ndarray | None) -> np.ndarray | None:
    """``lambdas`` with those under :data:`_LOG_LAMBDA` in size set to 0 (the log)."""
    if lambdas is None:
        return None
    lambdas = np.asarray(lambdas, dtype=np.float64)
    return np.where(np.abs(lambdas) < _LOG_LAMBDA, 0.0, lambdas)


def forward(panel: Panel, method: str | None, lambdas: np.ndarray | None = None) -> Panel:
    """``panel`` with its target columns transformed (of the panel's dtype, read-only).

    ``lambdas`` ``(S, T)``: Box-Cox's, one row per series of ``panel``; with
    ``"deseasonalize"``, the divisors and offsets ``(S, T, m, 2)``: each value has the
    offset of its season position subtracted, then is divided by its divisor.
    """
    if method is None:
        return panel
    check_domain(panel, method)
    n_targets = len(panel.target_names)
    if method == "deseasonalize":
        if lambdas is None:
            raise ValueError("deseasonalize needs its seasons")
        positions = season_positions(panel.times, panel.freq, lambdas.shape[2])  # (R,)
        rows = np.repeat(np.arange(panel.n_series), panel.lengths)  # (R,)
        season = lambdas[rows, :, positions]  # (R, T, 2)
        values = panel.values.copy()
        values[:, :n_targets] = (panel.values[:, :n_targets] - season[..., 1]) / season[..., 0]
        values.setflags(write=False)
        return replace(panel, values=values)
    per_row = None if lambdas is None else np.repeat(lambdas, panel.lengths, axis=0)  # (R, T)
    values = panel.values.copy()
    values[:, :n_targets] = _apply(panel.values[:, :n_targets].astype(np.float64), method, per_row)
    values.setflags(write=False)
    return replace(panel, values=values)


def inverse(
    values: np.ndarray,
    method: str | None,
    lambdas: np.ndarray | None = None,
    positions: np.ndarray | None = None,
) -> np.ndarray:
    """Forecasts ``(N, H, T)`` or ``(N, H, T, Q)`` back in original units (float64).

    ``lambdas`` ``(N, T)``: Box-Cox's, one row per forecast. A Box-Cox forecast beyond the
    transform's range (``lambda * z + 1 <= 0``) has no original value: NaN (or infinity),
    which :func:`out_of_range` finds for the forecaster to refuse, naming the series. With
    ``"deseasonalize"``, ``lambdas`` are the divisors and offsets ``(N, T, m, 2)`` and
    ``positions`` ``(N, H)`` the season position of each forecast step: each forecast is
    multiplied by its divisor, then has its offset added (a positive divisor keeps the
    quantiles in order).
    """
    if method is None:
        return values
    values = np.asarray(values, dtype=np.float64)
    if method == "deseasonalize":
        if lambdas is None or positions is None:
            raise ValueError("deseasonalize needs its seasons and positions")
        n = np.arange(len(values))[:, None]  # (N, 1)
        season = lambdas[n, :, positions]  # (N, H, T, 2)
        if values.ndim == 4:
            season = season[..., None, :]  # (N, H, T, 1, 2)
        return values * season[..., 0] + season[..., 1]
    if method == "log":
        return np.exp(values)
    if method == "log1p":
        return np.expm1(values)
    if lambdas is None:
        raise ValueError("Box-Cox needs its lambdas")
    lam = lambdas[:, None, :]  # (N, 1, T)
    if values.ndim == 4:
        lam = lam[..., None]  # (N, 1, T, 1)
    return np.asarray(special.inv_boxcox(values, _log_below_tiny(lam)))


def out_of_range(
    values: np.ndarray, original: np.ndarray, lambdas: np.ndarray, targets: list[str]
) -> tuple[np.ndarray, str]:
    """Which Box-Cox forecasts left the transform's range, and what the first one did.

    ``values``: forecasts ``(N, H, T)`` or ``(N, H, T, Q)`` on the transformed scale;
    ``original``: :func:`inverse` of them; ``lambdas`` ``(N, T)``; ``targets``: the T names.
    Returns a mask ``(N,)`` of the forecasts with a finite value ``z`` beyond the range
    (``lambda * z + 1 <= 0``: below ``-1/lambda`` for lambda > 0, above it for lambda < 0)
    whose original value is not finite, and a description of the first such value ("" if
    none). A finite ``z`` within the range that inverts to infinity is an overflow, not
    this: it is left to the forecaster's finiteness check.
    """
    # (N, 1, T); a lambda taken as the log (0) is never out: lambda * z + 1 = 1
    lam = np.where(np.abs(lambdas) < _LOG_LAMBDA, 0.0, lambdas)[:, None, :]
    if values.ndim == 4:
        lam = lam[..., None]
    with np.errstate(invalid="ignore", over="ignore"):
        beyond = np.isfinite(values) & ~np.isfinite(original) & (lam * values + 1 <= 0)
    per_forecast = beyond.reshape(len(values), -1).any(axis=1)
    if not per_forecast.any():
        return per_forecast, ""
    n, h, j, *_ = (int(k[0]) for k in np.nonzero(beyond))
    z = np.nanmin(values[n, h, j]) if lambdas[n, j] > 0 else np.nanmax(values[n, h, j])
    side, there = (
        ("below", "undefined (no value > 0 maps there)")
        if lambdas[n, j] > 0
        else ("above", "infinite or undefined")
    )
    return per_forecast, (
        f"target {targets[j]!r} (lambda {lambdas[n, j]:.4g}) is forecast at {z:.4g} on the "
        f"Box-Cox scale at step {h + 1} of the horizon, {side} -1/lambda = "
        f"{-1 / lambdas[n, j]:.4g}, where the back-transform is {there}"
    )
