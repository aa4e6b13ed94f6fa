"""Documented settings for one global model over a panel of many short series.

The estimators' own defaults suit one long series (epochs over its windows, a validation
tail, per-series scaling). A panel of thousands of short series (the M3 and M4
competitions, retail sales) is better served by a fixed budget of optimiser steps, no
validation tail (it would cost every series its most recent points), per-window level
scaling and an input length tied to the season. :func:`panel_params` is that rule, and it
is exactly what ``benchmarks/run.py`` fits on M3: no per-dataset tuning beyond it.
:func:`panel_forecaster` is the model we recommend for such a panel: one network with
those settings, combined with two statistical models fitted on each series alone.
:func:`panel_ensemble_params` is the opt-in accuracy mode on top of it: an ensemble whose
members differ in how they see the series (raw and de-seasonalised, or scaled by level and
by step) and in their loss (absolute or percentage errors), median-combined.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from forecast.forecasters.base import BaseForecaster
    from forecast.forecasters.combined import CombinedForecaster

__all__ = [
    "PANEL_PARTNER",
    "PANEL_PARTNER_NO_SEASON",
    "PARTNERS",
    "panel_ensemble_params",
    "panel_forecaster",
    "panel_params",
    "panel_partner",
    "statistical_partner",
]

#: The statistical partners :func:`statistical_partner` builds, by name.
PARTNERS = (
    "theta",
    "optimised-theta",
    "damped-trend",
    "ets",
    "theta+damped-trend",
    "theta+damped-trend+ets",
    "optimised-theta+damped-trend+ets",
)
#: The partner of :func:`panel_forecaster` (and of the command line's ``--preset panel``)
#: for seasonal data, ``season_length >= 2`` (:func:`panel_partner`).
PANEL_PARTNER = "theta+damped-trend+ets"
#: ... and without a season: the optimised Theta method in place of the classical one.
PANEL_PARTNER_NO_SEASON = "optimised-theta+damped-trend+ets"
MAX_STEPS = 3000  # optimiser steps of batch 256: ~770k windows, about a minute on 2 cores
MAX_EPOCHS = 20  # ... or this many passes over the windows, whichever comes first
LEARNING_RATE = 1e-2  # Adam; high, and the weight average below takes out its noise
SWA_START = 0.67  # average every step's weights over the last third of the budget


def panel_params(
    season_length: int, horizon: int, lengths: Sequence[int] | np.ndarray | None = None
) -> dict[str, Any]:
    """Estimator parameters for a global recurrent model over many short series.

    The rule:

    * ``seq_len = max(2 * season_length, horizon)`` for seasonal data: two seasons of input
      (24 months, 8 quarters), never less than the horizon; ``2 * horizon`` without a
      season. (Three seasons, 36 months, gave sMAPE 14.14 on M3 monthly against 13.78
      for two: ``benchmarks/RESULTS.md``.) Given the series' ``lengths``, no longer than
      the shortest series (so that every series can be forecast) and than the first
      quartile of the lengths less the horizon (so that three series in four have a
      training window), but never under the horizon unless the shortest series is: on M1
      yearly, where half the series have 15 values or fewer, the rule alone (12) left 100
      of 181 series out of training and 11 without a forecast.
    * ``scaler="window_level"``: each input window centred on its mean and divided by its
      level, so that the loss weighs relative errors as sMAPE and MASE do, and series never
      seen at fit can be forecast;
    * ``loss="mae"`` for seasonal data and ``loss="mape"`` without a season, Adam at
      ``learning_rate=1e-2``, ``batch_size=256``. Without a season (yearly data) the
      network trained on absolute errors over-forecasts after a series' level falls: it
      forecasts part of the way back, as windows in training mostly did. Trained on
      percentage errors, which penalise an over-forecast more than an under-forecast, it
      does so less: on M3 yearly, with the statistical partners of
      :func:`panel_forecaster` (seeds 0-4), MAPE 19.59 against 20.93 (Theta 20.71), MASE
      2.640 against 2.671, sMAPE 15.71 against 15.46 (AutoETS 16.19); on M3 "other" all
      three better; on M1 yearly and the Tourism competition's yearly series MAPE better,
      sMAPE worse by 0.38 and 0.12 (``benchmarks/RESULTS.md``, issue 22). Series that
      touch or cross 0 are better served by ``loss="mae"`` (a warning says so at fit);
    * ``swa_start=0.67``: the network kept is the average of the weights after every step
      of the last third of the budget (stochastic weight averaging). At a constant, high
      learning rate the last steps wander around a minimum; their average sits nearer its
      centre. On M3 (LSTM, seeds 0-2) lr 1e-2 with the average gave monthly sMAPE 13.67
      (13.65-13.69) against 13.84 (13.78-13.93) for the earlier lr 3e-3 without it, and
      quarterly 9.00 (9.23), yearly 15.95 (16.67), other 4.45 (4.52); either change alone
      bought less (``benchmarks/ablation.py``; ``benchmarks/RESULTS.md``);
    * ``validation_size=0`` and a budget of ``MAX_STEPS`` optimiser steps
      (``trainer_kwargs={"max_steps": ...}``) or ``MAX_EPOCHS`` passes over the windows,
      whichever comes first, instead of early stopping (the epoch cap stops a panel with few
      windows, such as M3 yearly, from being fitted hundreds of times over);
    * ``drop_short=True``: series shorter than ``seq_len + horizon`` are left out of
      training (with a warning) but can still be forecast with ``predict(df)`` when they
      have ``seq_len`` points (``partial_horizons=True`` trains on series of
      ``seq_len + 1``; not a preset: see ``benchmarks/RESULTS.md``, issue 22, update 5).

    Parameters
    ----------
    season_length : int
        Steps per season (12 monthly, 4 quarterly, 1 when there is none).
    horizon : int
        Steps to forecast.
    lengths : sequence of int, optional
        The length of each series' history (the rows ``fit`` will see), e.g.
        ``df.groupby(id_col).size()``; caps ``seq_len`` for panels of very short series.

    Returns
    -------
    dict
        Keyword arguments for ``RNNForecaster``, ``LSTMForecaster`` or ``GRUForecaster``
        (add ``id_col``, ``time_col``, ``target``...).

    Examples
    --------
    >>> params = panel_params(season_length=12, horizon=18)
    >>> params["seq_len"], params["scaler"], params["trainer_kwargs"]
    (24, 'window_level', {'max_steps': 3000})
    """
    season_length, horizon = int(season_length), int(horizon)
    seq_len = max(2 * season_length, horizon) if season_length > 1 else 2 * horizon
    if lengths is not None and len(lengths):
        sizes = np.asarray(lengths, dtype=np.int64)
        quartile = int(np.percentile(sizes, 25)) - horizon
        seq_len = max(1, min(seq_len, max(quartile, horizon), int(sizes.min())))
    return {
        "seq_len": seq_len,
        "horizon": horizon,
        "scaler": "window_level",
        "loss": "mae" if season_length > 1 else "mape",
        "learning_rate": LEARNING_RATE,
        "swa_start": SWA_START,
        "batch_size": 256,
        "validation_size": 0,
        "max_epochs": MAX_EPOCHS,
        "drop_short": True,
        "trainer_kwargs": {"max_steps": MAX_STEPS},
    }


def panel_forecaster(
    season_length: int,
    horizon: int,
    lengths: Sequence[int] | np.ndarray | None = None,
    *,
    cell: str = "lstm",
    **kwargs: Any,
) -> CombinedForecaster:
    """The model we recommend for a panel of many short series: a network and three local models.

    ``CombinedForecaster(network, partner, partner_weight=0.5)``, the partner
    ``CombinedForecaster(CombinedForecaster(theta, damped), ets, partner_weight=1/3)``
    (:func:`statistical_partner` with :func:`panel_partner`'s):

    * ``network``: ``RNNForecaster(cell=cell, season_length=season_length,
      **panel_params(season_length, horizon, lengths), **kwargs)``, one global recurrent
      model fitted on every series;
    * ``theta``: :class:`~forecast.ThetaForecaster` (M3's winner; without a season,
      ``season_length=1``, :class:`~forecast.OptimisedThetaForecaster`), ``damped``:
      :class:`~forecast.DampedTrendForecaster` and ``ets``: :class:`~forecast.ETSForecaster`
      (exponential smoothing, its trend and error chosen by AICc), each fitted on each
      series alone, all on the seasonally adjusted series;
    * the forecast is half the network's plus a sixth of each statistical model's: the
      network weighs as much as the three together.

    Why: a global network and a local model err differently, so their mean beats either
    (the lesson of the M3 and M4 competitions); Theta is the stronger partner on seasonal
    data, the damped trend on trended data without a season, and ETS, which chooses per
    series between no trend, Holt's and a damped one and between an additive and a
    multiplicative error, errs differently from both; the mean of the three is steadier
    than any. Without a season the classical Theta's fixed ``theta = 2`` halves every
    trend, and the optimised Theta, which fits it, takes its place. On M3 and M1
    (``benchmarks/RESULTS.md``, issue 22; median over seeds 0-4), this model's sMAPE and
    MASE are below statsforecast's Theta's and AutoETS's on all seven data sets (M3
    "other" MASE 1.787 against AutoETS's 1.801) and its MAPE below Theta's on all seven
    (M3 yearly's since the network trains on percentage errors without a season,
    :func:`panel_params`); M3 monthly sMAPE 13.21 against 13.71 for the network alone, at
    the same fit time (the statistical models take seconds). ETS joined Theta and the
    damped trend in update 6 of that issue: sMAPE as good or better on all seven (M3
    "other" 4.14 against 4.24, M1 monthly 14.43 against 14.62, M3 monthly 13.21 against
    13.22), MASE on five; the optimised Theta without a season in update 8: sMAPE and MASE
    better on all four data sets without a season of M3, M1 and Tourism (M3 "other" 4.07
    / 1.787 against 4.14 / 1.828, M1 yearly 17.14 against 17.34). The weights are plain
    means, the same on every data set.

    Parameters
    ----------
    season_length : int
        Steps per season (12 monthly, 4 quarterly, 1 when there is none); every member's.
    horizon : int
        Steps to forecast; every member's.
    lengths : sequence of int, optional
        Each series' history length, as for :func:`panel_params`.
    cell : {"lstm", "gru", "rnn"}, default "lstm"
        The network's recurrent cell.
    **kwargs
        More parameters of the network: ``id_col``, ``time_col``, ``target``, ``freq``,
        ``random_state``, ``progress_bar``, or one of :func:`panel_params`' to override
        (``seq_len``, ``trainer_kwargs``...; not ``horizon``). The data parameters
        (``target``, ``id_col``, ``time_col``, ``freq``, ``missing``) go to the statistical
        models too; the others (``target_transform``, ``scaler``...) to the network only.

    Returns
    -------
    CombinedForecaster
        Unfitted; ``fit``, ``predict``, ``backtest``, ``save`` and the command line's
        ``predict --model`` take it as they take one model. It forecasts points:
        ``quantiles`` or ``intervals`` are refused when it is fitted (see
        :class:`~forecast.CombinedForecaster`).

    Examples
    --------
    >>> model = panel_forecaster(12, 18, id_col="unique_id", time_col="ds", target="y")
    >>> type(model.forecaster).__name__, model.forecaster.seq_len
    ('RNNForecaster', 24)
    >>> local = model.partner.forecaster.forecaster, model.partner.forecaster.partner
    >>> [type(m).__name__ for m in (*local, model.partner.partner)]
    ['ThetaForecaster', 'DampedTrendForecaster', 'ETSForecaster']
    >>> type(panel_forecaster(1, 6).partner.forecaster.forecaster).__name__
    'OptimisedThetaForecaster'
    """
    from forecast.forecasters.combined import CombinedForecaster
    from forecast.forecasters.recurrent import RNNForecaster

    params = panel_params(season_length, horizon, lengths) | {"cell": cell}
    params |= {"season_length": season_length} | kwargs  # a season for "deseasonalize" too
    network = RNNForecaster(**params)
    partner = statistical_partner(network, panel_partner(season_length), season_length)
    return CombinedForecaster(network, partner, partner_weight=0.5)


def panel_partner(season_length: int) -> str:
    """The statistical partner of :func:`panel_forecaster` for data with this season.

    :data:`PANEL_PARTNER` (Theta, the damped trend and ETS) for seasonal data;
    :data:`PANEL_PARTNER_NO_SEASON` without a season (``season_length`` 1), where the
    optimised Theta method (:class:`~forecast.OptimisedThetaForecaster`) takes the classical
    one's place: the classical method's fixed ``theta = 2`` halves every trend, which
    costs most where there is no season and the trend carries the forecast.

    Examples
    --------
    >>> panel_partner(12), panel_partner(1)
    ('theta+damped-trend+ets', 'optimised-theta+damped-trend+ets')
    """
    return PANEL_PARTNER if season_length >= 2 else PANEL_PARTNER_NO_SEASON


def statistical_partner(
    forecaster: BaseForecaster, kind: str, season_length: int | None = None
) -> BaseForecaster:
    """A statistical model to combine ``forecaster`` with, on the same data.

    Parameters
    ----------
    forecaster : BaseForecaster
        The model it will be combined with (a network, an ensemble): the partner takes its
        data parameters (``horizon``, ``target``, ``id_col``, ``time_col``, ``freq``,
        ``missing``).
    kind : str
        One of :data:`PARTNERS`: ``"theta"`` (:class:`~forecast.ThetaForecaster`),
        ``"optimised-theta"`` (:class:`~forecast.OptimisedThetaForecaster`),
        ``"damped-trend"`` (:class:`~forecast.DampedTrendForecaster`), ``"ets"``
        (:class:`~forecast.ETSForecaster`), or the mean of those ``+`` joins (nested
        :class:`~forecast.CombinedForecaster` s, each model weighing the same):
        ``"theta+damped-trend"``, ``"theta+damped-trend+ets"``,
        ``"optimised-theta+damped-trend+ets"``; :func:`panel_forecaster` uses
        :func:`panel_partner`'s.
    season_length : int, optional
        Steps per season (1: none); by default ``forecaster.season_length``.

    Returns
    -------
    BaseForecaster
        Unfitted; ``CombinedForecaster(forecaster, partner)`` combines them.

    Raises
    ------
    InvalidParameterError
        If ``kind`` is not one of :data:`PARTNERS`, or no season length is given or known.

    Examples
    --------
    >>> from forecast import LSTMForecaster
    >>> network = LSTMForecaster(seq_len=24, horizon=12, season_length=12)
    >>> statistical_partner(network, "theta")
    ThetaForecaster(horizon=12, season_length=12)
    """
    from forecast._exceptions import InvalidParameterError
    from forecast.forecasters.combined import SHARED_PARAMETERS, CombinedForecaster
    from forecast.forecasters.damped import DampedTrendForecaster
    from forecast.forecasters.ets import ETSForecaster
    from forecast.forecasters.optimised_theta import OptimisedThetaForecaster
    from forecast.forecasters.theta import ThetaForecaster

    if kind not in PARTNERS:
        raise InvalidParameterError(
            f"Unknown statistical partner {kind!r}; choose one of {', '.join(PARTNERS)}."
        )
    if season_length is None:
        season_length = getattr(forecaster, "season_length", None)
    if season_length is None:
        raise InvalidParameterError(
            f"A statistical partner is fitted per series and needs the season: "
            f"{type(forecaster).__name__} has no season_length. Give season_length (12 for "
            "monthly data, 4 quarterly, 1 for none)."
        )
    # The data parameters are the forecaster's (the combination checks that they agree).
    local = {key: getattr(forecaster, key) for key in SHARED_PARAMETERS}
    local["season_length"] = season_length
    models: dict[str, type[BaseForecaster]] = {
        "theta": ThetaForecaster,
        "optimised-theta": OptimisedThetaForecaster,
        "damped-trend": DampedTrendForecaster,
        "ets": ETSForecaster,
    }
    members = [models[name](**local) for name in kind.split("+")]
    partner = members[0]
    for count, member in enumerate(members[1:], start=2):  # the k-th weighs 1/k: all equal
        partner = CombinedForecaster(partner, member, partner_weight=1.0 / count)
    return partner


def panel_ensemble_params(
    season_length: int,
    horizon: int,
    n_members: int = 4,
    *,
    losses: Sequence[str] | None = ("mae", "mape"),
) -> dict[str, Any]:
    """Parameters of :class:`~forecast.EnsembleForecaster` for the opt-in accuracy mode.

    The members cycle through four views of the series, two ways of seeing them times two
    losses, and their forecasts are median-combined (with an even number of members, the
    mean of the middle two):

    * seasonal data (``season_length >= 2``): the series as they are, and the series
      divided by their multiplicative seasonal indices
      (``target_transform="deseasonalize"``, fitted per series on the training part, put
      back on the forecasts; additive components for a series with a value ``<= 0``),
      the idea of the ES-RNN hybrid (Smyl 2020) in its simplest form;
    * without a season: each input window divided by its level (``scaler="window_level"``,
      errors weighed as sMAPE weighs them) and by its mean step (``"window_diff"``, as
      MASE weighs them);
    * each of the two trained with ``loss="mae"`` and with ``loss="mape"``, as N-BEATS'
      ensemble mixes losses: a MAPE-trained network forecasts lower, so the two losses err
      on opposite sides.

    On M3 monthly (LSTM, seed 0 each), the raw and de-seasonalised views alone gave sMAPE
    13.71 and 13.66, their four-member median (two seeds each) 13.33, and the four views
    13.30 with MAPE 15.76 against 16.72. ``benchmarks/RESULTS.md`` (issue 22) has the
    ablation and the tables.

    Parameters
    ----------
    season_length : int
        Steps per season (1 when there is none), as for :func:`panel_params`.
    horizon : int
        Steps to forecast (kept for symmetry with :func:`panel_params`; unused).
    n_members : int, default 4
        Fits; each costs one :func:`panel_params` fit. Member ``i`` takes view ``i % 4``
        (``i % 2`` with ``losses=None``).
    losses : sequence of str or None, default ("mae", "mape")
        The losses each way of seeing the series is trained with, in that order. None: the
        base estimator's own, two views in all; what a base with ``quantiles`` needs (its
        loss is the pinball loss).

    Returns
    -------
    dict
        Keyword arguments for ``EnsembleForecaster`` besides its base estimator, which is
        a recurrent forecaster with :func:`panel_params`.

    Raises
    ------
    InvalidParameterError
        If ``losses`` is a string or empty (a loss the estimator does not know is refused
        when the ensemble is fitted, before its first member).

    Examples
    --------
    >>> from forecast import EnsembleForecaster, LSTMForecaster
    >>> base = LSTMForecaster(**panel_params(12, 18), random_state=0)
    >>> model = EnsembleForecaster(base, **panel_ensemble_params(12, 18))
    >>> for view in model.member_params:
    ...     print(view)
    {'loss': 'mae'}
    {'target_transform': 'deseasonalize', 'season_length': 12, 'loss': 'mae'}
    {'loss': 'mape'}
    {'target_transform': 'deseasonalize', 'season_length': 12, 'loss': 'mape'}
    """
    from forecast._exceptions import InvalidParameterError

    del horizon  # the members differ by view, not by horizon
    if losses is not None and (isinstance(losses, str) or not len(losses)):
        raise InvalidParameterError(
            f"losses must be a non-empty sequence of loss names, or None. Got {losses!r}; "
            "e.g. losses=('mae', 'mape'), or losses=None to keep the base estimator's."
        )
    season_length = int(season_length)
    if season_length >= 2:
        seen: list[dict[str, Any]] = [
            {},
            {"target_transform": "deseasonalize", "season_length": season_length},
        ]
    else:
        seen = [{}, {"scaler": "window_diff"}]
    # Each loss named, whatever the base estimator's (panel_params' depends on the season).
    views = seen if losses is None else [view | {"loss": loss} for loss in losses for view in seen]
    return {"n_members": int(n_members), "member_params": views, "aggregate": "median"}
