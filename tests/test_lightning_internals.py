"""The Lightning internals forecast relies on (``forecast/neural/lightning_internals.py``).

Each test here fails the day Lightning renames, removes or reshapes one of them, and names
it; the guards turn a missing one at run time into ``LightningInternalsError`` naming the
installed Lightning. (That Lightning still *sets* the hook name during a fit is
``tests/test_module.py``'s ``test_lightning_still_sets_the_hook_name_that_the_fast_path_serves``.)
"""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path

import lightning as L
import pytest
import torch
from conftest import no_val_loop, quiet_trainer
from lightning.pytorch.callbacks import WeightAveraging
from torch.optim.swa_utils import AveragedModel
from torch.utils.data import DataLoader, TensorDataset

from forecast import RecurrentModule
from forecast.neural import lightning_internals
from forecast.neural.averaging import TailWeightAveraging
from forecast.neural.lightning_internals import (
    AVERAGE,
    AVERAGE_DEVICE,
    FIRST_LIGHTNING,
    HOOK_NAME,
    LightningInternalsError,
    average_on,
    averaged_model,
    trains_in_child_processes,
)

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

LAUNCHERS = "lightning.pytorch.strategies.launchers.multiprocessing"


def test_the_first_lightning_named_in_errors_is_pyprojects_floor() -> None:
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    dependencies = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    assert f"lightning>={FIRST_LIGHTNING}" in dependencies


def test_a_lightning_module_starts_with_the_hook_name_as_a_plain_attribute() -> None:
    module = L.LightningModule()
    assert HOOK_NAME in vars(module)  # set in __init__, so FastHookName's store is the one
    assert vars(module)[HOOK_NAME] is None


def test_weight_averaging_has_the_constructor_and_hook_our_subclass_uses() -> None:
    init = inspect.signature(WeightAveraging.__init__).parameters
    assert init["device"].default is None  # the device we fill in when the fit starts
    assert list(inspect.signature(WeightAveraging.should_update).parameters) == [
        "self",
        "step_idx",
        "epoch_idx",
    ]
    callback = TailWeightAveraging(0.5)
    assert vars(callback)[AVERAGE] is None  # no average before the fit
    assert vars(callback)[AVERAGE_DEVICE] is None
    assert averaged_model(callback) is None


@no_val_loop
def test_the_average_is_where_we_read_it_after_a_fit(tmp_path) -> None:
    torch.manual_seed(0)
    module = RecurrentModule(input_size=1, hidden_size=4, horizon=2)
    X, y = torch.randn(64, 6, 1), torch.randn(64, 2, 1)
    callback = TailWeightAveraging(0.5)
    quiet_trainer(tmp_path, max_steps=4, callbacks=[callback]).fit(
        module, DataLoader(TensorDataset(X, y), batch_size=16)
    )
    model = averaged_model(callback)
    assert isinstance(model, AveragedModel)
    assert int(model.n_averaged) == 2  # steps 2 and 3 of 0..3
    assert vars(callback)[AVERAGE_DEVICE] == torch.device("cpu")  # set by average_on


def test_average_on_keeps_a_device_the_callback_was_given() -> None:
    callback = WeightAveraging(device="meta")
    average_on(callback, torch.device("cpu"))
    assert vars(callback)[AVERAGE_DEVICE] == torch.device("meta")


@pytest.mark.parametrize(
    ("strategy", "devices", "in_children"),
    [("auto", 1, False), ("ddp", 2, False), ("ddp_spawn", 2, True), ("ddp_fork", 2, True)],
)
def test_the_launcher_tells_which_strategies_train_in_child_processes(
    tmp_path, strategy, devices, in_children
) -> None:
    trainer = quiet_trainer(tmp_path, strategy=strategy, devices=devices)
    assert trains_in_child_processes(trainer) is in_children


def test_a_lightning_without_the_spawning_launcher_is_named(tmp_path, monkeypatch) -> None:
    monkeypatch.delattr(sys.modules[LAUNCHERS], "_MultiProcessingLauncher")
    trainer = quiet_trainer(tmp_path, strategy="ddp_spawn", devices=2)
    message = (
        rf"private {re.escape(LAUNCHERS)}\._MultiProcessingLauncher, which the installed "
        rf"Lightning {re.escape(L.__version__)} does not have"
    )
    with pytest.raises(LightningInternalsError, match=message):
        trains_in_child_processes(trainer)
    assert not trains_in_child_processes(quiet_trainer(tmp_path))  # one process: not needed


@pytest.mark.parametrize("name", [AVERAGE, AVERAGE_DEVICE])
def test_a_weight_averaging_without_its_private_state_is_named(name) -> None:
    callback = TailWeightAveraging(0.5)
    delattr(callback, name)
    with pytest.raises(LightningInternalsError, match=rf"WeightAveraging\.{name}, which"):
        averaged_model(callback) if name == AVERAGE else average_on(callback, torch.device("cpu"))
    assert "pip install 'lightning>=" in str(LightningInternalsError(name))


def test_the_error_is_a_bug_report_not_a_data_error() -> None:
    from forecast._exceptions import ForecastError

    # The command line answers ForecastError with exit status 2 (the user's input); a
    # Lightning that lacks what we rely on is ours to fix or pin: status 1.
    assert not issubclass(lightning_internals.LightningInternalsError, ForecastError)
