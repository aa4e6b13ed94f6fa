"""Benchmark forecasters: naive, seasonal naive and drift, with the recurrent models' API.

"Is this LSTM better than repeating the last value?" needs the last value forecast to be
an estimator like the LSTM: the same ``fit(df)`` / ``predict(df=None, *, horizon=None)``,
wide and long data, the same output frame and fitted attributes, so that
:func:`~forecast.backtest.backtest`, ``score`` and ``clone`` take either.

Symbols: S series, N forecast origins, H horizon, T targets, m season length. Every target
column is forecast on its own; past covariates are accepted (as the recurrent models take
them) and ignored. Values are kept in float64: a naive forecast repeats the data exactly.

Each baseline takes ``intervals="conformal"`` (with ``coverage`` and
``calibration_windows``) for calibrated prediction intervals, as every
:class:`~forecast.BaseForecaster` does: see :mod:`forecast.evaluation.conformal`.

With ``missing="mask"`` (NaN values and missing timestamps allowed, as for the recurrent
models) each baseline reads **observed values only**: the naive forecast repeats the last
observed value, the seasonal naive the last observed value at each phase of the season
(from an earlier season where the last one is missing), the drift its line from the first
to the last observed value. A forecast with no such value to read (a series whose history
never observes its target, or a season phase never observed) is a
:class:`~forecast.MissingHistoryError` naming the series.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from forecast._exceptions import DataError, MissingHistoryError, ModelFileError
from forecast._validation import check_int
from forecast.data.masking import last_observed
from forecast.data.panel import Layout, Panel, series_positions
from forecast.forecasters._bad_series import unservable
from forecast.forecasters.base import BaseForecaster
from forecast.protocol import Forecast

__all__ = ["DriftForecaster", "NaiveForecaster", "SeasonalNaiveForecaster"]


class _BaselineForecaster(BaseForecaster):
    """The hooks the baselines share; subclasses say what to keep and how to forecast.

    A subclass names its model-specific fitted arrays in ``_state`` and implements
    ``_fit_state(panel)``, ``_point_fitted()`` (forecasts from the end of the fitted data)
    and ``_point_at(panel, series, ends)`` (from many origins at once).
    """

    _state: tuple[str, ...] = ()
    _reads_past_covariates = False  # accepted and ignored

    def _check_params(self) -> None:
        check_int(self, "horizon", self.horizon, low=1)
        self._check_interval_params()
        self._check_freq()
        self._check_missing()

    def _min_rows(self, at_fit: bool) -> int:
        """Rows a series needs to be fitted on (``at_fit``) or forecast from."""
        return 1

    def _check_history(
        self, panel: Panel, series: np.ndarray, rows: np.ndarray, at_fit: bool
    ) -> None:
        needed = self._min_rows(at_fit)
        short = np.flatnonzero(rows < needed)
        if short.size:
            raise DataError(
                f"Too little history to {'fit' if at_fit else 'forecast from'}: "
                f"{panel.describe(series[short], rows[short])} "
                f"row(s), but {type(self).__name__} needs {needed}. Pass a longer history."
            )

    # ------------------------------------------------------------------ hooks

    def _select_series(self, panel: Panel) -> Panel:
        self._check_history(panel, np.arange(panel.n_series), panel.lengths, at_fit=True)
        return panel

    def _fit(self, panel: Panel, layout: Layout) -> None:
        self._fit_state(panel)

    def _unservable(self, panel: Panel) -> dict[int, tuple[str, str]]:
        return unservable(panel, self._min_rows(at_fit=False), None)

    @abstractmethod
    def _fit_state(self, panel: Panel) -> None:
        """Keep the arrays named in ``_state`` from ``panel`` (float64)."""

    @abstractmethod
    def _point_fitted(self) -> np.ndarray:
        """Forecasts ``(S, H, T)`` from the end of each fitted series."""

    @abstractmethod
    def _point_at(self, panel: Panel, series: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Forecasts ``(N, H, T)`` from the histories before rows ``ends`` (vectorised)."""

    def _forecast(
        self, panel: Panel, series: np.ndarray, ends: np.ndarray, future: np.ndarray | None
    ) -> Forecast:
        return Forecast(self._point_at(panel, series, ends), None)  # reads no covariates

    def _forecast_fitted(self, future: np.ndarray | None) -> Forecast:
        return Forecast(self._point_fitted(), None)

    def _fitted_arrays(self) -> dict[str, np.ndarray]:
        """The model-specific fitted state, by attribute name."""
        check_is_fitted(self, self._state[0])
        return {name: np.asarray(self.__dict__[name]) for name in self._state}

    def _restore_fitted(
        self,
        arrays: dict[str, np.ndarray],
        metadata: dict[str, Any] | None = None,
        members: Sequence[BaseForecaster] = (),
    ) -> None:
        """Set back what :meth:`_fitted_arrays` returned (the common attributes are not in it)."""
        missing = [name for name in self._state if name not in arrays]
        extra = [name for name in arrays if name not in self._state]
        if missing or extra:
            raise ModelFileError(
                f"The saved {type(self).__name__} state lacks {missing} and has {extra} in "
                f"addition; expected exactly {list(self._state)}. The file was not written by "
                "this version of forecast, or is damaged."
            )
        n_series = len(self.series_ids_)  # restored before this
        for name in self._state:
            value = np.asarray(arrays[name])
            if value.dtype.kind != "f" or value.ndim < 1 or len(value) != n_series:
                raise ModelFileError(
                    f"its {name} is {value.dtype} of shape {value.shape}; a fit saves floats, "
                    f"one row per series ({n_series})"
                )
            setattr(self, name, value.astype(np.float64))

    # ------------------------------------------------------------------ helpers

    def _targets_before(self, panel: Panel, ends: np.ndarray, m: int) -> np.ndarray:
        """The last ``m`` target rows before each of ``ends``: ``(N, m, T)``.

        With missing values (``missing="mask"``), each of them is the last observed value
        at its row or ``m``, ``2 m`` ... rows before it in the series.
        """
        n_targets = len(panel.target_names)
        rows = ends[:, None] - m + np.arange(m)  # (N, m)
        targets = panel.values[:, :n_targets]
        if not np.isnan(targets).any():
            return panel.values[rows, :n_targets]
        source = last_observed(targets, panel.offsets, m)[rows]  # (N, m, T)
        empty = np.flatnonzero((source < 0).any(axis=(1, 2)))
        if empty.size:
            series = panel.series_of(ends[empty] - 1)
            names = sorted({panel.series_label(int(i)) for i in series})
            raise MissingHistoryError(
                f"{type(self).__name__} has no observed value to repeat for "
                f"{names[0]} (before {panel.times[ends[empty[0]] - 1]}): "
                + (
                    "its target is never observed"
                    if m == 1
                    else "a phase of its season is never observed"
                )
                + f" before the cutoff. {len(names)} series are so: {names[:10]}.",
                series=names,
            )
        return np.take_along_axis(targets, source.reshape(-1, n_targets), axis=0).reshape(
            source.shape
        )

    def _check_origins(self, panel: Panel, series: np.ndarray, ends: np.ndarray) -> None:
        self._check_history(panel, series, ends - panel.offsets[series], at_fit=False)


