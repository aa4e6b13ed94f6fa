"""The lower layers on their own: RecurrentRegressor and RecurrentModule under a user's Trainer."""

from __future__ import annotations

import lightning as L
import numpy as np
import pandas as pd
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from forecast import RecurrentConfig, RecurrentModule, RecurrentRegressor
from forecast.windowing import make_windows


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_regressor_emits_every_step_and_target_from_the_last_hidden_state(cell) -> None:
    config = RecurrentConfig(cell=cell, input_size=3, hidden_size=5, horizon=4, n_targets=2)
    net = RecurrentRegressor(config).eval()
    x = torch.randn(6, 10, 3)
    out = net(x)
    assert out.shape == (6, 4, 2)
    # Only the last hidden state reaches the head, so the output of a window depends on the
    # whole window (through the recurrence) but each sample is independent of the others.
    torch.testing.assert_close(net(x[:1]), out[:1])
    changed = x.clone()
    changed[:, 0, :] += 1.0
    assert not torch.allclose(net(changed), out)


def test_config_round_trips_through_json_types() -> None:
    config = RecurrentConfig(cell="gru", input_size=2, hidden_size=7, num_layers=2, dropout=0.1)
    assert RecurrentConfig.from_dict(config.to_dict()) == config


def test_module_trains_under_a_users_own_trainer(tmp_path) -> None:
    t = np.arange(300)
    frame = pd.DataFrame(
        {"y": np.sin(2 * np.pi * t / 25)}, index=pd.date_range("2020", periods=300, freq="D")
    )
    X, y = make_windows(frame, seq_len=25, horizon=3, target="y")
    torch.manual_seed(0)
    module = RecurrentModule(
        cell="gru", input_size=1, hidden_size=16, horizon=3, learning_rate=1e-2
    )
    loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)
    before = torch.nn.functional.mse_loss(module(X), y).item()
    trainer = L.Trainer(
        max_epochs=5,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
        accelerator="cpu",
    )
    trainer.fit(module, loader, DataLoader(TensorDataset(X[-50:], y[-50:]), batch_size=50))
    after = torch.nn.functional.mse_loss(module(X), y).item()
    assert after < before / 5
    assert "val_loss" in trainer.callback_metrics
    assert module.hparams.cell == "gru"


def test_head_takes_known_future_and_static_covariates() -> None:
    module = RecurrentModule(input_size=2, horizon=3, n_targets=1, n_future=2, n_static=1)
    batch = {
        "x": torch.randn(4, 8, 2),
        "y": torch.randn(4, 3, 1),
        "future": torch.randn(4, 3, 2),
        "static": torch.randn(4, 1),
    }
    assert module(batch["x"], batch["future"], batch["static"]).shape == (4, 3, 1)


def test_unknown_loss_is_refused() -> None:
    with pytest.raises(ValueError, match="Unknown loss 'mape'"):
        RecurrentModule(loss="mape")
