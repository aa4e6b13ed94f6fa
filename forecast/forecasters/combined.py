"""A forecast combination: two different forecasters fitted on the same data, averaged.

Combinations of different methods are the most reliable gain in forecasting accuracy (the
M3 and M4 competitions; Makridakis et al., 2020), and the most different pair here is a
global network, which learns one function of the input window over every series, and a
local statistical model fitted on each series alone. On M3 monthly the mean of one
``LSTMForecaster(**panel_params(12, 18))`` and a :class:`~forecast.ThetaForecaster` has
sMAPE 13.26-13.32 over seeds 0-4, against 13.68-13.77 for the network alone and 13.93
for Theta; on M3 quarterly 8.67-8.70 against 8.99-9.04 and 9.18; its MASE is below both
statistical benchmarks' on every M3 frequency but "other" (``benchmarks/RESULTS.md``,
issue 22). The cost is the statistical model's fit, a fraction of a second.

:class:`CombinedForecaster` is a forecaster like the others: the data parameters
(``horizon``, ``target``, ``id_col``...) are its first forecaster's, read-only; the frame is
validated and converted once, at the widest dtype of the two, and each reads it in its own
(a network float32, a statistical model float64), as alone; backtests, plots, the command
line's ``predict`` and model files (both members nested in one file) take it as they take a
single model.

Symbols: N forecasts, H horizon, T targets.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from forecast._exceptions import InvalidParameterError
from forecast.data.panel import Layout, Panel
from forecast.forecasters import _transformed as transformed
from forecast.forecasters import (  # noqa: F401  (below)
    baselines,
    damped,
    ensemble,
    ets,
    optimised_theta,
    recurrent,
    theta,
)
from forecast.forecasters._bad_series import members_unservable
from forecast.forecasters.base import BaseForecaster
from forecast.forecasters.ensemble import delegated_parameter, fit_members
from forecast.protocol import Forecast

__all__ = ["CombinedForecaster"]

# The modules above are imported so that the classes a combination's file names for its
# members are defined (forecast.io.registry) wherever CombinedForecaster is.

# The data parameters the two must agree on (every forecaster has them, as parameters, as
# BaseForecaster's class-level defaults, or as a meta-forecaster's views of its base's).
SHARED_PARAMETERS = ("horizon", "target", "id_col", "time_col", "freq", "missing")


def _first_parameter(name: str) -> Any:
    return delegated_parameter("forecaster", name)


class CombinedForecaster(BaseForecaster):
    """Fit two forecasters on the same data and forecast the weighted mean of their forecasts.

    ``(1 - partner_weight) * forecaster + partner_weight * partner``, step by step and target
    by target: a combination of point forecasts. See :mod:`forecast.forecasters.combined`.

    Parameters
    ----------
    forecaster : BaseForecaster
        The first forecaster (typically a recurrent model, or an ensemble of them): the
        data parameters and covariates are its own.
    partner : BaseForecaster
        The second (typically :class:`~forecast.ThetaForecaster`). Its data parameters
        (``horizon``, ``target``, ``id_col``, ``time_col``, ``freq``, ``missing``) must equal
        the first's where it has them, and it reads no covariates but the first's.
    partner_weight : float, default 0.5
        Its weight, in ``(0, 1)``.

    Attributes
    ----------
    members_ : list
        The two fitted forecasters, ``[forecaster, partner]``.
    freq_, layout_, target_names_, covariate_names_, future_names_, static_names_, \
feature_names_in_, n_features_in_, series_ids_, cutoffs_, training_start_
        As the first forecaster's.
    quantile_levels_ : list of float
        Empty: the combination forecasts points (see Notes).
    horizon, target, id_col, time_col, freq, missing, future_covariates, \
