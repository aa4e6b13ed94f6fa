"""The one place forecast relies on a Lightning internal: a fast path for its hook name.

**What.** Lightning's Trainer sets the private attribute ``_current_fx_name`` on the
LightningModule before and after each of the ~22 hooks it calls per training step: 44
assignments a step. ``torch.nn.Module.__setattr__`` checks every assignment against the
module's parameters, buffers and submodules. :class:`FastHookName` stores this one name
directly in the instance ``__dict__`` (where ``nn.Module`` would put a plain string too,
since it is never a parameter, buffer or submodule) and leaves every other assignment to
``nn.Module``.

**Why.** Measured on this project's 2-core build machine (``benchmarks/throughput.py``,
session of 2026-11-29): ~0.4 ms a training step, 2-3 % of a hidden-16 LSTM's step, part of
what keeps a whole ``fit`` within 0.9x of a plain PyTorch loop. Lightning has no public
switch for it.

**Checked against** Lightning :data:`CHECKED_LIGHTNING` (``tests/test_module.py`` fails if
Lightning stops setting the name during a fit, which would make this dead code, or if the
fast path ever stores anything but that name). If Lightning renames or removes the
attribute, the mixin is inert (every assignment goes to ``nn.Module`` as before): delete it.
"""

from __future__ import annotations

from typing import Any

from torch import nn

__all__ = ["CHECKED_LIGHTNING", "HOOK_NAME", "FastHookName"]

CHECKED_LIGHTNING = "2.6.6"
HOOK_NAME = "_current_fx_name"  # lightning.pytorch.core.module.LightningModule's


class FastHookName(nn.Module):
    """Mixin for a LightningModule: ``_current_fx_name`` assigned without nn.Module's checks."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == HOOK_NAME:
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)
