"""Every Lightning internal forecast relies on, in this one module, measured and tested.

Checked against Lightning 2.6.0 (our floor, ``make test-floors``) to :data:`CHECKED_LIGHTNING`
(``make test``); ``tests/test_lightning_internals.py`` asserts that each still exists with the
shape used here, and fails loudly the day Lightning changes one. At run time a missing one is
a :class:`LightningInternalsError` naming the installed Lightning and the versions checked,
never a silently different behaviour.

1. ``LightningModule._current_fx_name``: a fast path for the hook name (:class:`FastHookName`).
2. ``_MultiProcessingLauncher``: whether a fit runs in processes of its own
   (:func:`trains_in_child_processes`).
3. ``WeightAveraging._average_model`` and ``._device``: the running average and the device it
   lives on (:func:`averaged_model`, :func:`average_on`).

**1. What.** Lightning's Trainer sets the private attribute ``_current_fx_name`` on the
LightningModule before and after each of the ~22 hooks it calls per training step: 44
assignments a step. ``torch.nn.Module.__setattr__`` checks every assignment against the
module's parameters, buffers and submodules. :class:`FastHookName` stores this one name
directly in the instance ``__dict__`` (where ``nn.Module`` would put a plain string too,
since it is never a parameter, buffer or submodule) and leaves every other assignment to
``nn.Module``.

**1. Why.** Measured on this project's 2-core build machine (``benchmarks/throughput.py``,
session of 2026-11-29): ~0.4 ms a training step, 2-3 % of a hidden-16 LSTM's step, part of
what keeps a whole ``fit`` within 0.9x of a plain PyTorch loop. Lightning has no public
switch for it.

**1. If Lightning changes:** ``tests/test_module.py`` fails if Lightning stops setting the
name during a fit (this would be dead code) or if the fast path stores anything but that
name. Renamed or removed, the mixin is inert (every assignment goes to ``nn.Module``).

**2. What and why.** ``ddp_spawn`` and ``ddp_fork`` train in child processes, whose
callbacks' state (the history, the weight average) never comes back; the estimators must
know before training. Lightning has no public flag for it: its private
``_MultiProcessingLauncher`` is the launcher that spawns or forks. It is imported only when
the strategy has a launcher at all (a one-process fit has none, and needs no private name);
Lightning imports that module with itself, so the import costs nothing.

**3. What and why.** :class:`~forecast.neural.averaging.TailWeightAveraging` reads how many
steps Lightning's average holds (``_average_model.n_averaged``) and sets the device of the
average (``_device``) once the strategy knows it, after the callback was built: Lightning
takes the device only as a constructor argument.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import lightning as L
import torch
from torch import nn

if TYPE_CHECKING:
    from lightning.pytorch.callbacks import WeightAveraging
    from torch.optim.swa_utils import AveragedModel

__all__ = [
    "CHECKED_LIGHTNING",
    "FIRST_LIGHTNING",
    "HOOK_NAME",
    "FastHookName",
    "LightningInternalsError",
    "average_on",
    "averaged_model",
    "trains_in_child_processes",
]

FIRST_LIGHTNING = "2.6.0"  # pyproject's floor: WeightAveraging arrived in 2.6.0
CHECKED_LIGHTNING = "2.6.6"  # the newest release the test suite has run on
HOOK_NAME = "_current_fx_name"  # lightning.pytorch.core.module.LightningModule's
AVERAGE = "_average_model"  # lightning.pytorch.callbacks.WeightAveraging's AveragedModel
AVERAGE_DEVICE = "_device"  # ... and the device given to its constructor (None: the module's)


class LightningInternalsError(RuntimeError):
    """The installed Lightning lacks an internal that forecast relies on.

    Not a :class:`~forecast._exceptions.ForecastError`: nothing in the user's data or
    parameters causes it, and the command line reports it as a bug (exit status 1).
    """

    def __init__(self, name: str) -> None:
        super().__init__(
            f"forecast relies on Lightning's private {name}, which the installed Lightning "
            f"{L.__version__} does not have (forecast was checked with Lightning "
            f"{FIRST_LIGHTNING} to {CHECKED_LIGHTNING}). Install a Lightning in that range "
            f"(pip install 'lightning>={FIRST_LIGHTNING},<={CHECKED_LIGHTNING}') and report "
            "the version that broke it to the forecast developers."
        )


class FastHookName(nn.Module):
    """Mixin for a LightningModule: ``_current_fx_name`` assigned without nn.Module's checks."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == HOOK_NAME:
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)


def trains_in_child_processes(trainer: L.Trainer) -> bool:
    """Whether the fit runs in processes of its own (``ddp_spawn``, ``ddp_fork``), whose
    callbacks' state never comes back to this one.

    Raises
    ------
    LightningInternalsError
        The strategy has a launcher, and Lightning no longer has ``_MultiProcessingLauncher``.
    """
    launcher = trainer.strategy.launcher
    if launcher is None:  # one process, no launcher: the usual fit needs no private name
        return False
    try:
        from lightning.pytorch.strategies.launchers.multiprocessing import (
            _MultiProcessingLauncher,
        )
    except ImportError as err:
        raise LightningInternalsError(
            "lightning.pytorch.strategies.launchers.multiprocessing._MultiProcessingLauncher"
        ) from err
    return isinstance(launcher, _MultiProcessingLauncher)


def _private(callback: WeightAveraging, name: str) -> Any:
    try:
        return vars(callback)[name]
    except KeyError:
        raise LightningInternalsError(f"WeightAveraging.{name}") from None


def averaged_model(callback: WeightAveraging) -> AveragedModel | None:
    """Lightning's running average of the weights; ``None`` before the fit has begun.

    Raises
    ------
    LightningInternalsError
        Lightning's ``WeightAveraging`` no longer keeps it as ``_average_model``.
    """
    model: AveragedModel | None = _private(callback, AVERAGE)
    return model


def average_on(callback: WeightAveraging, device: torch.device) -> None:
    """Keep the average on ``device``, unless the callback was given a device of its own.

    Raises
    ------
    LightningInternalsError
        Lightning's ``WeightAveraging`` no longer keeps its device as ``_device``.
    """
    if _private(callback, AVERAGE_DEVICE) is None:
        setattr(callback, AVERAGE_DEVICE, device)
