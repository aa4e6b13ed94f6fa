"""The lower layers on their own: RecurrentRegressor and RecurrentModule under a user's Trainer."""

from __future__ import annotations

import copy
from types import SimpleNamespace

import lightning as L
import numpy as np
import pandas as pd
import pytest
import torch
from conftest import no_val_loop, quiet_trainer
from lightning.pytorch.plugins.precision import MixedPrecision
from packaging.version import Version
from torch.utils.data import DataLoader, TensorDataset

from forecast import RecurrentConfig, RecurrentModule, RecurrentRegressor
from forecast.neural.lightning_internals import HOOK_NAME
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
    trainer = quiet_trainer(tmp_path, max_epochs=5)
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
    with pytest.raises(ValueError, match="Unknown loss 'rmsle'"):
        RecurrentModule(loss="rmsle")


class _StepLosses(L.Callback):
    """Each step's loss and batch size, and the epoch losses callbacks see at epoch end."""

    def __init__(self) -> None:
        self.steps: list[tuple[int, float, int]] = []  # (epoch, loss, batch size)
        self.val: list[tuple[int, float, int]] = []
        self.seen: list[dict[str, float]] = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.steps.append((trainer.current_epoch, float(outputs["loss"]), len(batch[1])))

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, *_) -> None:
        if trainer.sanity_checking:  # Lightning's check before training: not an epoch
            return
        self.val.append((trainer.current_epoch, float(outputs), len(batch[1])))

    def on_train_epoch_end(self, trainer, pl_module) -> None:  # before the module's hook
        self.seen.append({k: float(v) for k, v in trainer.callback_metrics.items()})


def _weighted_mean(rows, epoch) -> float:
    losses = np.array([(loss, n) for e, loss, n in rows if e == epoch])
    return float((losses[:, 0] * losses[:, 1]).sum() / losses[:, 1].sum())


@pytest.mark.parametrize(
    ("limits", "epochs"),
    [
        ({"max_epochs": 2}, 2),
        ({"max_epochs": 5, "max_steps": 6}, 2),  # the second epoch cut short by max_steps
        ({"max_epochs": 2, "limit_train_batches": 3}, 2),
    ],
)
def test_epoch_losses_are_batch_weighted_means_seen_by_callbacks(tmp_path, limits, epochs):
    # 100 training windows in batches of 32 (the last has 4): the epoch loss is the mean
    # over windows, not over batches; callbacks see it when the epoch ends, whatever ended it.
    X, y = torch.randn(100, 6, 1), torch.randn(100, 2, 1)
    torch.manual_seed(0)
    module = RecurrentModule(cell="rnn", input_size=1, hidden_size=4, horizon=2)
    probe = _StepLosses()
    trainer = quiet_trainer(tmp_path, callbacks=[probe], **limits)
    val = DataLoader(TensorDataset(X[:30], y[:30]), batch_size=16)
    trainer.fit(module, DataLoader(TensorDataset(X, y), batch_size=32), val)
    assert len(probe.seen) == epochs
    for epoch, seen in enumerate(probe.seen):
        assert seen["train_loss"] == pytest.approx(_weighted_mean(probe.steps, epoch), rel=1e-5)
        if any(e == epoch for e, _, _ in probe.val):  # a cut-short epoch is not validated
            assert seen["val_loss"] == pytest.approx(_weighted_mean(probe.val, epoch), rel=1e-5)


class _LearningRates(L.Callback):
    def __init__(self) -> None:
        self.rates: list[float] = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.rates.append(trainer.optimizers[0].param_groups[0]["lr"])


@no_val_loop
@pytest.mark.parametrize("limits", [{"max_epochs": 3}, {"max_epochs": 100, "max_steps": 7}])
def test_cosine_schedule_decays_the_learning_rate_over_the_budget(tmp_path, limits) -> None:
    X, y = torch.randn(100, 6, 1), torch.randn(100, 2, 1)  # 4 batches of 32 an epoch
    module = RecurrentModule(input_size=1, hidden_size=4, horizon=2, lr_schedule="cosine")
    rates = _LearningRates()
    quiet_trainer(tmp_path, callbacks=[rates], **limits).fit(
        module, DataLoader(TensorDataset(X, y), batch_size=32)
    )
    total = limits.get("max_steps", 4 * limits["max_epochs"])
    assert len(rates.rates) == total
    expected = [1e-3 * (1 + np.cos(np.pi * k / total)) / 2 for k in range(total)]
    np.testing.assert_allclose(rates.rates, expected, rtol=1e-6)


