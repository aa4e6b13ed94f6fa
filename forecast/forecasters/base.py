"""``BaseForecaster``: fit, predict, score, save and intervals, written once for every forecaster.

A forecaster is one class that implements the hooks below; everything else is here:

``fit(df)``
    checks the parameters (``_check_params``), validates and converts ``df`` once
    (:func:`forecast.data.panel.to_panel`), keeps the series it can fit on
    (``_select_series``), fits (``_fit``), sets the common fitted attributes
    (:data:`forecast.protocol.DATA_ATTRIBUTES`) and, with ``intervals="conformal"``,
    calibrates intervals first (:func:`~forecast.forecasters._calibration.calibrate`, the maths in
    :mod:`forecast.evaluation.conformal`).
``predict(df=None)``
    forecasts from the end of the fitted data (``_forecast_fitted``) or of ``df``
    (``_forecast``), adds conformal bounds, and returns the frame of
    :func:`forecast.data.output.forecast_frame`.
``score(df)``, ``save(path)``, ``load(path)``, ``card()``
    through the same hooks; :func:`forecast.backtest.backtest`,
    :mod:`forecast.io` and the command line use the methods of
    :class:`forecast.protocol.Forecaster`, which this class implements.

**The hooks.** Required (abstract): ``_check_params``, ``_fit``, ``_forecast``,
``_forecast_fitted``, ``_fitted_arrays``, ``_restore_fitted``. Optional, with defaults:
``_select_series``, ``_covariates``, ``_panel_dtype``, ``_quantile_levels``,
``_conformal_coverage``, ``_fitted_metadata``, ``_fitted_members``. A subclass also
declares its parameters in ``__init__`` (scikit-learn's rules: keyword-only, stored
verbatim) and, if it trains a network, lists :data:`~forecast.protocol.TRAINING_ATTRIBUTES`
in ``_saved_attributes``.

Symbols: S series, N forecasts, H horizon, T targets, Q quantile levels, C coverage levels.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from forecast._exceptions import (
    InvalidParameterError,
    ModelFileError,
)
from forecast._validation import check_int, check_option
from forecast._warnings import once_per_scope
from forecast.data.frames import PANDAS, FrameKind, to_native, to_pandas
from forecast.data.frequency import resolve_freq
from forecast.data.output import forecast_frame
from forecast.data.panel import Columns, Layout, Panel, to_panel
from forecast.data.parts import Parts
from forecast.evaluation.conformal import (
    coverage_levels,
    coverage_list,
    history_scale,
    interval_bounds,
)
from forecast.forecasters import _transformed as transformed
from forecast.forecasters._calibration import calibrate, check_interval_params, positions
from forecast.forecasters._engine_frames import PREDICT_OPTIONS, EngineFrames, engine_of
from forecast.forecasters._future_frame import FutureFrames
from forecast.forecasters._scoring import holdout_score
from forecast.forecasters._short_series import forecastable, usable_series
from forecast.io import persistence, registry
from forecast.io.card import ModelCard
from forecast.protocol import DATA_ATTRIBUTES, Forecast, Forecaster, SavedState

if TYPE_CHECKING:
    from typing_extensions import Self

    class BaseEstimator:
        """What mypy sees of scikit-learn's ``BaseEstimator``, which ships no types.

        Subclassing the untyped class would make every forecaster ``Any`` to mypy, so that
        a misspelt fitted attribute (``model.cutoff_``) passed unnoticed.
        """

        def get_params(self, deep: bool = True) -> dict[str, Any]: ...
        def set_params(self, **params: Any) -> Self: ...

else:
    from sklearn.base import BaseEstimator

__all__ = ["BaseForecaster"]

# The conformal calibration's fitted attributes (see forecasters/_calibration.py).
_CALIBRATION = ("conformal_quantiles_", "conformal_scale_", "n_calibration_")
_CALIBRATION_ARRAYS = {
    "conformal.quantiles": "conformal_quantiles_",
    "conformal.scale": "conformal_scale_",
}


class BaseForecaster(BaseEstimator, FutureFrames, EngineFrames, Forecaster, ABC):
    """Base class of every forecaster: the ``fit``/``predict`` template and its hooks.

    Subclass it and implement the abstract hooks to get ``fit``, ``predict``, ``score``,
    conformal intervals, backtests (:func:`forecast.backtest.backtest`), model files
    (``save``, :func:`forecast.load`), model cards, plots and the command line. See
    :mod:`forecast.forecasters.base` for the template and ``docs/architecture.md`` for a
    complete small example.

    Parameters read by the template: ``horizon`` (required), and, where the subclass offers
    them in its ``__init__``, ``target``, ``id_col``, ``time_col``, ``freq`` and, for
    conformal intervals, ``intervals``, ``coverage``, ``calibration_windows`` (a subclass
    that does not offer one gets the class default: ``None``, or 20 windows).
    """

    # Parameters the template reads. A subclass declares the ones it offers in __init__;
    # these class-level values stand for the ones it does not (no intervals, wide only...).
    horizon: int
    target: str | list[str] | None = None
    id_col: str | None = None
    time_col: str | None = None
    freq: Any = None
    missing: str = "raise"  # or "mask": forecast.data.masking
    intervals: str | None = None
    coverage: float | list[float] | None = None
    calibration_windows: int = 20
    past_covariates: str | list[str] | None = None
    target_transform: str | None = None

    #: The common fitted attributes a model file holds for this class.
    _saved_attributes: ClassVar[tuple[str, ...]] = DATA_ATTRIBUTES
    _reads_past_covariates: ClassVar[bool] = True  # past_covariates=None is then logged

    # With intervals="conformal" (forecasters/_calibration.py):
    conformal_quantiles_: np.ndarray  # (H, T, C) half-widths in units of the history scale
    conformal_scale_: np.ndarray  # (S, T) scale of each fitted series' full history
    n_calibration_: int
    target_lambdas_: np.ndarray | None  # "boxcox": (S, T); "deseasonalize": (S, T, m, 2)
    # Not set by fit: a score a user sets ({"mae": 1.2}) is saved with the model and shown
    # by its card.
    backtest_: dict[str, Any]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        registry.register(cls)  # model files may name it (forecast.io.registry)

    # ================================================================== hooks: required

    @abstractmethod
    def _check_params(self) -> None:
        """Raise :class:`~forecast.InvalidParameterError` naming the first bad parameter.

        Called first by ``fit``; never in ``__init__`` (``clone`` and ``set_params`` rely
        on it). :meth:`_check_interval_params` checks the conformal ones.
        """

    @abstractmethod
    def _fit(self, panel: Panel, layout: Layout) -> None:
        """Fit the model-specific state on ``panel`` (validated, series selected).

        ``panel.values`` is of :meth:`_panel_dtype`. The common fitted attributes are set
        by the template after this returns.
        """

    @abstractmethod
    def _forecast(
        self, panel: Panel, series: np.ndarray, ends: np.ndarray, future: np.ndarray | None
    ) -> Forecast:
        """This model's forecasts from many origins at once (without conformal bounds).

        Forecast ``i`` reads only the rows of panel series ``series[i]`` before row
        ``ends[i]`` (exclusive). ``future`` ``(N, H, C)``: known-future covariates over each
        horizon, or None to read them from the panel after each origin. Quantiles, if any,
        are at :meth:`_quantile_levels`.
        """

    @abstractmethod
    def _forecast_fitted(self, future: np.ndarray | None) -> Forecast:
        """This model's forecasts ``(S, H, T)`` from the end of each fitted series."""

    @abstractmethod
    def _fitted_arrays(self) -> dict[str, np.ndarray]:
        """The model-specific fitted state as named numeric arrays (for model files)."""

    @abstractmethod
    def _restore_fitted(
        self,
        arrays: dict[str, np.ndarray],
        metadata: dict[str, Any] | None = None,
        members: Sequence[BaseForecaster] = (),
    ) -> None:
        """Inverse of :meth:`_fitted_arrays`, :meth:`_fitted_metadata`, :meth:`_fitted_members`.

        Raise :class:`~forecast.ModelFileError` for a state that is not this model's.
        """

    # ================================================================== hooks: optional

    def _select_series(self, panel: Panel) -> Panel:
        """The series of ``panel`` this model can be fitted on: refuse, or drop and warn."""
        return panel

    def _covariates(self) -> tuple[str | list[str] | None, str | list[str] | None]:
        """The known-future and static covariate columns asked for (none by default)."""
        return None, None

    def _panel_dtype(self) -> np.dtype:
        """The dtype of the panels ``_fit`` and ``_forecast`` get (float64 by default)."""
        return np.dtype(np.float64)

    def _quantile_levels(self) -> list[float]:
        """The levels of the quantiles ``_forecast`` returns (``[]``: point forecasts)."""
        return []

    def _conformal_coverage(self) -> list[float] | None:
        """The coverage levels to calibrate at this level, or None (no calibration)."""
        return None if self.intervals is None else coverage_list(self.coverage)

    def _fitted_metadata(self) -> dict[str, Any]:
        """The model-specific fitted state that is not an array (JSON-ready)."""
        return {}

    def _fitted_members(self) -> list[BaseForecaster]:
        """A meta-forecaster's fitted members (saved nested in its model file)."""
        return []

    def _unservable(self, panel: Panel) -> dict[int, tuple[str, str]]:
        """Series of ``panel`` it cannot forecast: position -> (``"short"``/``"unseen"``, why)."""
        return {}

    # ================================================================== fit

    def fit(self, df: Any, y: None = None) -> Self:
        """Validate ``df``, fit, and keep what ``predict`` needs.

        Parameters
        ----------
        df : pandas.DataFrame, polars.DataFrame, pyarrow.Table or forecast.parts(folder)
            Wide (one series, ``DatetimeIndex`` or ``time_col``) or long (``id_col`` and
            ``time_col``, or a ``MultiIndex (id, time)``; with no column arguments, the
            columns ``unique_id, ds, y`` of Nixtla's format). polars and pyarrow frames
            need ``forecast-rnn[interop]`` (:mod:`forecast.data.frames`); parts: read by rank.
        y : None
            Ignored; for scikit-learn compatibility.

        Returns
        -------
        self

        Raises
        ------
        InvalidParameterError, DataError, DataTypeError
            Before any training, naming the parameter, or the column, series and timestamp.
        KeyboardInterrupt, Terminated
            Ctrl-C, or SIGTERM during training (:class:`~forecast.Terminated`: exit 143).

        Notes
        -----
        A fit that raises, or is interrupted, leaves the forecaster unfitted, also if it was
        fitted before: ``predict`` then raises ``NotFittedError`` rather than forecast from
        a model of other data or parameters without a word. To keep a fitted model while
        trying another fit, fit a ``sklearn.base.clone`` of it, or ``save`` it first.
        """
        if isinstance(df, Parts):  # each DDP rank reads its own parts; imports torch: here
            from forecast.forecasters._partitioned import fit_parts

            return fit_parts(self, df)
        self._check_params()
        transformed.check_transform(self)
        frame, kind = to_pandas(df)
        with once_per_scope():  # a data warning once, not again for the calibration model
            panel, layout = self._to_panel(frame, self._fit_dtype())
            # predict() answers in the fitted frame's library: layout_.source.
            self._fit_panel(panel, replace(layout, source=None if kind.is_pandas else kind))
        return self

    def _clear_fitted(self) -> None:
        """Forget every fitted attribute: a fit that fails leaves an unfitted forecaster.

        Otherwise a refit that failed half-way (the calibration model fitted, the final one
        not) would leave a model that predicts from the wrong data without a word.
        """
        for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]:
            delattr(self, name)

    def _fit_dtype(self) -> np.dtype:
        """The dtype ``fit`` converts to: float64 to calibrate (scores from the data as given)."""
        if self._conformal_coverage() is not None:
            return np.dtype(np.float64)
        return self._panel_dtype()

    def _fit_panel(self, panel: Panel, layout: Layout) -> None:
        """``fit`` on a converted panel (of :meth:`_fit_dtype`); a meta-forecaster's members'
        entry point, so that the frame is converted once for all of them.

        On any error (or an interrupt) the forecaster is left unfitted.
        """
        try:
            self._fit_panel_or_fail(panel, layout)
        except BaseException:
            self._clear_fitted()
            raise

    def _fit_panel_or_fail(self, panel: Panel, layout: Layout) -> None:
        for name in _CALIBRATION:
            self.__dict__.pop(name, None)  # a refit must not use the previous calibration
        transformed.check_fit_domain(self, panel)  # before any training
        coverage = self._conformal_coverage()
        if coverage is None:
            self._fit_series(panel, layout)
            self.quantile_levels_ = self._quantile_levels()
            return
        narrow = panel.astype(self._panel_dtype())  # refused before any training, if it is

        def fit_head(head: Panel) -> list[Any]:
            self._fit_series(head, layout)
            return self.series_ids_

        quantiles, n_calibration = calibrate(
            panel,
            narrow,
            windows=self.calibration_windows,
            horizon=self.horizon,
            coverage=coverage,
            fit=fit_head,
            # forecasts read the model's dtype (predict(df)'s too); scores the float64 data
            forecast=lambda p, s, e: (
                transformed.forecast(self, p.astype(narrow.values.dtype), s, e).point
            ),
        )
        self._fit_series(narrow, layout)  # the final model sees everything
        fitted = positions(panel, self.series_ids_)
        self.conformal_quantiles_ = quantiles
        self.conformal_scale_ = history_scale(panel, fitted, panel.offsets[fitted + 1])
        self.n_calibration_ = n_calibration
        self.quantile_levels_ = coverage_levels(coverage)

    def _fit_series(self, panel: Panel, layout: Layout) -> None:
        panel = self._select_series(panel)
        self._fit(transformed.prepare_fit(self, panel), layout)
        self.fitted_transform_ = transformed.transform_of(self)  # what a warm start checks
        self.freq_ = panel.freq
        self.layout_ = layout
        self.target_names_ = panel.target_names
        self.covariate_names_ = panel.covariate_names
        self.future_names_ = panel.future_names
        self.static_names_ = panel.static_names
        self.feature_names_in_ = np.asarray(panel.feature_names, dtype=object)
        self.n_features_in_ = len(panel.feature_names)
        self.series_ids_ = panel.ids
        self.cutoffs_ = panel.last_times
        self.training_start_ = panel.times[panel.offsets[:-1]]

    def _check_interval_params(self) -> None:
        """Check ``intervals``, ``coverage`` and ``calibration_windows`` (and ``quantiles``)."""
        check_interval_params(self, self._quantile_levels())

    def _check_freq(self) -> None:
        if self.freq is not None:
            resolve_freq(self.freq)

    def _check_missing(self) -> None:
        check_option(self, "missing", self.missing, ("raise", "mask"))

    # ================================================================== data in

    def _to_panel(self, df: pd.DataFrame, dtype: Any = None) -> tuple[Panel, Layout]:
        """``df`` validated and converted as ``fit`` converts it (``dtype`` default float64)."""
        future, static = self._covariates()
        panel, layout = to_panel(
            df,
            target=self.target,
            id_col=self.id_col,
            time_col=self.time_col,
            freq=self.freq,
            future=future,
            static=static,
            dtype=np.float64 if dtype is None else dtype,
            past=self.past_covariates,
            missing=self.missing,
        )
        return transformed.filled_calendar(panel), layout  # a gap's calendar values known

    def _to_fitted_panel(self, df: pd.DataFrame, dtype: Any = None) -> Panel:
        """A newer ``df`` with the columns seen at fit, converted (default :meth:`_panel_dtype`)."""
        panel, _ = to_panel(
            df,
            id_col=self.layout_.id_col,
            time_col=self.layout_.time_col,
            freq=self.freq_,
            columns=Columns(
                targets=self.target_names_,
                past=self.covariate_names_,
                future=self.future_names_,
                static=self.static_names_,
                chosen=self.past_covariates is not None,
            ),
            dtype=self._panel_dtype() if dtype is None else dtype,
            missing=self.missing,
            zone=self.cutoffs_.tz,
        )
        return transformed.filled_calendar(panel, self.__dict__.get("calendar_features_", []))

    # ================================================================== forecasts

    def _forecast_at(
        self,
        panel: Panel,
        series: np.ndarray,
        ends: np.ndarray,
        future: np.ndarray | None = None,
        scale_from: Panel | None = None,
    ) -> Forecast:
        """Forecasts from many origins (see :meth:`_forecast`), with conformal bounds if
        calibrated: used by ``predict(df)``, backtests and meta-forecasters. The bounds scale
        by the histories in ``scale_from``: default ``panel``; ``predict(df)`` passes the
        same rows in float64 (a float32 copy can round a history's steps to nothing).

        ``panel`` may be wider than :meth:`_panel_dtype` (a backtest's float64 panel, a
        combination's of a network and a statistical model): the model reads it narrowed
        to its own dtype, as ``predict(df)`` gives it alone."""
        own = panel.astype(self._panel_dtype())  # no copy when it is already
        forecast = transformed.forecast(self, own, series, ends, future, checked=True)
        histories = panel if scale_from is None else scale_from
        forecast = self._with_bounds(forecast, lambda: history_scale(histories, series, ends))
        return forecast.checked_finite(transformed.origin_label(panel, series, ends))

    def _forecast_end(self, future: np.ndarray | None = None) -> Forecast:
        """Forecasts from the end of each fitted series, with conformal bounds if calibrated."""
        fitted = transformed.invert(self._forecast_fitted(future), self)
        forecast = self._with_bounds(fitted, lambda: self.conformal_scale_)
        return forecast.checked_finite(transformed.end_label(self.series_ids_))

    def _forecastable(self, panel: Panel, series: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Which origins this model can forecast from (a ``drop_short`` model: not all)."""
        return forecastable(self, panel, series, ends)

    def _with_bounds(self, forecast: Forecast, scale: Callable[[], np.ndarray]) -> Forecast:
        """``forecast`` with conformal bounds, if calibrated; ``scale()``: each history's."""
        if forecast.quantiles is not None or "conformal_quantiles_" not in self.__dict__:
            return forecast
        bounds = interval_bounds(forecast.point, self.conformal_quantiles_, scale())
        return Forecast(forecast.point, bounds)

    def predict(
        self,
        df: Any = None,
        *,
        future_covariates: Any = None,
        horizon: int | None = None,
        on_bad_series: str = "fail",
        max_staleness: int | None = None,
        expect_ids: Any = None,
        fallback_season: int | None = None,
    ) -> Any:
        """Forecast the next steps after the end of the training data, or of ``df``.

        All series are forecast together, in batches, with no loop over series.

        Parameters
        ----------
        df : pandas.DataFrame, polars.DataFrame or pyarrow.Table, optional
            A newer history with the same columns as at fit; the forecast starts after its
            last timestamp (per series). Nothing is refitted.
        future_covariates : pandas.DataFrame, polars.DataFrame or pyarrow.Table, optional
            Required when the model has known-future covariates: their values at the
            ``self.horizon`` timestamps after each series' end, in the training layout
            (index of timestamps, or ``id_col``/``time_col`` columns or ``MultiIndex``).
            With a Spark or Dask ``df``: a long frame of that engine (or of pandas).
        horizon : int, optional
            Steps to return, ``1 <= horizon <= self.horizon``; default all.
        on_bad_series, max_staleness, expect_ids, fallback_season
            With ``df``, per-series isolation: ``"fail"`` (default), ``"skip"`` or
            ``"fallback"`` (a baseline) for series that are unseen, short, gapped, stale
            (over ``max_staleness`` periods behind) or absent from ``expect_ids``; see
            :mod:`forecast.forecasters._bad_series`.

        Returns
        -------
        pandas.DataFrame, polars.DataFrame or pyarrow.Table
            Of the library of ``df`` (else of ``future_covariates``, else of the frame
            fitted on in this process; pandas for a loaded model); a polars or pyarrow
            frame has the timestamps as a column, with their input type.
            Wide input: indexed by the future timestamps, one column per target. Long input:
            columns ``id_col, time_col, *targets``, ``horizon`` rows per series (a
            ``MultiIndex (id, time)`` if the input had one). Each target's column is followed
            by its quantile columns ``f"{target}_q{q:g}"`` at ``quantile_levels_``, if any.

        Raises
        ------
        NotFittedError, DataError
            Before ``fit``; a history with other columns, unknown series or too short.
        """
        check_is_fitted(self, "cutoffs_")
        check_int(self, "horizon", self.horizon, low=1)  # set_params(horizon=-1) after fit
        steps = self.horizon if horizon is None else horizon
        check_int(self, "horizon", steps, low=1, high=self.horizon)
        if engine_of(df):  # Spark, Dask: per partition of whole series (forecast/engines)
            return self._on_engine(
                "predict", df, {k: v for k, v in locals().items() if k in PREDICT_OPTIONS}
            )
        df, kind = to_pandas(df)
        future_covariates, future_kind = to_pandas(future_covariates, "future_covariates")
        self._check_future_covariates(future_covariates)
        isolate = (on_bad_series, max_staleness, expect_ids, fallback_season)
        if isolate != ("fail", None, None, None):  # per-series isolation (_bad_series.py)
            from forecast.forecasters._bad_series import predict_isolated

            frame = predict_isolated(self, df, *isolate, future_covariates, horizon)
            return to_native(frame, kind)
        if df is None:
            fitted: FrameKind = self.layout_.source or PANDAS
            kind = fitted if future_covariates is None else future_kind
            cutoffs, ids = self.cutoffs_, self.series_ids_
            forecast = self._forecast_end(self._future_values(future_covariates, ids, cutoffs))
        else:
            # Conformal bounds scale by each history's mean step, which fit measured in its
            # own dtype (float64 where it calibrates): in float32, steps of 0.01 on 1e8 round
            # away (scale 1, bounds 100 times too wide). Forecasts read the model's dtype.
            given = usable_series(self, self._to_fitted_panel(df, self._fit_dtype()))
            panel = given.astype(self._panel_dtype())  # (usable_series: drop_short models)
            cutoffs, ids = panel.last_times, panel.ids
            future = self._future_values(future_covariates, ids, cutoffs)
            forecast = self._forecast_at(
                panel, np.arange(panel.n_series), panel.offsets[1:], future, scale_from=given
            )
        if forecast.point.shape[1] != self.horizon:
            raise InvalidParameterError(
                f"The 'horizon' parameter of {type(self).__name__} was set to "
                f"{self.horizon} after fit; this model forecasts {forecast.point.shape[1]} "
                "steps. Refit it, or set horizon back (predict(horizon=...) returns fewer)."
            )
        quantiles = forecast.quantiles
        frame = forecast_frame(
            forecast.point[:, :steps],
            cutoffs,
            ids,
            layout=self.layout_,
            freq=self.freq_,
            target_names=self.target_names_,
            quantiles=None if quantiles is None else quantiles[:, :steps],
            levels=self.quantile_levels_,
        )
        return to_native(frame, kind)

    def score(self, df: Any, y: None = None) -> float:
        """Negative MASE of a forecast of the last ``horizon`` steps of ``df`` (higher is better).

        Each series of ``df`` is split into a history (all but its last ``horizon`` rows)
        and those last ``horizon`` rows; the fitted model forecasts them from the history
        (as ``predict(history)`` would, without refitting; known-future covariates are read
        from ``df``). The score is minus the MASE (season length 1: the error is divided by
        the mean absolute one-step change of each series' history), averaged over series and
        targets: 0 is perfect, -1 is as good as the naive last-value forecast was in-sample.
        With ``missing="mask"``, missing actuals and changes are left out of the means.

        Parameters
        ----------
        df : pandas.DataFrame, polars.DataFrame or pyarrow.Table
            Same columns (and, with fitted per-series statistics, series) as at fit; each
            series needs enough rows for the model's input plus ``horizon``.
        y : None
            Ignored; for scikit-learn compatibility.

        Returns
        -------
        float

        Raises
        ------
        NotFittedError, DataError
            Before ``fit``; a series too short, or with a constant history (MASE undefined).
        """
        check_is_fitted(self, "cutoffs_")
        if engine_of(df):  # Spark, Dask: per partition of whole series (forecast/engines)
            return float(self._on_engine("score", df, {}))
        return holdout_score(self, self._to_fitted_panel(to_pandas(df)[0], np.float64))

    # ================================================================== model files

    def _saved_state(self) -> SavedState:
        """The fitted state to save: common attributes, arrays (with the calibration's)."""
        check_is_fitted(self, "cutoffs_")
        attributes = {name: self.__dict__[name] for name in self._saved_attributes}
        arrays = dict(self._fitted_arrays())
        metadata = dict(self._fitted_metadata())
        transformed.save_extras(self, arrays, metadata)  # Box-Cox lambdas, calendar
        if "conformal_quantiles_" in self.__dict__:
            for key, name in _CALIBRATION_ARRAYS.items():
                arrays[key] = self.__dict__[name]
            metadata["n_calibration"] = self.n_calibration_
        members: list[Forecaster] = list(self._fitted_members())
        backtest = self.__dict__.get("backtest_")  # set by a user, to be saved with the model
        return SavedState(attributes, arrays, metadata, members, backtest)

    def _restore_saved(
        self,
        attributes: dict[str, Any],
        arrays: dict[str, np.ndarray],
        metadata: dict[str, Any],
        members: Sequence[Forecaster],
        backtest: dict[str, Any] | None = None,
    ) -> None:
        """Inverse of :meth:`_saved_state`, on a new instance built from the saved params.

        The parameters are checked as ``fit`` checks them, and every array of the state
        must be finite (a fitted model's always is).
        """
        self._check_params()  # the saved parameters, checked as fit checks them
        transformed.check_transform(self)
        missing = [name for name in self._saved_attributes if name not in attributes]
        if missing:
            raise ValueError(f"the fitted attributes {missing} are missing")
        for name in self._saved_attributes:
            setattr(self, name, attributes[name])
        lengths = {len(attributes[n]) for n in ("series_ids_", "cutoffs_", "training_start_")}
        if len(lengths) > 1 or pd.isna(self.cutoffs_).any():
            raise ModelFileError("its series ids, cutoffs and starts do not match one another")
        not_finite = [
            key
            for key, value in arrays.items()
            if np.asarray(value).dtype.kind in "fc" and not np.isfinite(value).all()
        ]
        if not_finite:  # they would forecast NaN or inf without a word
            raise ModelFileError(
                f"its arrays {sorted(not_finite)} hold NaN or infinite values, which no fit "
                "produces"
            )
        metadata = dict(metadata)
        own = transformed.restore_extras(self, arrays, metadata)
        own = {k: v for k, v in own.items() if k not in _CALIBRATION_ARRAYS}
        if "conformal.quantiles" in arrays:
            for key, name in _CALIBRATION_ARRAYS.items():
                setattr(self, name, np.asarray(arrays[key], dtype=np.float64))
            self.n_calibration_ = int(metadata.pop("n_calibration", 0))
        forecasters = [m for m in members if isinstance(m, BaseForecaster)]
        if len(forecasters) != len(members):
            raise ValueError("a member is not a forecaster")
        self._restore_fitted(own, metadata, forecasters)
        if backtest is not None:
            self.backtest_ = backtest

    def save(self, path: str | os.PathLike[str]) -> None:
        """Save the fitted forecaster to one safetensors file, atomically.

        See :func:`forecast.save`.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from forecast import RNNForecaster
        >>> from forecast.datasets import load_air_passengers
        >>> model = RNNForecaster(seq_len=12, hidden_size=8, max_epochs=1, random_state=0,
        ...                       progress_bar=False).fit(load_air_passengers())
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "air.safetensors"
        >>> model.save(path)
        >>> RNNForecaster.load(path).predict().equals(model.predict())
        True
        """
        persistence.save(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Self:
        """Load a model saved with :meth:`save`; it must be of this class (or a subclass).

        See :func:`forecast.load`, which loads any forecaster.

        Raises
        ------
        ModelFileError
            If the file is not a readable model of this class.
        """
        estimator = persistence.load(path, expect=cls)
        if not isinstance(estimator, cls):  # load(expect=cls) refuses other classes (mypy)
            raise TypeError(f"{type(estimator).__name__} is not a {cls.__name__}")
        return estimator

    def card(self) -> ModelCard:
        """What this model is and what it was trained on: a :class:`~forecast.ModelCard`.

        Examples
        --------
        >>> from forecast import RNNForecaster
        >>> from forecast.datasets import load_air_passengers
        >>> model = RNNForecaster(seq_len=12, hidden_size=8, max_epochs=1, random_state=0,
        ...                       progress_bar=False).fit(load_air_passengers())
        >>> model.card().n_series
        1
        """
        document, arrays = persistence.describe(self, warn=False)
        return ModelCard.from_document(document, arrays)
