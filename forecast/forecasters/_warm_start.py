"""Warm starts of a recurrent forecaster: start from its fitted weights and scalers.

``RNNForecaster(warm_start=True)`` (scikit-learn's convention: the parameter is stored as
given, ``get_params``/``clone`` carry it, default False): a ``fit`` on a forecaster that is
already fitted starts from its network weights and its per-series scaling statistics, and
trains for the budget of this fit (``max_epochs``, or ``max_steps`` in ``trainer_kwargs``).
The first fit of a ``warm_start=True`` forecaster, like any fit with ``warm_start=False``,
starts cold. ``forecast fit --init-from OLD.safetensors`` is the same from the command line.

**Shrink and perturb** (``warm_start_shrink``, default 0.45; Ash & Adams, "On
warm-starting neural network training", NeurIPS 2020): the warm fit starts from
``warm_start_shrink * fitted + (1 - warm_start_shrink) * fresh``, where ``fresh`` is the
initialisation a cold fit with this ``random_state`` starts from (:func:`start_from`);
``1.0`` continues the fitted weights exactly. Why not continue exactly: the fitted model
has had the training its budget was chosen for, and more steps on (mostly) the same
windows overfit them. On M3 monthly (``benchmarks/warm_start.py``, seed 0), a quarter
budget that continued exactly brought the error on the training windows below a cold
full fit's (MAE 0.1146 against 0.1170) and forecast worse (sMAPE 13.80 against 13.71),
as a cold fit of 3,750 steps did (0.1145, 13.76); the same 750 steps on the old data
alone gave 13.87, worse than the old model not refitted (13.76). Blended at 0.45, a
quarter budget forecasts within 0.1 sMAPE of a cold full fit (``benchmarks/RESULTS.md``,
seeds 0-4). The blend needs a budget to train it back (250 steps, a twelfth, were not
enough there): a warm fit of a few steps should set ``warm_start_shrink=1.0``.

What is kept, and what is refused:

* the network: its weights (shrunk as above); the optimiser (Adam's moments) and
  learning-rate schedule start afresh, as a new run of the same training would;
* the scalers: series seen at fit keep their fitted statistics (their inputs are read as
  the network learnt to read them); **series not seen at fit** get statistics fitted on
  their own training part, as a cold fit would give them (per-window scalers have none to
  keep); series of the old fit absent from the new data are not in the new model;
* refused, naming each difference, before any training: anything that changes the
  network's shape or what its inputs mean: ``cell``, ``hidden_size``, ``num_layers``,
  ``horizon``, the targets, past, known-future and static covariates (names and order),
  the quantile levels, ``seq_len``, ``scaler``, the frequency, and
  ``intervals="conformal"`` (its calibration fit must not start from a model that saw the
  calibration tail). ``dropout``, ``learning_rate``, the budget and the other training
  settings may change.

As after any fit that raises, a refused warm start leaves the forecaster unfitted (save it
first, or fit a clone, to keep it).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from forecast._exceptions import InvalidParameterError
from forecast._validation import check_bool, check_float
from forecast.data.panel import Panel, series_positions
from forecast.data.scaling import SeriesScaler, StaticScaler
from forecast.forecasters._saved_network import network_config
from forecast.forecasters._transformed import transform_of
from forecast.neural.inference import RecurrentConfig

if TYPE_CHECKING:  # a fit imports torch; the predict path imports this module, not torch
    import torch

__all__ = ["WarmState", "check_warm_start", "check_warm_start_params", "start_from", "warm_state"]

# Fields of the network configuration a warm start may change (they do not shape weights).
_MAY_CHANGE = {"dropout"}


@dataclass(frozen=True)
class WarmState:
    """What a warm fit starts from: the fitted weights and the scalers for the new panel."""

    weights: dict[str, torch.Tensor]
    scaler: SeriesScaler
    static_scaler: StaticScaler | None


def _differences(model: Any, panel: Panel) -> list[str]:
    """Each difference between the fitted model and this fit, as 'name: fitted -> now'."""
    fitted: RecurrentConfig = model.network_.config
    now = network_config(
        model,
        panel.values.shape[1],
        len(panel.target_names),
        len(panel.future_names),
        len(panel.static_names),
    )
    found = [
        f"{f.name}: {getattr(fitted, f.name)!r} -> {getattr(now, f.name)!r}"
        for f in fields(RecurrentConfig)
        if f.name not in _MAY_CHANGE and getattr(fitted, f.name) != getattr(now, f.name)
    ]
    pairs = [
        ("seq_len", model.last_window_.shape[1], model.seq_len),
        ("scaler", model.scaler_.method, model.scaler),
        ("targets", list(model.target_names_), list(panel.target_names)),
        ("past covariates", list(model.covariate_names_), list(panel.covariate_names)),
        ("future covariates", list(model.future_names_), list(panel.future_names)),
        ("static covariates", list(model.static_names_), list(panel.static_names)),
        ("freq", model.freq_.freqstr, panel.freq.freqstr),
    ]
    if found == [] and fitted.n_quantiles:
        pairs.append(("quantiles", list(model.quantile_levels_), model._quantile_levels()))
    found += [f"{name}: {a!r} -> {b!r}" for name, a, b in pairs if a != b]
    # The scalers' statistics and the weights are in the transformed units.
    transform = model.__dict__.get("fitted_transform_"), transform_of(model)
    if transform[0] is not None and transform[0] != transform[1]:  # None: not recorded
        found.append(f"target_transform: {transform[0]} -> {transform[1]}")
    if model.intervals is not None:
        found.append("intervals='conformal' (a calibration fit must start cold)")
    return found


def warm_state(model: Any, panel: Panel, scaler: SeriesScaler) -> WarmState | None:
    """The state a fit of ``model`` on ``panel`` starts from, or None to start cold.

    ``scaler`` is the one fitted cold on ``panel``'s training parts: the statistics of
    series seen at fit are replaced by their fitted ones.

    Raises
    ------
    InvalidParameterError
        ``warm_start=True`` on a fitted model that this fit does not match, naming each
        difference.
    """
    if not check_warm_start(model, panel):
        return None
    if scaler.is_global:
        positions, _ = series_positions(panel.ids, model.series_ids_)
        seen = positions >= 0
        scaler.loc_[seen] = model.scaler_.loc_[positions[seen]]
        scaler.scale_[seen] = model.scaler_.scale_[positions[seen]]
    weights = {k: v.detach().clone() for k, v in model.network_.state_dict().items()}
    return WarmState(weights, scaler, model.static_scaler_)


def check_warm_start_params(model: Any) -> None:
    """Check ``warm_start`` (a bool) and ``warm_start_shrink`` (a float in (0, 1])."""
    check_bool(model, "warm_start", model.warm_start)
    check_float(
        model, "warm_start_shrink", model.warm_start_shrink, low=0.0, low_open=True, high=1.0
    )


def start_from(net: torch.nn.Module, weights: dict[str, torch.Tensor], shrink: float) -> None:
    """Load a warm start's ``weights`` into ``net``, which holds a fresh initialisation.

    ``net`` gets ``shrink * weights + (1 - shrink) * fresh`` (shrink and perturb, see the
    module's docstring); ``shrink == 1.0`` loads ``weights`` as they are.
    """
    if shrink == 1.0:
        net.load_state_dict(weights)
        return
    fresh = net.state_dict()
    net.load_state_dict(
        {name: shrink * value + (1.0 - shrink) * fresh[name] for name, value in weights.items()}
    )


def check_warm_start(model: Any, panel: Panel) -> bool:
    """Whether a fit of ``model`` on ``panel`` starts warm; refuse one that cannot.

    ``panel`` need only have the columns and frequency of the fit's data (a fit from Parquet
    parts checks a sample of them before any rank reads its own).
    """
    if not model.warm_start or "network_" not in model.__dict__:  # fitted or loaded
        return False
    if model.missing == "mask":  # its observed channels and observed-only scalers would
        raise InvalidParameterError(  # have to be matched and kept: not done yet
            f"The 'warm_start' parameter of {type(model).__name__} cannot be True with "
            "missing='mask' yet (the observed channels and the observed-only scalers are not "
            "carried over). Set warm_start=False to train a new model."
        )
    different = _differences(model, panel)
    if different:
        raise InvalidParameterError(
            f"The 'warm_start' parameter of {type(model).__name__} is True, but this fit "
            f"does not match the fitted model (fitted -> now): {'; '.join(different)}. "
            "Change them back, or set warm_start=False to train a new model."
        )
    return True
