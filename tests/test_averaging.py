"""Stochastic weight averaging over the tail of a fit (``swa_start``)."""

from __future__ import annotations

from types import SimpleNamespace

import lightning as L
import numpy as np
import pytest
import torch
from conftest import FAST, no_val_loop, quiet_trainer
from torch.utils.data import DataLoader, TensorDataset

from forecast import RecurrentModule, RNNForecaster, load
from forecast._exceptions import InvalidParameterError
from forecast.neural.averaging import TailWeightAveraging
from forecast.neural.training import fit_module


class _Snapshots(L.Callback):
    """The module's weights after every optimiser step."""

    def __init__(self, stop_after: int | None = None) -> None:
        self.weights: list[dict[str, torch.Tensor]] = []
        self.stop_after = stop_after

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.weights.append({k: v.detach().clone() for k, v in pl_module.state_dict().items()})
        if self.stop_after is not None and len(self.weights) >= self.stop_after:
            trainer.should_stop = True


def _data() -> DataLoader:
    generator = torch.Generator().manual_seed(0)
    X, y = torch.randn(128, 6, 1, generator=generator), torch.randn(128, 2, 1, generator=generator)
    return DataLoader(TensorDataset(X, y), batch_size=32)  # 4 steps an epoch


def _module() -> RecurrentModule:
    torch.manual_seed(0)
    return RecurrentModule(input_size=1, hidden_size=4, horizon=2, learning_rate=0.05)


@no_val_loop
@pytest.mark.parametrize(
    ("limits", "start", "first"),
    [({"max_steps": 10, "max_epochs": 100}, 0.5, 5), ({"max_epochs": 3}, 0.75, 9)],
)
def test_kept_weights_are_the_mean_of_every_step_from_the_start_fraction_on(
    tmp_path, limits, start, first
) -> None:
    snapshots = _Snapshots()
    module = _module()
    averaging = TailWeightAveraging(start)
    quiet_trainer(tmp_path, callbacks=[snapshots, averaging], **limits).fit(module, _data())
    total = len(snapshots.weights)
    assert averaging.first_step == first
    assert averaging.averaged_steps == total - first
    for name, value in module.state_dict().items():
        expected = torch.stack([w[name] for w in snapshots.weights[first:]]).mean(dim=0)
        torch.testing.assert_close(value, expected)
    # ... which is not the last step's weights: the average did something.
    assert not torch.allclose(module.net.head.weight, snapshots.weights[-1]["net.head.weight"])


@no_val_loop
def test_a_run_ended_before_the_start_keeps_its_trained_weights(tmp_path) -> None:
    # Lightning's callback would copy in its snapshot of the *initial* weights here.
    initial = {k: v.clone() for k, v in _module().state_dict().items()}
    snapshots = _Snapshots(stop_after=3)
    module = _module()
    averaging = TailWeightAveraging(0.5)
    trainer = quiet_trainer(
        tmp_path, callbacks=[snapshots, averaging], max_steps=20, max_epochs=100
    )
    with pytest.warns(UserWarning, match=r"step 3, before swa_start=0.5 \(step 10 "):
        trainer.fit(module, _data())
    assert averaging.averaged_steps == 0
    for name, value in module.state_dict().items():
        torch.testing.assert_close(value, snapshots.weights[-1][name])
    assert not torch.allclose(module.net.head.weight, initial["net.head.weight"])


def test_validation_before_the_start_scores_the_trained_weights(tmp_path) -> None:
    scored: list[torch.Tensor] = []

    class HeadAtValidation(L.Callback):
        def on_validation_epoch_start(self, trainer, pl_module) -> None:
            scored.append(pl_module.net.head.weight.detach().clone())

    snapshots = _Snapshots()
    module = _module()
    # 3 epochs of 4 steps; averaging from step 9, so epochs 0 and 1 validate raw weights
    # and epoch 2 the average. The swap callback runs first so the probe sees its result.
    callbacks = [snapshots, TailWeightAveraging(0.75), HeadAtValidation()]
    trainer = quiet_trainer(tmp_path, callbacks=callbacks, max_epochs=3, num_sanity_val_steps=0)
    trainer.fit(module, _data(), _data())
    assert len(scored) == 3
    torch.testing.assert_close(scored[0], snapshots.weights[3]["net.head.weight"])
    torch.testing.assert_close(scored[1], snapshots.weights[7]["net.head.weight"])
    average = torch.stack([w["net.head.weight"] for w in snapshots.weights[9:]]).mean(dim=0)
    torch.testing.assert_close(scored[2], average)


