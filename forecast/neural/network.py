"""The network: a recurrent encoder and a last-time-step head that emits the whole horizon.

Plain ``torch.nn``, no Lightning and no pandas: drop it into any training loop.

Symbols: N batch, L input length, F input features, H_hid hidden size, H horizon, T targets,
Q quantile levels, C future covariates per step, Z static covariates per series.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional

__all__ = [
    "CELLS",
    "RecurrentConfig",
    "RecurrentRegressor",
    "monotone_quantiles",
    "non_finite_weights",
]

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


@dataclass(frozen=True)
class RecurrentConfig:
    """Everything that defines the network's shape; round-trips through JSON (``asdict``)."""

    cell: str = "lstm"  # "rnn" (tanh Elman), "lstm" or "gru"
    input_size: int = 1  # F: targets + past covariates per step
    hidden_size: int = 64
    num_layers: int = 1
    dropout: float = 0.0  # between recurrent layers, and before the head
    horizon: int = 1  # H steps emitted at once (direct multi-horizon)
    n_targets: int = 1  # T
    n_future: int = 0  # C known-future covariates per horizon step, fed to the head
    n_static: int = 0  # Z static covariates per series, fed to the head
    n_quantiles: int = 0  # Q: 0 emits a point forecast (N, H, T); else (N, H, T, Q) quantiles

    def to_dict(self) -> dict[str, Any]:
        """The configuration as JSON-ready data (a model file keeps it)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RecurrentConfig:
        """The configuration :meth:`to_dict` gave; keys that are not fields are ignored."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def non_finite_weights(module: nn.Module) -> list[str]:
    """Names of ``module``'s floating-point weights and buffers holding NaN or infinity."""
    return [
        name
        for name, tensor in module.state_dict().items()
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all())
    ]


def monotone_quantiles(raw: torch.Tensor) -> torch.Tensor:
    """Non-decreasing quantiles from unconstrained outputs: a base plus positive increments.

    ``out[..., 0] = raw[..., 0]`` and ``out[..., j] = out[..., 0] + sum(softplus(raw[...,
    1:j + 1]))``. Softplus is never negative and floating-point addition of non-negative
    numbers never decreases a sum, so ``out`` is non-decreasing along the last axis for every
    input, in training as at predict time (not only after training).

    Parameters
    ----------
    raw : torch.Tensor of shape (..., Q)

    Returns
    -------
    torch.Tensor of shape (..., Q)

    Examples
    --------
    >>> import torch
    >>> out = monotone_quantiles(torch.tensor([[1.0, -50.0, 3.0]]))
    >>> bool((out.diff(dim=-1) >= 0).all())
    True
    """
    base = raw[..., :1]
    return torch.cat([base, base + functional.softplus(raw[..., 1:]).cumsum(dim=-1)], dim=-1)


class RecurrentRegressor(nn.Module):
    """RNN, LSTM or GRU encoder; the top layer's last output goes through a linear head.

    With ``config.n_quantiles = Q > 0`` the head emits Q values per step and target, made
    non-decreasing by :func:`~forecast.neural.network.monotone_quantiles` (quantiles never
    cross). That is chosen over sorting the outputs: sorting also gives ordered values, but
    lets the outputs swap roles during training (an output's gradient then flows to
    whichever level it sorted into) and hides crossing instead of preventing it; the
    cumulative construction is smooth, ties each output to one level, and gives every
    forecast a valid quantile function by construction.

    Parameters
    ----------
    config : RecurrentConfig

    Examples
    --------
    >>> import torch
    >>> net = RecurrentRegressor(RecurrentConfig(cell="gru", input_size=3, horizon=5))
    >>> net(torch.zeros(8, 24, 3)).shape
    torch.Size([8, 5, 1])
    >>> quantile_net = RecurrentRegressor(RecurrentConfig(input_size=3, horizon=5, n_quantiles=3))
    >>> quantile_net(torch.zeros(8, 24, 3)).shape
    torch.Size([8, 5, 1, 3])
    """

    def __init__(self, config: RecurrentConfig) -> None:
        super().__init__()
        if config.cell not in CELLS:
            raise ValueError(f"Unknown cell {config.cell!r}; expected one of {sorted(CELLS)}.")
        self.config = config
        self.encoder = CELLS[config.cell](
            input_size=config.input_size,
            hidden_size=config.hidden_size,
            num_layers=config.num_layers,
            # torch applies this between layers only; with one layer it would only warn.
            dropout=config.dropout if config.num_layers > 1 else 0.0,
            batch_first=True,
        )
        self.dropout = nn.Dropout(config.dropout)
        head_in = config.hidden_size + config.horizon * config.n_future + config.n_static
        n_out = config.horizon * config.n_targets * max(config.n_quantiles, 1)
        self.head = nn.Linear(head_in, n_out)

    def forward(
        self,
        x: torch.Tensor,
        future: torch.Tensor | None = None,
        static: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Forecast ``horizon`` steps of every target.

        Parameters
        ----------
        x : torch.Tensor of shape (N, L, F)
        future : torch.Tensor of shape (N, H, C), optional
            Known-future covariates over the horizon (required iff ``n_future > 0``).
        static : torch.Tensor of shape (N, Z), optional
            Static covariates (required iff ``n_static > 0``).

        Returns
        -------
        torch.Tensor of shape (N, H, T), or (N, H, T, Q) non-decreasing along Q
        """
        out, _ = self.encoder(x)  # (N, L, H_hid)
        features = [self.dropout(out[:, -1, :])]  # (N, H_hid): the last time step
        if self.config.n_future:
            if future is None:
                raise ValueError(f"This network reads {self.config.n_future} future covariates.")
            features.append(future.flatten(1))  # (N, H * C)
        if self.config.n_static:
            if static is None:
                raise ValueError(f"This network reads {self.config.n_static} static covariates.")
            features.append(static)  # (N, Z)
        z = torch.cat(features, dim=1) if len(features) > 1 else features[0]
        y = self.head(z)  # (N, H * T * max(Q, 1))
        horizon, n_targets, n_quantiles = (
            self.config.horizon,
            self.config.n_targets,
            self.config.n_quantiles,
        )
        if not n_quantiles:
            return y.view(-1, horizon, n_targets)  # (N, H, T)
        return monotone_quantiles(y.view(-1, horizon, n_targets, n_quantiles))  # (N, H, T, Q)
