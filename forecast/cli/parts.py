"""``forecast fit --data parts/`` under DDP: each rank reads its own Parquet parts.

When ``--trainer-kwargs`` asks for several processes (an int ``"devices"`` above 1, or a
``"strategy"`` whose name starts with ``ddp``) and ``--data`` is a folder, ``fit`` does not
read the folder into one frame: it passes ``forecast.parts(folder)`` to the estimator
(``forecast/forecasters/_partitioned.py``), whose ranks each read their own parts. Under
``"ddp"`` Lightning runs this command again in each extra process; only global rank 0 logs
what each rank read and writes ``--out``.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from forecast._exceptions import UsageError

__all__ = ["fit_parts", "wants_parts"]

logger = logging.getLogger("forecast")


def wants_parts(model: Any, data: Any) -> bool:
    """Whether ``fit`` should read ``data`` (a folder) rank by rank: several processes asked."""
    if not os.path.isdir(str(data)):
        return False
    kwargs = model.get_params().get("trainer_kwargs") or {}
    devices, strategy = kwargs.get("devices", 1), str(kwargs.get("strategy", ""))
    several = isinstance(devices, int) and devices > 1
    return several or strategy.startswith("ddp")


def fit_parts(model: Any, data: Any, out: Any, checkpoint_dir: Any) -> bool:
    """Fit ``model`` on the parts under ``data``; whether this process should save it."""
    import torch

    from forecast.data.parts import parts

    if checkpoint_dir is not None:
        raise UsageError(
            "--checkpoint-dir cannot resume a fit from Parquet parts on several processes yet; "
            "leave it out, or fit on one process."
        )
    start = time.perf_counter()
    source = parts(data)
    model.fit(source)
    distributed = torch.distributed.is_available() and torch.distributed.is_initialized()
    if distributed and torch.distributed.get_rank() != 0:
        return False
    for read in source.reads:
        logger.info(
            "rank %d read %d rows of %d series from %d parts (peak RSS %.0f MiB)",
            read.rank,
            read.rows,
            len(read.ids),
            len(read.files),
            read.peak_rss / 2**20,
        )
    logger.info(
        "fitted %s on %d series from the parts of %s in %.1f s",
        type(model).__name__,
        len(model.series_ids_),
        data,
        time.perf_counter() - start,
    )
    return True
