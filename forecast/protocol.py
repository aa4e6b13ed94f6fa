"""What the rest of forecast may use of a forecaster: the protocol, its fitted attributes.

:class:`~forecast.BaseForecaster` (:mod:`forecast.forecasters.base`) implements this
protocol once, for every forecaster; :mod:`forecast.evaluation` (backtests) and
:mod:`forecast.io` (model files) sit below the forecasters and use them only through it,
so they never import a forecaster class and never probe one with ``hasattr``. ``mypy``
checks both sides: the base class subclasses :class:`Forecaster`, and the consumers are
typed with it.

The **common fitted attributes** are declared here and nowhere else: their names in
:data:`DATA_ATTRIBUTES` (every forecaster, set by ``BaseForecaster.fit`` from the data,
typed on :class:`Forecaster`) and :data:`TRAINING_ATTRIBUTES` (forecasters that train a
network, set by their ``_fit``, typed on :class:`TrainedForecaster`). A model file holds
the ones its forecaster has (``Forecaster._saved_attributes``).

Symbols: N forecasts, H horizon, T targets, Q quantile levels.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, Protocol

import numpy as np
import pandas as pd

from forecast._exceptions import NumericalError
from forecast.data.panel import Layout, Panel

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "DATA_ATTRIBUTES",
    "TRAINING_ATTRIBUTES",
    "Forecast",
    "Forecaster",
    "SavedState",
    "TrainedForecaster",
]

#: Set by every forecaster's ``fit`` from the data, in this order (the order of a model
#: file's ``fitted`` table).
DATA_ATTRIBUTES: tuple[str, ...] = (
    "freq_",
    "layout_",
    "target_names_",
    "covariate_names_",
    "future_names_",
    "static_names_",
    "feature_names_in_",
    "n_features_in_",
    "series_ids_",
    "cutoffs_",
    "training_start_",
    "quantile_levels_",
)

#: Set by forecasters that train a network (not the baselines): :class:`TrainedForecaster`.
TRAINING_ATTRIBUTES: tuple[str, ...] = ("history_", "best_epoch_", "seed_")


class Forecast(NamedTuple):
    """Forecasts in original units, from many origins at once.

    Attributes
    ----------
    point : numpy.ndarray of shape (N, H, T), float64
    quantiles : numpy.ndarray of shape (N, H, T, Q) or None
        At the forecaster's ``quantile_levels_``, non-decreasing along Q.
    """

    point: np.ndarray
    quantiles: np.ndarray | None

    def checked_finite(self, label: Callable[[int], str]) -> Forecast:
        """This forecast, refused if any value is NaN or infinite (``label(i)`` names origin
        ``i``): a non-finite forecast never leaves the library, whatever produced it."""
        for what, values in (("forecast", self.point), ("interval", self.quantiles)):
            if values is None or np.isfinite(values).all():
                continue
            bad = ~np.isfinite(values.reshape(len(values), -1)).all(axis=1)
            raise NumericalError(
                f"The {what} of {label(int(np.flatnonzero(bad)[0]))} is NaN or infinite "
                f"({int(bad.sum())} forecast(s) in all): the model or its inputs overflowed. "
                "Refit the model, or check the data's scale."
            )
        return self


class SavedState(NamedTuple):
    """What a model file holds of one fitted forecaster, besides its parameters.

    Attributes
    ----------
    attributes : dict of str to object
        The common fitted attributes it has (``_saved_attributes``), by name.
    arrays : dict of str to numpy.ndarray
        Its own fitted arrays (weights, scaler statistics, calibration), by name.
    metadata : dict of str to object
        Its own fitted state that is not an array, JSON-ready.
    members : list of Forecaster
        A meta-forecaster's fitted members, each saved as a model of its own.
    backtest : dict or None
        The ``backtest_`` attribute, a score a user set to be saved with the model.
    """

    attributes: dict[str, Any]
    arrays: dict[str, np.ndarray]
    metadata: dict[str, Any]
    members: list[Forecaster]
    backtest: dict[str, Any] | None


class Forecaster(Protocol):
    """A forecaster as evaluation, model files, the command line and plots see it.

    Implemented by :class:`~forecast.BaseForecaster`; the methods with a leading underscore
    are that class's, written once, not hooks for subclasses to override (the hooks are the
    abstract methods of the base class).
    """

    # ------------------------------------------------------------------ parameters read

    horizon: int
    target: str | list[str] | None
    id_col: str | None
    time_col: str | None
    missing: str

    # ------------------------------------------------------------------ fitted attributes

    #: The common fitted attributes this class sets (a model file holds exactly these).
    _saved_attributes: ClassVar[tuple[str, ...]]

    freq_: pd.offsets.BaseOffset
    layout_: Layout
    target_names_: list[str]
    covariate_names_: list[str]
    future_names_: list[str]
    static_names_: list[str]
    feature_names_in_: np.ndarray
    n_features_in_: int
    series_ids_: list[Hashable]
    cutoffs_: pd.DatetimeIndex
    training_start_: pd.DatetimeIndex
    quantile_levels_: list[float]

    # ------------------------------------------------------------------ public methods

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's parameters, as scikit-learn's ``get_params``."""
        ...

    def fit(self, df: pd.DataFrame, y: None = None) -> Self:
        """Fit on ``df``; return the fitted forecaster (:meth:`forecast.BaseForecaster.fit`)."""
        ...

    def predict(
        self,
        df: pd.DataFrame | None = None,
        *,
        future_covariates: pd.DataFrame | None = None,
        horizon: int | None = None,
    ) -> pd.DataFrame:
        """Forecast after each series' end (:meth:`forecast.BaseForecaster.predict`)."""
        ...

    def make_future_frame(self, df: Any = None) -> Any:
        """The rows ``predict`` reads after each series' end, to fill with known-future
        covariates (:meth:`forecast.BaseForecaster.make_future_frame`)."""
        ...

    # ------------------------------------------------------------------ framework

    def _on_engine(self, method: str, df: Any, options: dict[str, Any]) -> Any:
        """``method`` of a Spark or Dask frame ``df``, per partition (:mod:`forecast.engines`)."""
        ...

    def _score_terms(self, df: pd.DataFrame) -> np.ndarray:
        """The MASE of each series and target ``(S, T)`` that ``score(df)`` averages."""
        ...

    def _to_panel(self, df: pd.DataFrame, dtype: Any = None) -> tuple[Panel, Layout]:
        """``df`` validated and converted as ``fit`` converts it (float64 if asked)."""
        ...

    def _forecast_at(
        self,
        panel: Panel,
        series: np.ndarray,
        ends: np.ndarray,
        future: np.ndarray | None = None,
        scale_from: Panel | None = None,
    ) -> Forecast:
        """Forecasts from many origins: origin ``i`` is row ``ends[i]`` of ``series[i]``
        (conformal bounds scaled by the histories in ``scale_from``, default ``panel``)."""
        ...

    def _forecastable(self, panel: Panel, series: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Which origins the model can forecast from: all, but for a ``drop_short`` model."""
        ...

    def _saved_state(self) -> SavedState:
        """The fitted state to save (:mod:`forecast.io`)."""
        ...

    def _restore_saved(
        self,
        attributes: dict[str, Any],
        arrays: dict[str, np.ndarray],
        metadata: dict[str, Any],
        members: Sequence[Forecaster],
        backtest: dict[str, Any] | None = None,
    ) -> None:
        """Inverse of :meth:`_saved_state` on a new, unfitted instance."""
        ...


class TrainedForecaster(Forecaster, Protocol):
    """A forecaster that trains a network (``RNNForecaster`` and its subclasses)."""

    history_: pd.DataFrame  # per epoch: epoch, train_loss, val_loss (scaled units)
    best_epoch_: int | None  # the epoch whose weights were kept, if any
    seed_: int  # the seed of weights, shuffling and dropout
