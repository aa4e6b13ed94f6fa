"""Quantile regression: the non-crossing head, the pinball loss, columns, parameter errors."""

from __future__ import annotations

import lightning as L
import numpy as np
import pandas as pd
import pytest
import torch
from conftest import FAST, make_long_frame, make_sine_frame
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.metrics import mean_pinball_loss
from torch.utils.data import DataLoader, TensorDataset

from forecast import (
    GRUForecaster,
    InvalidParameterError,
    LSTMForecaster,
    RecurrentConfig,
    RecurrentModule,
    RecurrentRegressor,
    quantile_column,
)
from forecast.data.scaling import SeriesScaler
from forecast.neural.network import monotone_quantiles
from forecast.neural.objectives import PinballLoss
from forecast.windowing import make_windows

LONG = {"id_col": "unique_id", "time_col": "ds"}
SMALL = {"seq_len": 8, "horizon": 3, "validation_size": 0, **FAST}


# ---------------------------------------------------------------------------- the head


@settings(max_examples=60, deadline=None)
@given(
    arrays(
        np.float32,
        st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(1, 2), st.integers(2, 6)),
        elements=st.floats(-1e4, 1e4, width=32),
    )
)
def test_monotone_quantiles_never_cross(raw):
    out = monotone_quantiles(torch.from_numpy(raw))  # (N, H, T, Q)
    assert torch.all(out.diff(dim=-1) >= 0)
    assert torch.equal(out[..., 0], torch.from_numpy(raw[..., 0]))  # the base is free


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    n_quantiles=st.integers(2, 5),
    weight_scale=st.sampled_from([0.1, 1.0, 30.0]),
    loc=st.floats(-1e3, 1e3),
    scale=st.floats(1e-3, 1e3),
)
def test_the_network_and_the_inverse_scaling_keep_quantiles_ordered(
    seed, n_quantiles, weight_scale, loc, scale
):
    torch.manual_seed(seed)
    net = RecurrentRegressor(
        RecurrentConfig(
            cell="gru", input_size=2, hidden_size=4, horizon=3, n_targets=2, n_quantiles=n_quantiles
        )
    )
    with torch.no_grad():
        for p in net.head.parameters():
            p.mul_(weight_scale)  # large weights: big raw outputs of either sign
        out = net(torch.randn(5, 6, 2) * 10)  # (N, H, T, Q)
    assert out.shape == (5, 3, 2, n_quantiles)
    assert torch.all(out.diff(dim=-1) >= 0)
    stats = np.full((5, 1, 2), loc), np.full((5, 1, 2), scale)
    original = SeriesScaler.inverse_targets(out.numpy().astype(np.float64), *stats)
    assert np.all(np.diff(original, axis=-1) >= 0)


# ---------------------------------------------------------------------------- the loss


def test_pinball_loss_is_sklearns_mean_pinball_loss_averaged_over_levels():
    rng = np.random.default_rng(0)
    levels = [0.1, 0.5, 0.9]
    y = rng.normal(size=(40, 2, 1))
    pred = rng.normal(size=(40, 2, 1, 3))
    expected = np.mean(
        [mean_pinball_loss(y.ravel(), pred[..., j].ravel(), alpha=q) for j, q in enumerate(levels)]
    )
    got = PinballLoss(levels)(torch.from_numpy(pred), torch.from_numpy(y))
    assert float(got) == pytest.approx(expected, rel=1e-6)


