"""The network's forward pass in NumPy: what ``predict`` runs, without importing torch.

Every forecast of a recurrent forecaster (fitted in this process or loaded from a file) runs
:class:`NumpyNetwork` on the weights torch trained, read as they are stored (torch's
``state_dict`` names and layout). Torch stays for training, warm starts and anything that
needs gradients; :class:`~forecast.neural.network.RecurrentRegressor` is the same network
in torch, and ``tests/test_inference.py`` checks the two agree.

Why hand-written rather than a library: importing torch takes about 1.1 s, more than the
rest of ``forecast predict`` for 2,000 series, and the forward pass of a small recurrent
network is a few matrix products a step. ONNX Runtime would bring an export step and a
second dependency for the same equations. The equations are torch's documented ones
(https://pytorch.org/docs/stable/generated/torch.nn.RNN.html, ``torch.nn.LSTM``,
``torch.nn.GRU``, ``torch.nn.Softplus``), with torch's weight layout:

- RNN (tanh): ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``;
- LSTM, gates stacked in the order i, f, g, o: ``i = sigmoid(.)``, ``f = sigmoid(.)``,
  ``g = tanh(.)``, ``o = sigmoid(.)``, ``c_t = f * c_{t-1} + i * g``, ``h_t = o * tanh(c_t)``;
- GRU, gates stacked in the order r, z, n: ``r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)``,
  ``z`` alike, ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))`` (``r`` multiplies the
  hidden projection *with* its bias), ``h_t = (1 - z) * n + z * h_{t-1}``;

with zero initial states, layer ``k > 0`` reading layer ``k - 1``'s outputs, no dropout
(eval mode), the head ``Linear`` on the top layer's last output (plus the flattened
known-future and the static covariates), and :func:`monotone_quantiles` for quantile heads.

For speed, the input projections of all steps are computed at once, and the sigmoid as
``(1 + tanh(a / 2)) / 2``, the same function: the sigmoid gates' weights are halved (exact
in floating point, subnormal weights aside) so that one tanh covers all of a step's gates.
A step is then one matrix product and a few passes over the gates (the LSTM 1.5x faster
than with ``1 / (1 + exp(-a))`` per gate; ``benchmarks/RESULTS.md``).

Symbols: N batch, L input length, F input features, H_hid hidden size, G gates (1 RNN,
4 LSTM, 3 GRU), H horizon, T targets, Q quantile levels, C future covariates per step,
Z static covariates per series.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["GATES", "NumpyNetwork", "RecurrentConfig", "monotone_quantiles", "weight_shapes"]

GATES = {"rnn": 1, "lstm": 4, "gru": 3}  # blocks stacked in torch's weight_ih/weight_hh

# Softplus(x) is x itself above this, as in torch.nn.functional.softplus (threshold=20,
# beta=1): there log1p(exp(x)) equals x to float32 precision, and exp would overflow later.
_SOFTPLUS_THRESHOLD = 20.0


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


def weight_shapes(config: RecurrentConfig) -> dict[str, tuple[int, ...]]:
    """The ``state_dict`` names and shapes of the network ``config`` describes.

    What :class:`~forecast.neural.network.RecurrentRegressor` (torch) holds, computed
    without building it: a model file's weights are checked against these before anything
    is allocated.

    Examples
    --------
    >>> shapes = weight_shapes(RecurrentConfig(cell="gru", input_size=2, hidden_size=4))
    >>> shapes["encoder.weight_ih_l0"]  # r, z, n stacked: (3 * hidden_size, input_size)
    (12, 2)
    """
    if config.cell not in GATES:
        raise ValueError(f"Unknown cell {config.cell!r}; expected one of {sorted(GATES)}.")
    width = GATES[config.cell] * config.hidden_size  # G * H_hid
    shapes: dict[str, tuple[int, ...]] = {}
    for k in range(config.num_layers):
        inputs = config.input_size if k == 0 else config.hidden_size
        shapes[f"encoder.weight_ih_l{k}"] = (width, inputs)
        shapes[f"encoder.weight_hh_l{k}"] = (width, config.hidden_size)
        shapes[f"encoder.bias_ih_l{k}"] = (width,)
        shapes[f"encoder.bias_hh_l{k}"] = (width,)
    head_in = config.hidden_size + config.horizon * config.n_future + config.n_static
    n_out = config.horizon * config.n_targets * max(config.n_quantiles, 1)
    shapes["head.weight"] = (n_out, head_in)
    shapes["head.bias"] = (n_out,)
    return shapes


def _softplus(x: np.ndarray) -> np.ndarray:
    """``log(1 + exp(x))``, and ``x`` itself above 20, as torch computes it."""
    return np.where(x > _SOFTPLUS_THRESHOLD, x, np.log1p(np.exp(np.minimum(x, 20.0))))


def monotone_quantiles(raw: np.ndarray) -> np.ndarray:
    """Non-decreasing quantiles from unconstrained outputs, as
    :func:`forecast.neural.network.monotone_quantiles` makes them in torch.

    ``out[..., 0] = raw[..., 0]`` and ``out[..., j] = out[..., 0] + cumsum(softplus(raw[...,
    1:]))[..., j - 1]``.

    Parameters
    ----------
    raw : numpy.ndarray of shape (..., Q)

    Returns
    -------
    numpy.ndarray of shape (..., Q), the dtype of ``raw``

    Examples
    --------
    >>> out = monotone_quantiles(np.array([[1.0, -50.0, 3.0]], dtype=np.float32))
    >>> bool((np.diff(out, axis=-1) >= 0).all())
    True
    """
    base = raw[..., :1]
    steps = _softplus(raw[..., 1:]).cumsum(axis=-1, dtype=raw.dtype)
    return np.concatenate([base, base + steps], axis=-1)


@dataclass(frozen=True)
class NumpyNetwork:
    """A trained :class:`~forecast.neural.network.RecurrentRegressor` run in NumPy (eval mode).

    Parameters
    ----------
    config : RecurrentConfig
    weights : mapping of str to numpy.ndarray
        The network's ``state_dict``, float32, with the shapes :func:`weight_shapes` gives
        (checked by the caller: a model file's are, on load).

    Examples
    --------
    >>> config = RecurrentConfig(cell="gru", input_size=3, hidden_size=4, horizon=5)
    >>> weights = {k: np.zeros(s, np.float32) for k, s in weight_shapes(config).items()}
    >>> NumpyNetwork(config, weights)(np.zeros((8, 24, 3), np.float32)).shape
    (8, 5, 1)
    """

    config: RecurrentConfig
    weights: Mapping[str, np.ndarray]

    def non_finite(self) -> list[str]:
        """Names of the weights holding NaN or infinity."""
        return [name for name, w in self.weights.items() if not np.isfinite(w).all()]

    def __call__(
        self,
        x: np.ndarray,
        future: np.ndarray | None = None,
        static: np.ndarray | None = None,
    ) -> np.ndarray:
        """Forecast ``horizon`` steps of every target, as ``RecurrentRegressor.forward``.

        Parameters
        ----------
        x : numpy.ndarray of shape (N, L, F), float32
        future : numpy.ndarray of shape (N, H, C), float32, optional
            Known-future covariates over the horizon (required iff ``n_future > 0``).
        static : numpy.ndarray of shape (N, Z), float32, optional
            Static covariates (required iff ``n_static > 0``).

        Returns
        -------
        numpy.ndarray of shape (N, H, T), or (N, H, T, Q) non-decreasing along Q; float32
        """
        config = self.config
        features = [self._encode(np.asarray(x, dtype=np.float32))]  # (N, H_hid)
        if config.n_future:
            if future is None:
                raise ValueError(f"This network reads {config.n_future} future covariates.")
            features.append(np.asarray(future, dtype=np.float32).reshape(len(x), -1))
        if config.n_static:
            if static is None:
                raise ValueError(f"This network reads {config.n_static} static covariates.")
            features.append(np.asarray(static, dtype=np.float32))  # (N, Z)
        z = np.concatenate(features, axis=1) if len(features) > 1 else features[0]
        y = z @ self.weights["head.weight"].T  # (N, H * T * max(Q, 1))
        y += self.weights["head.bias"]
        shape = (len(x), config.horizon, config.n_targets)
        if not config.n_quantiles:
            return y.reshape(shape)  # (N, H, T)
        return monotone_quantiles(y.reshape(*shape, config.n_quantiles))  # (N, H, T, Q)

    def _encode(self, x: np.ndarray) -> np.ndarray:
        """The top layer's output at the last step, ``(N, H_hid)``, from ``x`` ``(N, L, F)``."""
        config, w = self.config, self.weights
        n, length, hidden = x.shape[0], x.shape[1], config.hidden_size
        inputs = np.ascontiguousarray(x.transpose(1, 0, 2))  # (L, N, F): one step contiguous
        h = np.empty((n, hidden), np.float32)
        n_sigmoid = {"rnn": 0, "lstm": 3, "gru": 2}[config.cell] * hidden
        for k in range(config.num_layers):
            w_ih, w_hh = w[f"encoder.weight_ih_l{k}"], w[f"encoder.weight_hh_l{k}"]
            b_ih, b_hh = w[f"encoder.bias_ih_l{k}"], w[f"encoder.bias_hh_l{k}"]
            if config.cell == "lstm":  # gates i, f, g, o as i, f, o, g: one sigmoid block
                order = np.r_[0 : 2 * hidden, 3 * hidden : 4 * hidden, 2 * hidden : 3 * hidden]
                w_ih, w_hh, b_ih, b_hh = w_ih[order], w_hh[order], b_ih[order], b_hh[order]
            # sigmoid(a) = (1 + tanh(a / 2)) / 2: the sigmoid gates' rows halved (exactly: a
            # power of 2), one tanh over all gates, then (1 + t) / 2 over the sigmoid ones.
            half = np.ones(len(b_ih), np.float32)
            half[:n_sigmoid] = 0.5
            w_ih, w_hh = w_ih * half[:, None], w_hh * half[:, None]
            b_ih, b_hh = b_ih * half, b_hh * half
            # The input projections of every step at once, (L, N, G * H_hid), with the
            # hidden biases that are added unscaled (all but the GRU's b_hn).
            projected = inputs @ w_ih.T
            projected += b_ih
            if config.cell == "gru":
                projected[..., : 2 * hidden] += b_hh[: 2 * hidden]
                b_hn = b_hh[2 * hidden :]
            else:
                projected += b_hh
            w_hh_t = np.ascontiguousarray(w_hh.T)  # (H_hid, G * H_hid)
            top = k == config.num_layers - 1
            outputs = None if top else np.empty((length, n, hidden), np.float32)
            h = np.zeros((n, hidden), np.float32)
            c = np.zeros((n, hidden), np.float32)  # the LSTM's cell state
            gates = np.empty((n, w_hh_t.shape[1]), np.float32)  # (N, G * H_hid)
            for t in range(length):
                np.matmul(h, w_hh_t, out=gates)
                if config.cell == "rnn":
                    gates += projected[t]
                    h = np.tanh(gates)
                elif config.cell == "lstm":
                    gates += projected[t]
                    np.tanh(gates, out=gates)
                    ifo = gates[:, : 3 * hidden]
                    ifo += 1.0
                    ifo *= 0.5
                    g = gates[:, 3 * hidden :]
                    c *= gates[:, hidden : 2 * hidden]
                    g *= gates[:, :hidden]
                    c += g
                    h = np.tanh(c)
                    h *= gates[:, 2 * hidden : 3 * hidden]
                else:
                    h = _gru_step(projected[t], gates, h, b_hn, hidden)
                if outputs is not None:
                    outputs[t] = h
            if outputs is not None:
                inputs = outputs  # (L, N, H_hid): the next layer's inputs
        return h


def _gru_step(
    gx: np.ndarray, gh: np.ndarray, h: np.ndarray, b_hn: np.ndarray, hidden: int
) -> np.ndarray:
    """Gates r, z, n from the input projections ``gx`` (all biases but ``b_hn`` in) and the
    hidden ones ``gh`` (no bias; r and z halved): ``n = tanh(x_n + r * (h W_hn^T + b_hn))``,
    ``h' = (1 - z) * n + z * h``, computed as torch's CPU kernel does: ``n + z * (h - n)``."""
    rz = gh[:, : 2 * hidden]
    rz += gx[:, : 2 * hidden]
    np.tanh(rz, out=rz)
    rz += 1.0
    rz *= 0.5
    n = gh[:, 2 * hidden :]
    n += b_hn
    n *= rz[:, :hidden]
    n += gx[:, 2 * hidden :]
    np.tanh(n, out=n)
    out = h - n
    out *= rz[:, hidden:]
    out += n
    return out
