"""A recurrent forecaster's saved network, checked against its parameters before it is built.

A model file's checksum can be recomputed by anyone, so it is no signature: whatever the
file says is checked here. The network configuration must be the one the parameters
(checked as ``fit`` checks them) and the fitted attributes give, and every array the shape
that configuration gives; the weights' shapes are computed
(:func:`forecast.neural.inference.weight_shapes`, checked against torch's in the tests),
so a crafted ``hidden_size=10**9`` is refused before any memory is asked for, and loading
imports no torch.

Symbols: S series, L input length (``seq_len``), F features, Z static covariates.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from forecast._exceptions import ModelFileError
from forecast.neural.inference import NumpyNetwork, RecurrentConfig, weight_shapes
from forecast.neural.quantiles import network_levels

__all__ = ["check_saved_config", "check_saved_shapes", "network_config", "restored_network"]


def network_config(
    model: Any, input_size: int, n_targets: int, n_future: int, n_static: int
) -> RecurrentConfig:
    """The network shape a recurrent forecaster's parameters give for inputs of these sizes."""
    return RecurrentConfig(
        cell=model.cell,
        input_size=input_size,
        hidden_size=model.hidden_size,
        num_layers=model.num_layers,
        dropout=model.dropout,
        horizon=model.horizon,
        n_targets=n_targets,
        n_future=n_future,
        n_static=n_static,
        n_quantiles=len(network_levels(model.quantiles)),
    )


def check_saved_config(saved: Any, expected: RecurrentConfig, owner: str) -> None:
    """Refuse a saved network description that is not ``expected``, naming each field."""
    if not isinstance(saved, dict):
        raise ModelFileError(f"its network description is not a JSON object: {saved!r}")
    config = RecurrentConfig.from_dict(saved)
    differ = [
        f"{name}={getattr(config, name)!r} (the parameters give {getattr(expected, name)!r})"
        for name in expected.to_dict()
        if getattr(config, name) != getattr(expected, name)
        or type(getattr(config, name)) is bool  # no field is a bool; True == 1 nonetheless
    ]
    if differ:
        raise ModelFileError(
            f"its {owner} network does not match its parameters: {', '.join(differ)}"
        )


def check_saved_shapes(
    config: RecurrentConfig,
    weights: dict[str, np.ndarray],
    arrays: dict[str, Any],
    seq_len: int,
    n_series: int,
    owner: str,
) -> None:
    """Refuse saved weights ``(state_dict key -> array)``, scaler statistics ``(S, F)``, last
    windows ``(S, L, F)`` and static covariates ``(S, Z)`` of other shapes than ``config``
    gives."""
    expected = {f"network.{k}": shape for k, shape in weight_shapes(config).items()}
    n_features = config.input_size
    expected["scaler.loc"] = expected["scaler.scale"] = (n_series, n_features)
    expected["last_window"] = (n_series, seq_len, n_features)
    if config.n_static:
        expected["static"] = (n_series, config.n_static)
        expected["static_scaler.loc"] = expected["static_scaler.scale"] = (config.n_static,)
    found = {f"network.{k}": v for k, v in weights.items()}
    found.update({k: arrays[k] for k in expected if k in arrays and k not in found})
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    wrong = [
        f"{k} {tuple(np.shape(v))} (expected {expected[k]})"
        for k, v in found.items()
        if k in expected and tuple(np.shape(v)) != expected[k]
    ]
    problems = [
        *([f"missing {missing}"] if missing else []),
        *([f"unexpected network weights {extra}"] if extra else []),
        *([f"shapes {', '.join(wrong)}"] if wrong else []),
        *(
            [f"non-float arrays {not_float}"]
            if (not_float := sorted(k for k, v in found.items() if np.asarray(v).dtype.kind != "f"))
            else []
        ),
    ]
    if problems:
        raise ModelFileError(
            f"its {owner} state does not match its configuration (seq_len={seq_len}, "
            f"{n_series} series, {n_features} features): {'; '.join(problems)}"
        )


def restored_network(model: Any, arrays: dict[str, Any], metadata: Any) -> NumpyNetwork:
    """The network of a recurrent forecaster's model file, checked against its parameters
    and fitted attributes (restored before it): the weights predict runs, float32."""
    owner = type(model).__name__
    if not isinstance(metadata, dict) or "network" not in metadata:
        raise ModelFileError(
            f"The saved {owner} state has no network description; the file was not written "
            "by forecast, or is damaged."
        )
    config = network_config(  # what the parameters, checked as fit checks them, give
        model,
        model.n_features_in_ + len(metadata.get("missing_columns", [])),
        len(model.target_names_),
        len(model.future_names_),
        len(model.static_names_),
    )
    check_saved_config(metadata["network"], config, owner)
    prefix = "network."
    weights = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
    check_saved_shapes(config, weights, arrays, model.seq_len, len(model.series_ids_), owner)
    # torch's load_state_dict would cast into its float32 parameters: so does this.
    return NumpyNetwork(config, {k: np.asarray(v, dtype=np.float32) for k, v in weights.items()})