static_covariates, past_covariates
        The first forecaster's parameters, read-only.

    Notes
    -----
    Quantiles and intervals are refused on both members: the mean of a network's quantiles
    and a statistical model's intervals is not calibrated. For intervals of the combination,
    backtest it (:func:`forecast.backtest.backtest`) and read the spread of its errors.

    Examples
    --------
    >>> from forecast import CombinedForecaster, LSTMForecaster, ThetaForecaster
    >>> from forecast.datasets import load_air_passengers
    >>> network = LSTMForecaster(seq_len=24, horizon=12, max_epochs=2, random_state=0,
    ...                          progress_bar=False)
    >>> model = CombinedForecaster(network, ThetaForecaster(season_length=12, horizon=12))
    >>> model.fit(load_air_passengers()).predict().shape
    (12, 1)
    """

    horizon = _first_parameter("horizon")
    target = _first_parameter("target")
    id_col = _first_parameter("id_col")
    time_col = _first_parameter("time_col")
    freq = _first_parameter("freq")
    missing = _first_parameter("missing")
    future_covariates = _first_parameter("future_covariates")
    static_covariates = _first_parameter("static_covariates")
    past_covariates = _first_parameter("past_covariates")
    _reads_past_covariates = False  # its members say it

    members_: list[BaseForecaster]

    def __init__(
        self,
        forecaster: BaseForecaster | None = None,
        partner: BaseForecaster | None = None,
        *,
        partner_weight: float = 0.5,
    ) -> None:
        self.forecaster = forecaster
        self.partner = partner
        self.partner_weight = partner_weight

    # ------------------------------------------------------------------ hooks: parameters

    def _pair(self) -> tuple[BaseForecaster, BaseForecaster]:
        name = type(self).__name__
        for role in ("forecaster", "partner"):
            value = getattr(self, role)
            if not isinstance(value, BaseForecaster):
                raise TypeError(
                    f"The {role!r} parameter of {name} must be a forecaster of ours (such as "
                    f"LSTMForecaster or ThetaForecaster). Got {value!r} instead."
                )
        return self.forecaster, self.partner  # type: ignore[return-value]

    def _check_params(self) -> None:
        """Both members' parameters, and what they must share, before any training."""
        first, partner = self._pair()
        name = type(self).__name__
        weight = self.partner_weight
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 < weight < 1:
            raise InvalidParameterError(
                f"The 'partner_weight' parameter of {name} must be a float in (0, 1), e.g. "
                f"0.5 for the plain mean. Got {weight!r} instead."
            )
        first._check_params()
        partner._check_params()
        for key in SHARED_PARAMETERS:  # parameters, or a meta-forecaster's read-only views of them
            mine, theirs = getattr(first, key, None), getattr(partner, key, None)
            if theirs != mine:
                raise InvalidParameterError(
                    f"The forecaster and partner of {name} must share their data parameters: "
                    f"{key} is {mine!r} for {type(first).__name__} and {theirs!r} for "
                    f"{type(partner).__name__}. Set them equal."
                )
        reads = partner._covariates() != (None, None) or (
            partner._reads_past_covariates and partner.past_covariates is not None
        )
        if reads and (
            partner._covariates() != first._covariates()
            or partner.past_covariates != first.past_covariates
        ):
            raise InvalidParameterError(
                f"The partner of {name} ({type(partner).__name__}) reads covariates other "
                f"than the forecaster's ({type(first).__name__}); both read one frame. Give "
                "them the same covariates, or a partner that reads the targets only."
            )
        for member in (first, partner):
            params = member.get_params(deep=True)  # an ensemble's: estimator__quantiles
            for what in ("quantiles", "intervals"):
                if any(
                    value is not None and (key == what or key.endswith(f"__{what}"))
                    for key, value in params.items()
                ):
                    raise InvalidParameterError(
                        f"{name} combines point forecasts, but its {type(member).__name__} "
                        f"has {what}: the mean of two models' quantiles or intervals is not "
                        "calibrated. Set quantiles=None and intervals=None on both."
                    )
            transformed.check_transform(member)

    # ------------------------------------------------------------------ hooks: data

    def _covariates(self) -> tuple[str | list[str] | None, str | list[str] | None]:
        return self._pair()[0]._covariates()

    def _panel_dtype(self) -> np.dtype:
        """The widest of the members' (float64 beside a network's float32): the frame is
        converted once, and each member narrows it to its own (``fit_members``,
        ``_forecast_at``), so each reads what it reads alone. The first member's dtype
        would hand a statistical partner float32, which rounds 1e8 + 3t to steps of 8."""
        return np.result_type(*(member._panel_dtype() for member in self._pair()))

    def _fit_dtype(self) -> np.dtype:
        return np.result_type(*(member._fit_dtype() for member in self._pair()))

    def _quantile_levels(self) -> list[float]:
        return []

    def _select_series(self, panel: Panel) -> Panel:
        """The series both keep: the first's choice (``drop_short``), then the partner's."""
        first, partner = self._pair()
        return partner._select_series(first._select_series(panel))

    # ------------------------------------------------------------------ hooks: fit, forecast

    def _fit(self, panel: Panel, layout: Layout) -> None:
        members = list(self._pair())
        fit_members(members, panel, layout)
        self.members_ = members

    def _combine(self, parts: list[Forecast]) -> Forecast:
        weight = float(self.partner_weight)
        return Forecast((1.0 - weight) * parts[0].point + weight * parts[1].point, None)

    def _forecast(
        self, panel: Panel, series: np.ndarray, ends: np.ndarray, future: np.ndarray | None
    ) -> Forecast:
        return self._combine([m._forecast_at(panel, series, ends, future) for m in self.members_])

    def _forecast_fitted(self, future: np.ndarray | None) -> Forecast:
        return self._combine([m._forecast_end(future) for m in self.members_])

    def _unservable(self, panel: Panel) -> dict[int, tuple[str, str]]:
        return members_unservable(self.members_, panel)

    # ------------------------------------------------------------------ hooks: model files

    def _fitted_arrays(self) -> dict[str, np.ndarray]:
        return {}  # the members' arrays are saved with them (_fitted_members)

    def _fitted_members(self) -> list[BaseForecaster]:
        return list(self.members_)

    def _restore_fitted(
        self,
        arrays: dict[str, np.ndarray],
        metadata: dict[str, Any] | None = None,
        members: Sequence[BaseForecaster] = (),
    ) -> None:
        if len(members) != 2:
            raise ValueError(f"{len(members)} members, not 2")
        self.members_ = list(members)