def _steps(horizon: int) -> np.ndarray:
    return np.arange(1, horizon + 1, dtype=np.float64)[None, :, None]  # (1, H, 1)


class NaiveForecaster(_BaselineForecaster):
    """Repeat each series' last observed value over the horizon.

    ``ŷ[T + h] = y[T]``. ``predict(df)`` repeats the last value of ``df``; series unseen at
    fit are forecast too (nothing of them needed to be fitted).

    Parameters
    ----------
    target, id_col, time_col, freq, missing, horizon, intervals, coverage, \
calibration_windows, target_transform
        As in :class:`forecast.RNNForecaster`; ``missing="mask"`` reads observed values
        only (see :mod:`forecast.forecasters.baselines`).

    Attributes
    ----------
    last_values_ : numpy.ndarray of shape (S, T)
        Last value of each series and target at fit.
    freq_, layout_, target_names_, covariate_names_, feature_names_in_, n_features_in_, \
series_ids_, cutoffs_, training_start_, quantile_levels_
        As in :class:`forecast.RNNForecaster`.
    conformal_quantiles_, conformal_scale_, n_calibration_
        With ``intervals``: as in :class:`forecast.RNNForecaster`.

    Examples
    --------
    >>> from forecast.baselines import NaiveForecaster
    >>> from forecast.datasets import load_air_passengers
    >>> df = load_air_passengers()
    >>> fc = NaiveForecaster(horizon=3).fit(df).predict()
    >>> fc["passengers"].tolist() == [df["passengers"].iloc[-1]] * 3
    True
    """

    _state = ("last_values_",)

    def __init__(
        self,
        *,
        target: str | list[str] | None = None,
        id_col: str | None = None,
        time_col: str | None = None,
        freq: Any = None,
        missing: str = "raise",
        horizon: int = 1,
        intervals: str | None = None,
        coverage: float | list[float] | None = None,
        calibration_windows: int = 20,
        target_transform: str | None = None,
    ) -> None:
        self.target = target
        self.id_col = id_col
        self.time_col = time_col
        self.freq = freq
        self.missing = missing
        self.horizon = horizon
        self.intervals = intervals
        self.coverage = coverage
        self.calibration_windows = calibration_windows
        self.target_transform = target_transform

    def _fit_state(self, panel: Panel) -> None:
        self.last_values_ = self._targets_before(panel, panel.offsets[1:], 1)[:, 0]  # (S, T)

    def _point_fitted(self) -> np.ndarray:
        return np.repeat(self.last_values_[:, None, :], self.horizon, axis=1)  # (S, H, T)

    def _point_at(self, panel: Panel, series: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Forecasts ``(N, H, T)`` from the histories before rows ``ends`` (vectorised)."""
        self._check_origins(panel, series, ends)
        last = self._targets_before(panel, ends, 1)  # (N, 1, T)
        return np.repeat(last, self.horizon, axis=1)


class _SeasonalBaseline(_BaselineForecaster):
    """A baseline with a ``season_length``: the parameters it adds, and their check."""

    def __init__(
        self,
        *,
        season_length: int = 1,
        target: str | list[str] | None = None,
        id_col: str | None = None,
        time_col: str | None = None,
        freq: Any = None,
        missing: str = "raise",
        horizon: int = 1,
        intervals: str | None = None,
        coverage: float | list[float] | None = None,
        calibration_windows: int = 20,
        target_transform: str | None = None,
    ) -> None:
        self.season_length = season_length
        self.target = target
        self.id_col = id_col
        self.time_col = time_col
        self.freq = freq
        self.missing = missing
        self.horizon = horizon
        self.intervals = intervals
        self.coverage = coverage
        self.calibration_windows = calibration_windows
        self.target_transform = target_transform

    def _check_params(self) -> None:
        check_int(self, "season_length", self.season_length, low=1)
        super()._check_params()


class SeasonalNaiveForecaster(_SeasonalBaseline):
    """Repeat each series' last observed season over the horizon.

    ``ŷ[T + h] = y[T + h - m·k]`` with ``k = ceil(h / m)``: the value one season before
    (12 months before, on monthly data with ``season_length=12``). ``predict(df)`` repeats
    the last season of ``df``; series unseen at fit are forecast too.

    Parameters
    ----------
    season_length : int, default 1
        ``m``, in steps; 1 is the naive forecast.
    target, id_col, time_col, freq, missing, horizon, intervals, coverage, \
calibration_windows, target_transform
        As in :class:`forecast.RNNForecaster`; ``missing="mask"`` reads observed values
        only (see :mod:`forecast.forecasters.baselines`).

    Attributes
    ----------
    last_season_ : numpy.ndarray of shape (S, m, T)
        The last ``m`` values of each series and target at fit.
    freq_, layout_, target_names_, covariate_names_, feature_names_in_, n_features_in_, \
series_ids_, cutoffs_, training_start_, quantile_levels_
        As in :class:`forecast.RNNForecaster`.
    conformal_quantiles_, conformal_scale_, n_calibration_
        With ``intervals``: as in :class:`forecast.RNNForecaster`.

    Examples
    --------
    >>> from forecast.baselines import SeasonalNaiveForecaster
    >>> from forecast.datasets import load_air_passengers
    >>> df = load_air_passengers()
    >>> fc = SeasonalNaiveForecaster(season_length=12, horizon=12).fit(df).predict()
    >>> (fc["passengers"].to_numpy() == df["passengers"].iloc[-12:].to_numpy()).all()
    np.True_

    With conformal intervals, and scored against the naive forecast (monthly data with a
    strong season):

    >>> from forecast.baselines import NaiveForecaster
    >>> model = SeasonalNaiveForecaster(season_length=12, horizon=12,
    ...                                 intervals="conformal", coverage=0.8)
    >>> model.fit(df).predict().columns.tolist()
    ['passengers', 'passengers_q0.1', 'passengers_q0.9']
    >>> naive = NaiveForecaster(horizon=12).fit(df)
    >>> seasonal = SeasonalNaiveForecaster(season_length=12, horizon=12).fit(df)
    >>> seasonal.score(df) > naive.score(df)
    True
    """

    _state = ("last_season_",)

    def _min_rows(self, at_fit: bool) -> int:
        return self.season_length

    def _repeat(self, season: np.ndarray) -> np.ndarray:
        """``(N, m, T)`` last seasons to ``(N, H, T)`` forecasts."""
        return season[:, np.arange(self.horizon) % season.shape[1]]

    def _fit_state(self, panel: Panel) -> None:
        self.last_season_ = self._targets_before(panel, panel.offsets[1:], self.season_length)

    def _point_fitted(self) -> np.ndarray:
        return self._repeat(self.last_season_)

    def _point_at(self, panel: Panel, series: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Forecasts ``(N, H, T)`` from the histories before rows ``ends`` (vectorised)."""
        self._check_origins(panel, series, ends)
        return self._repeat(self._targets_before(panel, ends, self.season_length))


class DriftForecaster(_BaselineForecaster):
    """Extend the line from each series' first to its last observation.

    ``ŷ[T + h] = y[T] + h · (y[T] - y[1]) / (T - 1)``: the naive forecast plus the average
    change per step seen at fit. ``predict(df)`` keeps the fitted slope (nothing is refitted)
    and starts from the last value of ``df``, so it needs the series seen at fit.

    Parameters
    ----------
    target, id_col, time_col, freq, missing, horizon, intervals, coverage, \
calibration_windows, target_transform
        As in :class:`forecast.RNNForecaster`; ``missing="mask"`` reads observed values
        only (see :mod:`forecast.forecasters.baselines`).

    Attributes
    ----------
    last_values_ : numpy.ndarray of shape (S, T)
        Last value of each series and target at fit.
    slope_ : numpy.ndarray of shape (S, T)
        Average change per step over the training data.
    freq_, layout_, target_names_, covariate_names_, feature_names_in_, n_features_in_, \
series_ids_, cutoffs_, training_start_, quantile_levels_
        As in :class:`forecast.RNNForecaster`.
    conformal_quantiles_, conformal_scale_, n_calibration_
        With ``intervals``: as in :class:`forecast.RNNForecaster`.

    Examples
    --------
    >>> import pandas as pd
    >>> from forecast.baselines import DriftForecaster
    >>> df = pd.DataFrame({"y": [1.0, 2.0, 4.0]},
    ...                   index=pd.date_range("2024-01-01", periods=3, freq="D"))
    >>> DriftForecaster(horizon=2).fit(df).predict()["y"].tolist()
    [5.5, 7.0]
    """

    _state = ("last_values_", "slope_")

    def __init__(
        self,
        *,
        target: str | list[str] | None = None,
        id_col: str | None = None,
        time_col: str | None = None,
        freq: Any = None,
        missing: str = "raise",
        horizon: int = 1,
        intervals: str | None = None,
        coverage: float | list[float] | None = None,
        calibration_windows: int = 20,
        target_transform: str | None = None,
    ) -> None:
        self.target = target
        self.id_col = id_col
        self.time_col = time_col
        self.freq = freq
        self.missing = missing
        self.horizon = horizon
        self.intervals = intervals
        self.coverage = coverage
        self.calibration_windows = calibration_windows
        self.target_transform = target_transform

    def _min_rows(self, at_fit: bool) -> int:
        return 2 if at_fit else 1  # a slope needs two points; a forecast, a last value

    def _unservable(self, panel: Panel) -> dict[int, tuple[str, str]]:
        return unservable(panel, 1, self.series_ids_)  # a slope per fitted series

    def _fit_state(self, panel: Panel) -> None:
        n_targets = len(panel.target_names)
        targets = panel.values[:, :n_targets]
        if np.isnan(targets).any():  # missing="mask": the first and last observations
            self._fit_observed(panel, targets)
            return
        first = panel.values[panel.offsets[:-1], :n_targets]  # (S, T)
        self.last_values_ = panel.values[panel.offsets[1:] - 1, :n_targets]
        self.slope_ = (self.last_values_ - first) / (panel.lengths - 1)[:, None]

    def _fit_observed(self, panel: Panel, targets: np.ndarray) -> None:
        """The line from each series' first to its last observed value, per target."""
        last = last_observed(targets, panel.offsets)[panel.offsets[1:] - 1]  # (S, T)
        flipped = last_observed(targets[::-1], len(targets) - panel.offsets[::-1])
        first = (len(targets) - 1 - flipped[::-1])[panel.offsets[:-1]]  # (S, T), rows
        few = np.flatnonzero(((last < 0) | (last <= first)).any(axis=1))
        if few.size:
            names = [panel.series_label(int(i)) for i in few]
            raise MissingHistoryError(
                f"DriftForecaster needs two observed values of each target to fit a slope; "
                f"{len(names)} series have fewer: {names[:10]}.",
                series=names,
            )
        columns = np.arange(targets.shape[1])
        self.slope_ = (targets[last, columns] - targets[first, columns]) / (last - first)
        # The line's value at the cutoff: the last observation may be some steps before it.
        since = (panel.offsets[1:] - 1)[:, None] - last
        self.last_values_ = targets[last, columns] + since * self.slope_

    def _point_fitted(self) -> np.ndarray:
        return self.last_values_[:, None, :] + _steps(self.horizon) * self.slope_[:, None, :]

    def _point_at(self, panel: Panel, series: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Forecasts ``(N, H, T)``: last value before ``ends`` plus the fitted slope."""
        self._check_origins(panel, series, ends)
        fitted, unknown = series_positions(panel.ids, self.series_ids_)
        if unknown:
            raise DataError(
                f"Series {unknown[:10]} were not seen at fit, so DriftForecaster has no slope "
                "for them. Refit with them (fitting a drift is cheap)."
            )
        slope = self.slope_[fitted[series]][:, None, :]  # (N, 1, T)
        last = self._targets_before(panel, ends, 1)  # (N, 1, T), the last observed
        targets = panel.values[:, : len(panel.target_names)]
        if np.isnan(targets).any():  # missing="mask": that observation may be before ends - 1
            source = last_observed(targets, panel.offsets)[ends - 1]  # (N, T)
            last = last + ((ends - 1)[:, None] - source)[:, None, :] * slope
        return last + _steps(self.horizon) * slope