@no_val_loop
def test_constant_schedule_keeps_the_learning_rate(tmp_path) -> None:
    X, y = torch.randn(64, 6, 1), torch.randn(64, 2, 1)
    module = RecurrentModule(input_size=1, hidden_size=4, horizon=2, learning_rate=0.01)
    rates = _LearningRates()
    quiet_trainer(tmp_path, callbacks=[rates], max_epochs=2).fit(
        module, DataLoader(TensorDataset(X, y), batch_size=32)
    )
    assert rates.rates == [0.01] * 4


@no_val_loop
def test_cosine_schedule_needs_a_finite_budget(tmp_path) -> None:
    class Endless(torch.utils.data.IterableDataset):
        def __iter__(self):
            while True:
                yield torch.randn(6, 1), torch.randn(2, 1)

    module = RecurrentModule(input_size=1, hidden_size=4, horizon=2, lr_schedule="cosine")
    with pytest.raises(ValueError, match="finite number of optimiser steps"):
        quiet_trainer(tmp_path, max_epochs=1).fit(module, DataLoader(Endless(), batch_size=8))


def test_unknown_lr_schedule_is_refused() -> None:
    with pytest.raises(ValueError, match="Unknown lr_schedule 'linear'"):
        RecurrentModule(lr_schedule="linear")


def _grads_like(module: torch.nn.Module, seed: int) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(p.shape, generator=generator) for p in module.parameters()]


FUSED_ON_CPU = pytest.mark.skipif(
    Version(torch.__version__) < Version("2.4"),
    reason="torch has a fused Adam kernel for CPUs from 2.4 (CI installs 2.13)",
)


@FUSED_ON_CPU
def test_optimiser_does_torchs_adam_arithmetic_in_one_fused_kernel() -> None:
    module = RecurrentModule(
        input_size=2, hidden_size=4, num_layers=2, horizon=3, learning_rate=0.01, weight_decay=0.1
    )
    reference = copy.deepcopy(module)
    ours = module.configure_optimizers()
    # torch's default on a CPU: one Python loop over the parameters.
    theirs = torch.optim.Adam(reference.parameters(), lr=0.01, weight_decay=0.1, foreach=False)
    assert ours.defaults["fused"]
    for step in range(25):
        for net in (module, reference):
            for p, g in zip(net.parameters(), _grads_like(net, step), strict=True):
                p.grad = g
        ours.step()
        theirs.step()
    for a, b in zip(module.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


CPU_GRAD_SCALER = pytest.mark.skipif(
    Version(torch.__version__) < Version("2.4"),
    reason="torch has a GradScaler for CPUs from 2.4: before, Lightning's 16-mixed on a CPU "
    "warns and runs without one (CI installs 2.13)",
)


@pytest.mark.parametrize(
    "precision", [pytest.param("16-mixed", marks=CPU_GRAD_SCALER), "bf16-mixed"]
)
def test_mixed_precision_gets_an_optimiser_lightning_can_clip(precision) -> None:
    # Lightning's mixed precision refuses to clip the gradients of an optimiser that
    # unscales them itself, as fused Adam does, with or without a float16 scaler; the
    # estimators clip by default (gradient_clip_val=1.0), so the module must not pick it.
    module = RecurrentModule(input_size=1, hidden_size=4, horizon=2)
    plugin = MixedPrecision(precision, device="cpu")
    module._trainer = SimpleNamespace(precision=plugin.precision, precision_plugin=plugin)
    optimizer = module.configure_optimizers()
    assert not optimizer.defaults["fused"]
    for p, g in zip(module.parameters(), _grads_like(module, 0), strict=True):
        p.grad = g * 100
    plugin.clip_gradients(optimizer, clip_val=1.0)
    norm = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in module.parameters()]))
    assert float(norm) == pytest.approx(1.0, rel=1e-4)


@no_val_loop
def test_bf16_mixed_training_with_clipping_runs_on_a_cpu(tmp_path) -> None:
    X, y = torch.randn(64, 6, 1), torch.randn(64, 2, 1)
    # A GRU: oneDNN has no bfloat16 LSTM on CPUs without AVX-512 BF16, as on our CI machine.
    module = RecurrentModule(cell="gru", input_size=1, hidden_size=4, horizon=2)
    before = [p.detach().clone() for p in module.parameters()]
    trainer = quiet_trainer(tmp_path, max_epochs=1, precision="bf16-mixed", gradient_clip_val=1.0)
    trainer.fit(module, DataLoader(TensorDataset(X, y), batch_size=32))
    assert trainer.global_step == 2
    assert not trainer.optimizers[0].defaults["fused"]
    assert any(not torch.equal(a, b) for a, b in zip(before, module.parameters(), strict=True))


