"""The NumPy forward pass predict runs (forecast/neural/inference.py) against torch's.

Agreement: the two run the same float32 equations with matrix products from different
libraries (OpenBLAS through NumPy, torch's own CPU kernels), whose sums round in different
orders, so they differ by a few float32 ulps, not bit for bit. On the scaled outputs, with
random weights and inputs, the largest difference must stay under 1e-5 (measured over 300
random configurations, weights up to 3x torch's initial range: at most 4.5e-6, on outputs
of magnitude up to 12, i.e. about 5 ulps; the test passed 600 hypothesis examples).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import FAST, make_long_frame
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast import GRUForecaster, LSTMForecaster, RNNForecaster, load
from forecast.forecasters._network_forecast import numpy_network
from forecast.neural.inference import (
    GATES,
    NumpyNetwork,
    RecurrentConfig,
    monotone_quantiles,
    weight_shapes,
)
from forecast.neural.network import CELLS, RecurrentRegressor
from forecast.neural.network import monotone_quantiles as torch_monotone_quantiles

TOLERANCE = 1e-5  # on scaled outputs; see the module docstring


def _torch_and_numpy(config: RecurrentConfig, seed: int, gain: float):
    torch.manual_seed(seed)
    net = RecurrentRegressor(config).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(gain)  # beyond torch's initial range: saturated gates too
    weights = {k: v.numpy() for k, v in net.state_dict().items()}
    return net, NumpyNetwork(config, weights)


configs = st.builds(
    RecurrentConfig,
    cell=st.sampled_from(sorted(GATES)),
    input_size=st.integers(1, 4),
    hidden_size=st.integers(1, 16),
    num_layers=st.integers(1, 3),
    horizon=st.integers(1, 4),
    n_targets=st.integers(1, 2),
    n_future=st.integers(0, 2),
    n_static=st.integers(0, 2),
    n_quantiles=st.sampled_from([0, 0, 1, 3, 5]),
)


@settings(max_examples=60, deadline=None)
@given(
    config=configs,
    batch=st.integers(1, 9),
    length=st.integers(1, 12),
    seed=st.integers(0, 2**16),
    gain=st.sampled_from([0.5, 1.0, 3.0]),
    spread=st.sampled_from([1.0, 4.0]),
)
def test_the_numpy_forward_is_torchs(config, batch, length, seed, gain, spread):
    net, numpy_net = _torch_and_numpy(config, seed, gain)
    rng = np.random.default_rng(seed)
    x = (spread * rng.standard_normal((batch, length, config.input_size))).astype(np.float32)
    future = rng.standard_normal((batch, config.horizon, config.n_future)).astype(np.float32)
    static = rng.standard_normal((batch, config.n_static)).astype(np.float32)
    args = (x, future if config.n_future else None, static if config.n_static else None)
    with torch.inference_mode():
        expected = net(*(None if a is None else torch.from_numpy(a) for a in args)).numpy()
    out = numpy_net(*args)
    assert out.dtype == np.float32
    assert out.shape == expected.shape
    assert np.abs(out - expected).max() <= TOLERANCE
    if config.n_quantiles:
        assert (np.diff(out, axis=-1) >= 0).all()  # quantiles never cross


@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("num_layers", [1, 2])
def test_weight_shapes_are_torchs(cell, num_layers):
    assert set(CELLS) == set(GATES)
    config = RecurrentConfig(
        cell=cell, input_size=3, hidden_size=5, num_layers=num_layers, horizon=4, n_targets=2,
        n_future=2, n_static=1, n_quantiles=3,
    )  # fmt: skip
    net = RecurrentRegressor(config)
    assert weight_shapes(config) == {k: tuple(v.shape) for k, v in net.state_dict().items()}
    with pytest.raises(ValueError, match="Unknown cell 'tcn'"):
        weight_shapes(dataclasses.replace(config, cell="tcn"))


@pytest.mark.parametrize("value", [-200.0, -20.0, -1.0, 0.0, 1.0, 19.99, 20.0, 20.01, 50.0, 1e30])
def test_softplus_is_torchs_on_both_sides_of_its_threshold(value):
    # torch's softplus is x itself above 20 (threshold=20) and log1p(exp(x)) up to it; far
    # below, exp underflows to 0 in both. With a base of 0 the second quantile is the
    # softplus of the second output.
    raw = np.array([[0.0, value]], dtype=np.float32)
    expected = torch_monotone_quantiles(torch.from_numpy(raw)).numpy()
    out = monotone_quantiles(raw)
    np.testing.assert_allclose(out, expected, rtol=2e-7, atol=0)
    if value > 20:
        assert out[0, 1] == np.float32(value)  # x itself: 1e30 is not exponentiated
    if value == -200:
        assert out[0, 1] == 0.0


def test_non_finite_names_the_damaged_weights():
    config = RecurrentConfig(cell="gru", input_size=1, hidden_size=3)
    weights = {k: np.zeros(s, np.float32) for k, s in weight_shapes(config).items()}
    weights["encoder.bias_hh_l0"] = np.array([0, np.inf, 0, 0, 0, 0, 0, 0, 0], np.float32)
    assert NumpyNetwork(config, weights).non_finite() == ["encoder.bias_hh_l0"]


def _torch_runner(model):
    """The model's runner with torch's forward in place of NumPy's."""

    class TorchForward:
        config = model.network_.config

        def __call__(self, x, future=None, static=None):
            with torch.inference_mode():
                tensors = (None if a is None else torch.from_numpy(a) for a in (x, future, static))
                return model.network_(*tensors).numpy()

        def non_finite(self):
            return []

    return dataclasses.replace(model._runner(), network=TorchForward())


