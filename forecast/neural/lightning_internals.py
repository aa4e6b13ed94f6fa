"""The two places forecast relies on Lightning internals, isolated, measured and tested.

Both were checked against Lightning :data:`CHECKED_LIGHTNING`; ``tests/test_module.py`` and
``tests/test_estimator.py`` fail if Lightning changes under them.

1. A fast path for the hook name (:class:`FastHookName`).
2. Whether a fit runs in processes of its own (:func:`trains_in_child_processes`).

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
``_MultiProcessingLauncher`` is the launcher that spawns or forks. If it is renamed, the
import fails loudly here, and the ``ddp_spawn`` tests fail.
"""

from __future__ import annotations

from typing import Any

import lightning as L
from torch import nn

__all__ = ["CHECKED_LIGHTNING", "HOOK_NAME", "FastHookName", "trains_in_child_processes"]

CHECKED_LIGHTNING = "2.6.6"
HOOK_NAME = "_current_fx_name"  # lightning.pytorch.core.module.LightningModule's


class FastHookName(nn.Module):
    """Mixin for a LightningModule: ``_current_fx_name`` assigned without nn.Module's checks."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == HOOK_NAME:
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)


def trains_in_child_processes(trainer: L.Trainer) -> bool:
    """Whether the fit runs in processes of its own (``ddp_spawn``, ``ddp_fork``), whose
    callbacks' state never comes back to this one."""
    from lightning.pytorch.strategies.launchers.multiprocessing import _MultiProcessingLauncher

    return isinstance(getattr(trainer.strategy, "launcher", None), _MultiProcessingLauncher)
