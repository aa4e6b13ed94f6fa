"""Ensembles over seeds (and settings): a forecaster fitted several times, forecasts combined.

A recurrent network's forecast depends on its random initialisation and on the order it saw
the windows in; the median (or mean) of a few independently seeded fits is more accurate
than a typical single fit and varies much less from seed to seed (the M4 competition's
best neural models were such ensembles). The cost is ``n_members`` fits. Members may also
differ by settings (``member_params``): on M3 monthly the mean of a network of the raw
series and one of the de-seasonalised series is better than either (issue 22's ablation in
``benchmarks/RESULTS.md``), as combinations of different models usually are.

The ensemble is a forecaster like the others: it has the fitted attributes that come from
the data (``target_names_``, ``freq_``, ``series_ids_``, ``cutoffs_``, ...: the same in
every member), shows its base estimator's data parameters (``horizon``, ``target``,
``id_col``, ...) read-only, so that :func:`forecast.backtest.backtest`, the plots and the
command line take it as they take a single model, and saves to one file
(:mod:`forecast.io.persistence`: each member nested, as a single model is saved). The
frame is validated and converted once, for all the members.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import clone

from forecast._exceptions import InvalidParameterError
from forecast._validation import SEED_HIGH, check_int, check_option, fit_seed
from forecast._warnings import once_per_scope
from forecast.data.panel import Layout, Panel
from forecast.forecasters import _transformed as transformed
from forecast.forecasters import baselines, recurrent  # noqa: F401  (see below)
from forecast.forecasters._bad_series import members_unservable
from forecast.forecasters._calibration import check_calibration_rows
from forecast.forecasters._ensemble_warm import continued_members
from forecast.forecasters.base import BaseForecaster
from forecast.protocol import Forecast

__all__ = ["EnsembleForecaster", "delegated_parameter", "fit_members"]

# The baselines and recurrent modules are imported above so that the classes an ensemble's
# file names for its base and members are defined (forecast.io.registry) wherever
# EnsembleForecaster is: EnsembleForecaster.load(path) in a fresh program needs them.

_AGGREGATES = ("median", "mean")
# The data parameters: every member reads the same panel, so these cannot differ by member.
_SHARED = (
    "horizon",
    "target",
    "id_col",
    "time_col",
    "freq",
    "missing",
    "future_covariates",
    "static_covariates",
    "past_covariates",
    # ... and what the combined columns are: every member must forecast the same levels.
    "quantiles",
    "intervals",
    "coverage",
)


def delegated_parameter(holder: str, name: str) -> Any:
    """A read-only view of the parameter ``name`` of the estimator in attribute ``holder``:
    a meta-forecaster's data parameters are its (first) member's, which the template reads."""

    def get(self: BaseForecaster) -> Any:
        return getattr(getattr(self, holder), name)

    return property(
        get, doc=f"The {holder}'s ``{name}`` (read-only; ``set_params({holder}__{name}=...)``)."
    )


def fit_members(members: list[BaseForecaster], panel: Panel, layout: Layout) -> None:
    """Fit a meta-forecaster's ``members`` on one panel: every member's refusals of the data
    first, before any trains, then each fit; a warning about the data once, not once per
    member (:func:`forecast._warnings.once_per_scope`).

    ``panel`` is of the widest dtype the members fit on; each member is fitted on it in its
    own (:meth:`~forecast.BaseForecaster._fit_dtype`), as ``fit`` converts it alone: a
    statistical model reads float64 beside a float32 network, and the network float32.
    """
    with once_per_scope():
        # Narrowed (and refused, beyond float32's range) before any member trains; no copy
        # where a member's dtype is the panel's.
        own = [panel.astype(member._fit_dtype()) for member in members]
        for member, part in zip(members, own, strict=True):
            transformed.check_fit_domain(member, part)
        for member, part in zip(members, own, strict=True):
            member._fit_panel(part, layout)


def _base_parameter(name: str) -> Any:
    return delegated_parameter("estimator", name)


class EnsembleForecaster(BaseForecaster):
    """Fit ``n_members`` clones of a forecaster with different seeds; combine their forecasts.

    Parameters
    ----------
    estimator : RNNForecaster, LSTMForecaster, GRUForecaster, or a forecaster with ``random_state``
        The forecaster to clone; its ``random_state`` seeds the members (member ``i`` gets
        ``seed + i``), so an int gives reproducible ensembles.
    n_members : int, default 5
    member_params : list of dict, optional
        Parameters that differ between members: member ``i`` is the base estimator with
        ``member_params[i % len(member_params)]`` set (and seeded ``random_state + i``),
        e.g. ``[{}, {"target_transform": "deseasonalize"}]``. Not the data parameters
        (``horizon``, ``target``, ``id_col``...), which all members share. With
        ``warm_start=True`` on the estimator, a refit's member ``i`` continues fitted
        member ``i`` (members added by a larger ``n_members`` start cold).
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
    horizon, target, id_col, time_col, freq, missing, future_covariates, static_covariates
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

    # The data parameters are the base estimator's (BaseForecaster declares them as plain
    # attributes; here they are read-only views, so mypy is told they are the same thing).
    horizon = _base_parameter("horizon")
    target = _base_parameter("target")
    id_col = _base_parameter("id_col")
    time_col = _base_parameter("time_col")
    freq = _base_parameter("freq")
    missing = _base_parameter("missing")  # "mask": the members read the same masked panel
    future_covariates = _base_parameter("future_covariates")
    static_covariates = _base_parameter("static_covariates")
    past_covariates = _base_parameter("past_covariates")
    _reads_past_covariates = False  # its members say it

    members_: list[BaseForecaster]
    seeds_: list[int]

    def __init__(
        self,
        estimator: BaseForecaster | None = None,
        *,
        n_members: int = 5,
        aggregate: str = "median",
        member_params: list[dict[str, Any]] | None = None,
    ) -> None:
        self.estimator = estimator
        self.n_members = n_members
        self.aggregate = aggregate
        self.member_params = member_params

    # ------------------------------------------------------------------ hooks: parameters

    def _check_params(self) -> None:
        """Also the base estimator's parameters: its clones are fitted without a check."""
        check_int(self, "n_members", self.n_members, low=1)
        check_option(self, "aggregate", self.aggregate, _AGGREGATES)
        if not isinstance(self.estimator, BaseForecaster):
            raise TypeError(
                f"The 'estimator' parameter of {type(self).__name__} must be a forecaster "
                f"of ours. Got {self.estimator!r} instead."
            )
        if "random_state" not in self.estimator.get_params():
            raise InvalidParameterError(
                f"The 'estimator' parameter of {type(self).__name__} must be a forecaster "
                "with a random_state (RNNForecaster, LSTMForecaster, GRUForecaster): its "
                f"members differ by their seed. Got {self.estimator!r} instead."
            )
        self.estimator._check_params()
        for overrides in self._member_overrides():  # each member's settings, before training
            member = self._member(overrides, seed=None)
            member._check_params()
            transformed.check_transform(member)
        state = self.estimator.get_params()["random_state"]
        last = SEED_HIGH - self.n_members + 1  # member i is seeded random_state + i
        if isinstance(state, int | np.integer) and state > last:
            raise InvalidParameterError(
                f"The 'random_state' of the estimator of {type(self).__name__} must be at "
                f"most {last} with n_members={self.n_members}: member i is seeded "
                f"random_state + i, and seeds go up to {SEED_HIGH}. Got {state} instead."
            )

    def _member_overrides(self) -> list[dict[str, Any]]:
        """``member_params`` checked: a non-empty list of dicts of the base's own settings."""
        if self.member_params is None:
            return [{}]
        name = type(self).__name__
        if not isinstance(self.member_params, list | tuple) or not self.member_params:
            raise InvalidParameterError(
                f"The 'member_params' parameter of {name} must be None or a non-empty list of "
                f"dicts, e.g. [{{}}, {{'target_transform': 'deseasonalize'}}]. Got "
                f"{self.member_params!r} instead."
            )
        known = set(self._base().get_params(deep=False)) - {"random_state", *_SHARED}
        for overrides in self.member_params:
            unknown = set(overrides) - known if isinstance(overrides, dict) else None
            if unknown is None or unknown:
                raise InvalidParameterError(
                    f"Each entry of the 'member_params' parameter of {name} must be a dict of "
                    f"the base estimator's parameters other than random_state and the data "
                    f"parameters {sorted(_SHARED)}, which all members share. Got "
                    f"{overrides!r}" + (f" ({sorted(unknown)} cannot differ)." if unknown else ".")
                )
        return [dict(o) for o in self.member_params]

    def _member(self, overrides: dict[str, Any], seed: int | None) -> BaseForecaster:
        """A clone of the base estimator with ``overrides`` (and ``seed``) set."""
        member = clone(self._base()).set_params(**overrides)
        return member if seed is None else member.set_params(random_state=seed)

    def _base(self) -> BaseForecaster:
        if not isinstance(self.estimator, BaseForecaster):  # checked by fit; for mypy
            raise TypeError(f"{self.estimator!r} is not a forecaster")
        return self.estimator

    # ------------------------------------------------------------------ hooks: data

    def _covariates(self) -> tuple[str | list[str] | None, str | list[str] | None]:
        return self._base()._covariates()

    def _panel_dtype(self) -> np.dtype:
        return self._base()._panel_dtype()

    def _fit_dtype(self) -> np.dtype:
        return self._base()._fit_dtype()  # float64 when the members calibrate intervals

    def _conformal_coverage(self) -> list[float] | None:
        return None  # each member calibrates its own intervals; their bounds are combined

    def _quantile_levels(self) -> list[float]:
        return list(self.members_[0].quantile_levels_)

    def _select_series(self, panel: Panel) -> Panel:
        """What every member will keep; a series too short to calibrate on is refused first,
        as a single model refuses it (before dropping the series too short to train on).

        Each member's own rule is applied in turn (``member_params`` may change ``seq_len``
        or ``partial_horizons``, and so the rows a series needs): all members train on the
        same series, and a series one of them cannot train on is refused before any trains.
        """
        base = self._base()
        if base._conformal_coverage() is not None:
            check_calibration_rows(panel, base.calibration_windows, base.horizon)
        for overrides in self._member_overrides():
            panel = self._member(overrides, None)._select_series(panel)
        return panel

    # ------------------------------------------------------------------ hooks: fit, forecast

    def _fit(self, panel: Panel, layout: Layout) -> None:
        """Fit every member on ``panel``, member ``i`` seeded ``random_state + i``."""
        base = self._base()
        state = base.get_params()["random_state"]
        first = fit_seed(state, reserve=self.n_members)
        seeds = [first + i for i in range(self.n_members)]
        overrides = self._member_overrides()
        members = [self._member(overrides[i % len(overrides)], s) for i, s in enumerate(seeds)]
        # warm_start=True: member i continues fitted member i (see _ensemble_warm)
        members = continued_members(self.__dict__.get("members_"), members, panel)
        fit_members(members, panel, layout)
        self.seeds_, self.members_ = seeds, members

    def _combine(self, forecasts: list[np.ndarray]) -> np.ndarray:
        """The members' forecasts (each of one shape), combined elementwise by ``aggregate``."""
        stacked = np.stack(forecasts)  # (M, ...)
        return np.median(stacked, axis=0) if self.aggregate == "median" else stacked.mean(axis=0)

    def _combine_forecasts(self, parts: list[Forecast]) -> Forecast:
        point = self._combine([p.point for p in parts])
        quantiles = [p.quantiles for p in parts if p.quantiles is not None]
        if len(quantiles) < len(parts):
            return Forecast(point, None)
        return Forecast(point, self._combine(quantiles))

    def _forecast(
        self, panel: Panel, series: np.ndarray, ends: np.ndarray, future: np.ndarray | None
    ) -> Forecast:
        """The members' forecasts (with their own intervals), combined."""
        return self._forecast_at(panel, series, ends, future)

    def _forecast_at(
        self,
        panel: Panel,
        series: np.ndarray,
        ends: np.ndarray,
        future: np.ndarray | None = None,
        scale_from: Panel | None = None,
    ) -> Forecast:
        """The members' forecasts from many origins, each with its own bounds scaled by the
        histories in ``scale_from`` (``predict(df)``'s float64 copy), combined. (The
        ensemble transforms no target of its own: its members do.)"""
        return self._combine_forecasts(
            [m._forecast_at(panel, series, ends, future, scale_from) for m in self.members_]
        )

    def _forecast_fitted(self, future: np.ndarray | None) -> Forecast:
        return self._combine_forecasts([m._forecast_end(future) for m in self.members_])

    # ------------------------------------------------------------------ hooks: model files

    def _fitted_arrays(self) -> dict[str, np.ndarray]:
        """None of its own: the members' arrays are saved with them (``_fitted_members``)."""
        return {}

    def _fitted_metadata(self) -> dict[str, Any]:
        return {"seeds": [int(s) for s in self.seeds_]}

    def _unservable(self, panel: Panel) -> dict[int, tuple[str, str]]:
        return members_unservable(self.members_, panel)

    def _fitted_members(self) -> list[BaseForecaster]:
        """The fitted members, each saved as a model of its own inside the ensemble's file."""
        return list(self.members_)

    def _restore_fitted(
        self,
        arrays: dict[str, np.ndarray],
        metadata: dict[str, Any] | None = None,
        members: Sequence[BaseForecaster] = (),
    ) -> None:
        """Inverse of the three methods above; ``members`` are loaded already."""
        seeds = [int(s) for s in (metadata or {})["seeds"]]
        if not len(members) == len(seeds) == self.n_members:
            raise ValueError(
                f"{len(members)} members and {len(seeds)} seeds for n_members={self.n_members}"
            )
        self.seeds_, self.members_ = seeds, list(members)