def test_a_checkpoint_before_the_start_holds_the_trained_weights() -> None:
    module = _module()
    averaging = TailWeightAveraging(0.5)
    trainer = SimpleNamespace(strategy=SimpleNamespace(root_device=torch.device("cpu")))
    averaging.setup(trainer, module, "fit")  # Lightning's copy of the module is made here
    with torch.no_grad():
        module.net.head.weight.add_(1.0)  # "training"
    checkpoint = {"state_dict": {k: v.clone() for k, v in module.state_dict().items()}}
    averaging.on_save_checkpoint(trainer, module, checkpoint)
    torch.testing.assert_close(checkpoint["state_dict"]["net.head.weight"], module.net.head.weight)
    assert "current_model_state" not in checkpoint


@no_val_loop
def test_averaging_needs_a_finite_budget(tmp_path) -> None:
    class Endless(torch.utils.data.IterableDataset):
        def __iter__(self):
            while True:
                yield torch.randn(6, 1), torch.randn(2, 1)

    with pytest.raises(InvalidParameterError, match="swa_start needs a finite number of"):
        quiet_trainer(tmp_path, callbacks=[TailWeightAveraging(0.5)], max_epochs=1).fit(
            _module(), DataLoader(Endless(), batch_size=8)
        )


@pytest.mark.parametrize("start", [-0.1, 1.0, 1.5])
def test_start_outside_zero_one_is_refused(start) -> None:
    with pytest.raises(InvalidParameterError, match=r"fraction in \[0, 1\)"):
        TailWeightAveraging(start)


def test_estimator_swa_start_averages_and_survives_save_and_load(sine_frame, tmp_path) -> None:
    params = {**FAST, "max_epochs": 3, "learning_rate": 0.02, "validation_size": 0}
    plain = RNNForecaster(seq_len=10, horizon=3, target="y", **params)
    averaged = RNNForecaster(seq_len=10, horizon=3, target="y", swa_start=0.5, **params)
    plain.fit(sine_frame)
    averaged.fit(sine_frame)
    assert not np.allclose(averaged.predict().to_numpy(), plain.predict().to_numpy())
    path = tmp_path / "swa.safetensors"
    averaged.save(path)
    loaded = load(path)
    assert loaded.get_params()["swa_start"] == 0.5
    np.testing.assert_array_equal(loaded.predict().to_numpy(), averaged.predict().to_numpy())


def test_with_validation_the_average_is_kept_not_the_best_epochs_raw_weights() -> None:
    # The best epoch's checkpoint is weights-only: it holds that epoch's raw weights, not
    # the average its val_loss was scored on. Reloading it would throw the average away.
    snapshots = _Snapshots()
    module = _module()
    result = fit_module(
        module,
        _data(),
        _data(),
        max_epochs=3,
        early_stopping_patience=None,
        gradient_clip_val=None,
        progress_bar=False,
        verbose=False,
        trainer_kwargs={"callbacks": [snapshots], "accelerator": "cpu"},
        swa_start=0.5,
    )
    first = 6  # half of 3 epochs x 4 steps
    for name, value in module.state_dict().items():
        expected = torch.stack([w[name] for w in snapshots.weights[first:]]).mean(dim=0)
        torch.testing.assert_close(value, expected)
    assert result.best_epoch is None
    assert np.isfinite([row["val_loss"] for row in result.history]).all()


def test_estimator_swa_start_with_validation_keeps_the_average(sine_frame) -> None:
    params = {**FAST, "max_epochs": 4, "validation_size": 0.2}
    model = RNNForecaster(seq_len=10, horizon=3, target="y", swa_start=0.5, **params)
    model.fit(sine_frame)
    assert model.best_epoch_ is None  # the average, not one epoch's weights
    assert np.isfinite(model.history_["val_loss"]).all()
    assert np.isfinite(model.predict().to_numpy()).all()


@pytest.mark.parametrize("value", [1.0, -0.5, "late"])
def test_estimator_refuses_a_bad_swa_start(sine_frame, value) -> None:
    with pytest.raises(ValueError, match="'swa_start' parameter of RNNForecaster"):
        RNNForecaster(seq_len=10, horizon=3, target="y", swa_start=value, **FAST).fit(sine_frame)
