"""Where the memory of a big ``fit`` goes: resident memory at each Lightning hook.

The panel and model of ``panel_scale.memory_case`` (1,000 series x 5,000 steps); after a
small warm-up fit, the big fit runs with a callback that prints, at every hook of the
first steps, the resident memory (VmRSS) and the peak since the previous line (VmHWM,
reset after each line), both in MB above the resident memory before ``fit``. Linux only
(``/proc``).

    .venv/bin/python benchmarks/memory_phases.py
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any

import lightning as L
import torch
from sklearn.base import clone

sys.path.insert(0, str(Path(__file__).resolve().parent))

from panel_scale import memory_case
from peak_memory import reset_peak, status_mb

SHOWN_STEPS = 3


class MemoryProbe(L.Callback):
    """Prints memory at each hook of the first ``SHOWN_STEPS`` training steps and at the end."""

    def __init__(self, baseline_mb: float) -> None:
        self.baseline_mb = baseline_mb
        self.steps = 0

    def _mark(self, hook: str) -> None:
        rss = status_mb("VmRSS") - self.baseline_mb
        peak = status_mb("VmHWM") - self.baseline_mb
        print(f"{hook:26s} rss {rss:6.1f} MB   peak since last line {peak:6.1f} MB")
        reset_peak()

    def __getattribute__(self, name: str) -> Any:
        if name.startswith("on_") and "checkpoint" not in name and "exception" not in name:

            def hook(*args: Any, **kwargs: Any) -> None:
                if name == "on_train_batch_end":
                    self.steps += 1
                per_step = "batch" in name or "before_" in name or "after_" in name
                if per_step and self.steps >= SHOWN_STEPS:
                    return
                self._mark(name)

            return hook
        return object.__getattribute__(self, name)


def main() -> None:
    torch.set_num_threads(2)
    warnings.simplefilter("ignore")
    df, model = memory_case()
    clone(model).fit(df[df["unique_id"] < 10])  # Lightning's lazy imports, allocator pools
    reset_peak()
    baseline = status_mb("VmRSS")
    budget = dict(model.trainer_kwargs)
    model.set_params(trainer_kwargs={**budget, "callbacks": [MemoryProbe(baseline)]})
    model.fit(df)
    print(f"after fit: rss {status_mb('VmRSS') - baseline:.1f} MB above the start")


if __name__ == "__main__":
    main()
