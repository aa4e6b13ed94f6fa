"""Ensembles over seeds: the same forecaster fitted several times, forecasts combined.

A recurrent network's forecast depends on its random initialisation and on the order it saw
the windows in; the median (or mean) of a few independently seeded fits is more accurate
than a typical single fit and varies much less from seed to seed (the M4 competition's
best neural models were such ensembles). The cost is ``n_members`` fits.

The ensemble is a forecaster like the others: it has the fitted attributes that come from
the data (``target_names_``, ``freq_``, ``series_ids_``, ``cutoffs_``, ...: the same in
every member), shows its base estimator's data parameters (``horizon``, ``target``,
``id_col``, ...) read-only, so that :func:`forecast.backtest.backtest`, the plots and the
command line take it as they take a single model, and saves to one file
(:mod:`forecast.persistence`: each member nested, as a single model is saved).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from forecast._evaluation import holdout_score
from forecast._exceptions import InvalidParameterError
from forecast._output import quantile_column
from forecast._validation import check_int, check_option
from forecast.data import Panel
from forecast.persistence import PersistenceMixin

__all__ = ["EnsembleForecaster"]

_AGGREGATES = ("median", "mean")

# Fitted attributes that come from the data, not from the seed: equal in every member, so
# the ensemble has the first member's (the members' own: history_, best_epoch_, seed_).
_DATA_ATTRIBUTES = (
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


def _base_parameter(name: str) -> property:
    """The base estimator's parameter ``name``, read-only (backtest and the CLI read it)."""

    def get(self: EnsembleForecaster) -> Any:
        return getattr(self.estimator, name)

    return property(
        get,
        doc=f"The base estimator's ``{name}`` (read-only; ``set_params(estimator__{name}=...)``).",
    )


def _base_has(method: str) -> Callable[[Any], bool]:
    return lambda self: hasattr(self.estimator, method)


