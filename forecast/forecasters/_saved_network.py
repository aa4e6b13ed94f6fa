"""A recurrent forecaster's saved network, checked against its parameters before it is built.

A model file's checksum can be recomputed by anyone, so it is no signature: whatever the
file says is checked here. The network configuration must be the one the parameters
(checked as ``fit`` checks them) and the fitted attributes give, and every array the shape
that configuration gives; the weights' shapes come from a network built on PyTorch's
``meta`` device, which allocates nothing, so a crafted ``hidden_size=10**9`` is refused
before any memory is asked for.

Symbols: S series, L input length (``seq_len``), F features, Z static covariates.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from forecast._exceptions import ModelFileError
from forecast.neural.network import RecurrentConfig, RecurrentRegressor
from forecast.neural.quantiles import network_levels

__all__ = ["check_saved_config", "check_saved_shapes", "network_config"]


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
    with torch.device("meta"), torch.random.fork_rng(devices=[]):
        net = RecurrentRegressor(config)  # shapes only: no memory, no random numbers drawn
    expected = {f"network.{k}": tuple(v.shape) for k, v in net.state_dict().items()}
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
    ]
    if problems:
        raise ModelFileError(
            f"its {owner} state does not match its configuration (seq_len={seq_len}, "
            f"{n_series} series, {n_features} features): {'; '.join(problems)}"
        )