@pytest.mark.parametrize("forecaster", [RNNForecaster, LSTMForecaster, GRUForecaster])
def test_a_trained_models_forecasts_agree_with_torchs_forward(forecaster):
    # In original units: a trained network's scaled outputs (magnitude about 1) differ by
    # an ulp or so (1e-7), times each series' scale (its standard deviation, about 0.7),
    # on forecasts of about 10: measured 2e-9 relative; 1e-6 leaves room for other seeds.
    df = make_long_frame()
    model = forecaster(
        seq_len=12, horizon=3, num_layers=2, id_col="unique_id", time_col="ds", **FAST
    ).fit(df)
    series = np.arange(len(model.series_ids_))
    ours = model._runner().windows(model.last_window_, series)
    torchs = _torch_runner(model).windows(model.last_window_, series)
    np.testing.assert_allclose(ours, torchs, rtol=1e-6, atol=0)
    assert not np.array_equal(ours, np.zeros_like(ours))


def test_network_is_built_on_first_use_after_load_and_predicts_the_same(tmp_path):
    df = make_long_frame()
    model = LSTMForecaster(seq_len=6, horizon=2, id_col="unique_id", time_col="ds", **FAST)
    model.fit(df).save(tmp_path / "m.safetensors")
    loaded = load(tmp_path / "m.safetensors")
    assert isinstance(loaded.__dict__["network_"], NumpyNetwork)  # no torch module yet
    before = loaded.predict(df)
    network = loaded.network_  # built from the weights
    assert isinstance(network, RecurrentRegressor)
    assert not network.training
    for name, tensor in model.network_.state_dict().items():
        assert torch.equal(tensor, network.state_dict()[name])
    pd.testing.assert_frame_equal(loaded.predict(df), before, check_exact=True)
    # From now on the module is what predicts: a change to it is a change to the forecasts.
    with torch.no_grad():
        network.head.bias.add_(1.0)
    assert numpy_network(loaded).weights["head.bias"][0] == network.head.bias[0].item()
    assert not np.allclose(loaded.predict(df)["y"], before["y"])