class EnsembleForecaster(PersistenceMixin, BaseEstimator):
    """Fit ``n_members`` clones of a forecaster with different seeds; combine their forecasts.

    Parameters
    ----------
    estimator : RNNForecaster, LSTMForecaster or GRUForecaster
        The forecaster to clone; its ``random_state`` seeds the members (member ``i`` gets
        ``seed + i``), so an int gives reproducible ensembles.
    n_members : int, default 5
    aggregate : {"median", "mean"}, default "median"
        How the members' forecasts are combined, step by step and column by column: the
        point forecasts, and each quantile level of quantile or conformal members (the
        median or mean of non-crossing quantiles does not cross).

    Attributes
    ----------
    members_ : list
        The fitted clones.
    seeds_ : list of int
        ``random_state`` of each member.
    freq_, layout_, target_names_, covariate_names_, future_names_, static_names_
        As the members' (they come from the data, not the seed).
    feature_names_in_, n_features_in_, series_ids_, cutoffs_, training_start_
        As the members'.
    quantile_levels_ : list of float
        Levels of the quantile columns of ``predict``, as the members'.
    horizon, target, id_col, time_col, freq, future_covariates, static_covariates
        The base estimator's parameters, read-only (set them with
        ``set_params(estimator__horizon=...)``).

    Examples
    --------
    >>> from forecast import EnsembleForecaster, LSTMForecaster
    >>> from forecast.datasets import load_air_passengers
    >>> base = LSTMForecaster(seq_len=12, horizon=3, max_epochs=1, random_state=0,
    ...                       progress_bar=False)
    >>> ensemble = EnsembleForecaster(base, n_members=2).fit(load_air_passengers())
    >>> ensemble.predict().shape
    (3, 1)
    >>> ensemble.seeds_
    [0, 1]
    """

    horizon = _base_parameter("horizon")
    target = _base_parameter("target")
    id_col = _base_parameter("id_col")
    time_col = _base_parameter("time_col")
    freq = _base_parameter("freq")
    future_covariates = _base_parameter("future_covariates")
    static_covariates = _base_parameter("static_covariates")

    def __init__(
        self, estimator: Any = None, *, n_members: int = 5, aggregate: str = "median"
    ) -> None:
        self.estimator = estimator
        self.n_members = n_members
        self.aggregate = aggregate

    def fit(self, df: pd.DataFrame, y: None = None) -> EnsembleForecaster:
        """Fit every member on ``df``.

        Parameters
        ----------
        df : pandas.DataFrame
            As for the member estimator's ``fit``.
        y : None
            Ignored.

        Returns
        -------
        self

        Raises
        ------
        InvalidParameterError
            ``n_members`` or ``aggregate`` out of range, or a base estimator without a
            ``random_state`` (a baseline: its fits would all be the same).
        TypeError
            If ``estimator`` is not a forecaster.
        """
        check_int(self, "n_members", self.n_members, low=1)
        check_option(self, "aggregate", self.aggregate, _AGGREGATES)
        if self.estimator is None or not hasattr(self.estimator, "fit"):
            raise TypeError(
                f"The 'estimator' parameter of {type(self).__name__} must be a forecaster "
                f"of ours. Got {self.estimator!r} instead."
            )
        params = self.estimator.get_params()
        if "random_state" not in params:
            raise InvalidParameterError(
                f"The 'estimator' parameter of {type(self).__name__} must be a forecaster "
                "with a random_state (RNNForecaster, LSTMForecaster, GRUForecaster): its "
                f"members differ only by their seed. Got {self.estimator!r} instead."
            )
        state = params["random_state"]
        base = (
            int(state)
            if isinstance(state, int | np.integer)
            else int(check_random_state(state).randint(np.iinfo(np.int32).max - self.n_members))
        )
        self.seeds_ = [base + i for i in range(self.n_members)]
        self.members_ = [
            clone(self.estimator).set_params(random_state=seed).fit(df) for seed in self.seeds_
        ]
        self._share_data_attributes()
        return self

    def _share_data_attributes(self) -> None:
        first = self.members_[0]
        for name in _DATA_ATTRIBUTES:
            if hasattr(first, name):
                setattr(self, name, getattr(first, name))

    # ------------------------------------------------------------------ predict

    def predict(self, df: pd.DataFrame | None = None, **kwargs: Any) -> pd.DataFrame:
        """The combined forecast: each member's ``predict(df, **kwargs)``, step by step.

        Parameters
        ----------
        df : pandas.DataFrame, optional
            A newer history, as for the members' ``predict``; default the end of the
            training data.
        **kwargs
            Passed to each member's ``predict`` (``horizon=``, ``future_covariates=``).

        Returns
        -------
        pandas.DataFrame
            In the layout of the members' forecasts: the point columns and the quantile
            columns (``f"{target}_q{q:g}"``, if any) combined by ``aggregate``.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        """
        check_is_fitted(self, "members_")
        frames = [member.predict(df, **kwargs) for member in self.members_]
        columns = [
            name
            for target in self.target_names_
            for name in (target, *(quantile_column(target, q) for q in self.quantile_levels_))
        ]
        out = frames[0].copy()
        out[columns] = self._combine([f[columns].to_numpy(dtype=np.float64) for f in frames])
        return out

    def score(self, df: pd.DataFrame, y: None = None) -> float:
        """Negative MASE of the combined forecast of the last ``horizon`` steps of ``df``.

        As the members' ``score`` (see :meth:`forecast.RNNForecaster.score`), with the
        ensemble's forecast.

        Parameters
        ----------
        df : pandas.DataFrame
        y : None
            Ignored; for scikit-learn compatibility.

        Returns
        -------
        float
        """
        check_is_fitted(self, "members_")
        return holdout_score(self, df)

    def _combine(self, forecasts: list[np.ndarray]) -> np.ndarray:
        """The members' forecasts (each of one shape), combined elementwise by ``aggregate``."""
        stacked = np.stack(forecasts)  # (M, ...)
        return np.median(stacked, axis=0) if self.aggregate == "median" else stacked.mean(axis=0)

    @available_if(_base_has("_forecast_at"))
    def _forecast_at(self, panel: Panel, series: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Combined point forecasts ``(N, H, T)`` at many cutoffs (backtest, ``score``)."""
        return self._combine([m._forecast_at(panel, series, ends) for m in self.members_])

    @available_if(_base_has("_forecast_quantiles_at"))
    def _forecast_quantiles_at(
        self, panel: Panel, series: np.ndarray, ends: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Combined point forecasts ``(N, H, T)`` and quantiles ``(N, H, T, Q)`` (or None)."""
        parts = [m._forecast_quantiles_at(panel, series, ends) for m in self.members_]
        point = self._combine([p for p, _ in parts])
        if parts[0][1] is None:
            return point, None
        return point, self._combine([q for _, q in parts])

    # ------------------------------------------------------------------ persistence protocol

    def _fitted_arrays(self) -> dict[str, np.ndarray]:
        """None of its own: the members' arrays are saved with them (``_fitted_members``)."""
        return {}

    def _fitted_metadata(self) -> dict[str, Any]:
        return {"seeds": [int(s) for s in self.seeds_]}

    def _fitted_members(self) -> list[Any]:
        """The fitted members, each saved as a model of its own inside the ensemble's file."""
        return list(self.members_)

    def _restore_fitted(
        self, arrays: dict[str, np.ndarray], metadata: dict[str, Any], members: list[Any]
    ) -> None:
        """Inverse of the three methods above; ``members`` are loaded already."""
        seeds = [int(s) for s in metadata["seeds"]]
        if not len(members) == len(seeds) == self.n_members:
            raise ValueError(
                f"{len(members)} members and {len(seeds)} seeds for n_members={self.n_members}"
            )
        self.seeds_, self.members_ = seeds, list(members)
        self._share_data_attributes()