@no_val_loop
def test_lightning_still_sets_the_hook_name_that_the_fast_path_serves(tmp_path) -> None:
    # If Lightning stopped setting _current_fx_name (or renamed it), FastHookName would be
    # dead code: forecast/neural/lightning_internals.py says to delete it then.
    seen = []

    class Recording(RecurrentModule):
        def __setattr__(self, name, value):
            if name == HOOK_NAME:
                seen.append(value)
            super().__setattr__(name, value)

    module = Recording(input_size=1, hidden_size=4, horizon=2)
    X, y = torch.randn(32, 6, 1), torch.randn(32, 2, 1)
    quiet_trainer(tmp_path, max_epochs=1).fit(
        module, DataLoader(TensorDataset(X, y), batch_size=16)
    )
    assert seen.count("training_step") == 2  # set before each of the 2 steps
    assert module.__dict__[HOOK_NAME] == seen[-1]  # stored in the instance, as nn.Module would


def test_lightnings_hook_name_skips_nn_modules_registration_checks(monkeypatch) -> None:
    # Lightning sets _current_fx_name 44 times a training step; it is stored without
    # nn.Module.__setattr__, which must still see (and register) everything else.
    seen = []
    original = torch.nn.Module.__setattr__

    def spy(self, name, value):
        seen.append(name)
        original(self, name, value)

    module = RecurrentModule(input_size=1, hidden_size=4, horizon=2)
    extra = torch.nn.Linear(1, 1)
    monkeypatch.setattr(torch.nn.Module, "__setattr__", spy)
    module._current_fx_name = "training_step"
    module.extra = extra
    assert module._current_fx_name == "training_step"
    assert seen == ["extra"]
    assert "extra.weight" in module.state_dict()
    assert "_current_fx_name" not in module.state_dict()


def _fused_flags(optimizer: torch.optim.Optimizer) -> tuple:
    return tuple((g["fused"], g["foreach"]) for g in optimizer.param_groups)


def _resume_two_epochs(tmp_path, loader, ckpt_path, **trainer_kwargs) -> L.Trainer:
    """A new GRU module trained to epoch 2 from ``ckpt_path``, with gradient clipping."""
    trainer = quiet_trainer(tmp_path, max_epochs=2, gradient_clip_val=1.0, **trainer_kwargs)
    trainer.fit(
        RecurrentModule(cell="gru", input_size=1, hidden_size=4, horizon=2),
        loader,
        ckpt_path=ckpt_path,
    )
    return trainer


@FUSED_ON_CPU
@no_val_loop
def test_resuming_keeps_this_runs_adam_kernel_not_the_checkpoints(tmp_path) -> None:
    loader = DataLoader(TensorDataset(torch.randn(64, 6, 1), torch.randn(64, 2, 1)), batch_size=32)
    module = RecurrentModule(cell="gru", input_size=1, hidden_size=4, horizon=2)
    trainer = quiet_trainer(tmp_path, max_epochs=1, gradient_clip_val=1.0)
    trainer.fit(module, loader)
    assert _fused_flags(trainer.optimizers[0]) == ((True, None),)  # the default, 32-true
    fused_path = tmp_path / "fused.ckpt"
    trainer.save_checkpoint(fused_path)

    # A checkpoint written with torch's default Adam (before fused Adam was used) resumes
    # with the fused kernel, its moments and step count carried over.
    old = torch.load(fused_path, weights_only=False)
    for group in old["optimizer_states"][0]["param_groups"]:
        group["fused"], group["foreach"] = None, None
    old_path = tmp_path / "old.ckpt"
    torch.save(old, old_path)
    resumed = _resume_two_epochs(tmp_path, loader, old_path)
    assert resumed.global_step == 4
    assert _fused_flags(resumed.optimizers[0]) == ((True, None),)

    # A fused checkpoint resumed under bf16-mixed with clipping (which Lightning refuses for
    # a fused optimiser) gets foreach and trains.
    mixed = _resume_two_epochs(tmp_path, loader, fused_path, precision="bf16-mixed")
    assert mixed.global_step == 4
    assert _fused_flags(mixed.optimizers[0]) == ((None, True),)