def test_pinball_training_reduces_the_loss():
    t = np.arange(300, dtype=np.float32)
    rng = np.random.default_rng(0)
    series = np.sin(t / 6) + 0.3 * rng.standard_normal(300).astype(np.float32)
    X, y = make_windows(series[:, None], seq_len=12, horizon=2)
    levels = [0.1, 0.5, 0.9]
    torch.manual_seed(0)
    module = RecurrentModule(
        input_size=1, hidden_size=8, horizon=2, loss="pinball", quantiles=levels, learning_rate=1e-2
    )

    def loss() -> float:
        with torch.no_grad():
            return float(module.loss_fn(module(X), y))

    before = loss()
    trainer = L.Trainer(
        max_epochs=5,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    train, val = TensorDataset(X[:240], y[:240]), TensorDataset(X[240:], y[240:])
    trainer.fit(module, DataLoader(train, batch_size=32, shuffle=True), DataLoader(val, 64))
    after = loss()
    assert module(X[:4]).shape == (4, 2, 1, 3)
    assert after < 0.7 * before


def test_module_refuses_quantiles_without_the_pinball_loss():
    with pytest.raises(ValueError, match="pinball loss"):
        RecurrentModule(loss="mse", quantiles=[0.1, 0.9])
    with pytest.raises(ValueError, match="pinball loss needs quantiles"):
        RecurrentModule(loss="pinball")


# ---------------------------------------------------------------------------- the estimator


@pytest.fixture(scope="module")
def wide_quantile_model():
    df = make_sine_frame()
    return LSTMForecaster(target="y", quantiles=[0.1, 0.9], **SMALL).fit(df), df


def test_wide_columns_median_and_order(wide_quantile_model):
    model, df = wide_quantile_model
    fc = model.predict()
    assert list(fc.columns) == ["y", "y_q0.1", "y_q0.9"]
    assert model.quantile_levels_ == [0.1, 0.9]
    assert model.network_.config.n_quantiles == 3  # 0.5 added: the point column is the median
    assert (fc["y_q0.1"] <= fc["y"]).all()
    assert (fc["y"] <= fc["y_q0.9"]).all()
    raw = model._runner().windows(model.last_window_, np.arange(1))  # (1, H, T, Q)
    np.testing.assert_array_equal(fc["y"].to_numpy(), raw[0, :, 0, 1])  # level 0.5 is index 1
    np.testing.assert_array_equal(fc["y_q0.9"].to_numpy(), raw[0, :, 0, 2])
    short = model.predict(df.iloc[:-4], horizon=2)
    assert list(short.columns) == list(fc.columns)
    assert len(short) == 2
    assert short.index[0] == df.index[-4]


def test_point_forecast_scores_and_listed_median_gets_its_own_column():
    df = make_sine_frame()
    model = GRUForecaster(target="y", quantiles=[0.25, 0.5, 0.75], **SMALL).fit(df)
    fc = model.predict()
    assert list(fc.columns) == ["y", "y_q0.25", "y_q0.5", "y_q0.75"]
    np.testing.assert_array_equal(fc["y"], fc["y_q0.5"])
    assert np.isfinite(model.score(df))


def test_long_layout_and_several_targets():
    frame = make_long_frame()
    frame["z"] = frame["y"] * 2
    model = LSTMForecaster(quantiles=[0.1, 0.9], **LONG, **SMALL).fit(frame)
    fc = model.predict()
    assert list(fc.columns) == ["unique_id", "ds", "y", "y_q0.1", "y_q0.9", "z", "z_q0.1", "z_q0.9"]
    assert len(fc) == 3 * 3
    for target in ("y", "z"):
        lo, mid, hi = (
            fc[c] for c in (quantile_column(target, 0.1), target, quantile_column(target, 0.9))
        )
        assert (lo <= mid).all()
        assert (mid <= hi).all()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"quantiles": [0.9, 0.1]}, r"'quantiles' parameter of LSTMForecaster must be a sorted"),
        ({"quantiles": [0.1, 0.1]}, r"sorted list of distinct floats in \(0, 1\).*Got \[0.1, 0"),
        ({"quantiles": [0.0, 0.5]}, r"'quantiles' parameter.*Got \[0.0, 0.5\] instead"),
        ({"quantiles": [0.5, 1.0]}, r"'quantiles' parameter"),
        ({"quantiles": []}, r"'quantiles' parameter"),
        ({"quantiles": 0.5}, r"'quantiles' parameter.*Got 0.5 instead"),
        ({"quantiles": ["0.5"]}, r"'quantiles' parameter"),
        ({"quantiles": [0.1, 0.1000000001]}, r"differ in their first 6 significant digits"),
        ({"quantiles": [0.1, 0.9], "loss": "mse"}, r"'loss' parameter.*must be None or 'pinball'"),
        ({"loss": "pinball"}, r"'loss' parameter of LSTMForecaster is 'pinball'.*quantiles"),
        ({"loss": "quantile"}, r"'loss' parameter of LSTMForecaster must be one of"),
    ],
)
def test_parameter_errors(params, message):
    with pytest.raises(InvalidParameterError, match=message):
        LSTMForecaster(**SMALL, **params).fit(make_sine_frame(40))


def test_quantile_column_naming():
    assert quantile_column("y", 0.1) == "y_q0.1"
    assert quantile_column("y", (1 - 0.8) / 2) == "y_q0.1"  # 0.09999999999999998
    assert quantile_column("close", 0.975) == "close_q0.975"
    assert quantile_column("y", 0.5) == "y_q0.5"


def test_frames_of_quantiles_and_point_columns_line_up(wide_quantile_model):
    model, df = wide_quantile_model
    fc = model.predict(df)
    assert isinstance(fc.index, pd.DatetimeIndex)
    assert fc.index[0] == df.index[-1] + pd.Timedelta(days=1)
