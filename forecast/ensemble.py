"""Ensembles over seeds: the same forecaster fitted several times, forecasts combined.

A recurrent network's forecast depends on its random initialisation and on the order it saw
the windows in; the median (or mean) of a few independently seeded fits is more accurate
than a typical single fit and varies much less from seed to seed (the M4 competition's
best neural models were such ensembles). The cost is ``n_members`` fits.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from forecast._validation import check_int, check_option

__all__ = ["EnsembleForecaster"]

_AGGREGATES = ("median", "mean")


class EnsembleForecaster(BaseEstimator):
    """Fit ``n_members`` clones of a forecaster with different seeds; combine their forecasts.

    Parameters
    ----------
    estimator : RNNForecaster, LSTMForecaster or GRUForecaster
        The forecaster to clone; its ``random_state`` seeds the members (member ``i`` gets
        ``seed + i``), so an int gives reproducible ensembles.
    n_members : int, default 5
    aggregate : {"median", "mean"}, default "median"
        How the members' forecasts are combined, step by step and target by target.

    Attributes
    ----------
    members_ : list
        The fitted clones.
    seeds_ : list of int

    Examples
    --------
    >>> from forecast import LSTMForecaster
    >>> from forecast.datasets import load_air_passengers
    >>> base = LSTMForecaster(seq_len=12, horizon=3, max_epochs=1, random_state=0,
    ...                       progress_bar=False)
    >>> fc = EnsembleForecaster(base, n_members=2).fit(load_air_passengers()).predict()
    >>> fc.shape
    (3, 1)
    """

    def __init__(self, estimator: Any = None, *, n_members: int = 5, aggregate: str = "median"):
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
        """
        check_int(self, "n_members", self.n_members, low=1)
        check_option(self, "aggregate", self.aggregate, _AGGREGATES)
        if self.estimator is None or not hasattr(self.estimator, "fit"):
            raise TypeError(
                f"The 'estimator' parameter of {type(self).__name__} must be a forecaster "
                f"of ours. Got {self.estimator!r} instead."
            )
        state = self.estimator.get_params().get("random_state")
        base = (
            int(state)
            if isinstance(state, int | np.integer)
            else int(check_random_state(state).randint(np.iinfo(np.int32).max - self.n_members))
        )
        self.seeds_ = [base + i for i in range(self.n_members)]
        self.members_ = [
            clone(self.estimator).set_params(random_state=seed).fit(df) for seed in self.seeds_
        ]
        return self

    def predict(self, df: pd.DataFrame | None = None, **kwargs: Any) -> pd.DataFrame:
        """The combined forecast: each member's ``predict(df, **kwargs)``, step by step.

        Returns
        -------
        pandas.DataFrame
            In the layout of the members' forecasts, with their values combined.
        """
        check_is_fitted(self, "members_")
        frames = [member.predict(df, **kwargs) for member in self.members_]
        targets = list(self.members_[0].target_names_)
        stacked = np.stack([f[targets].to_numpy(dtype=np.float64) for f in frames])
        combine = np.median if self.aggregate == "median" else np.mean
        out = frames[0].copy()
        out[targets] = combine(stacked, axis=0)
        return out
