"""``forecast fit --data parts/`` under DDP: each rank reads its own Parquet parts.

When ``--trainer-kwargs`` asks for several processes (an int ``"devices"`` above 1, or a
``"strategy"`` whose name starts with ``ddp``) and ``--data`` is a folder, ``fit`` does not
read the folder into one frame: it passes ``forecast.parts(folder)`` to the estimator
(``forecast/forecasters/_partitioned.py``), whose ranks each read their own parts. Under
``"ddp"`` Lightning runs this command again in each extra process; only global rank 0 logs
what each rank read and writes ``--out``. ``--checkpoint-dir`` and ``--init-from`` work as for
a frame.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

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


def fit_parts(model: Any, data: Any, out: Any, checkpoint_dir: Any, init: Any = None) -> bool:
    """Fit ``model`` on the parts under ``data``; whether this process should save it.

    With ``checkpoint_dir`` (``--checkpoint-dir``), as a fit of one frame
    (:func:`forecast.cli.training.checkpointed`): rank 0 writes each epoch's checkpoint, every
    rank resumes from it; the run is recognised by the parts' names, sizes and times.
    """
    import torch

    from forecast.cli.training import checkpointed
    from forecast.data.parts import parts

    start = time.perf_counter()
    source = parts(data)
    with checkpointed(checkpoint_dir, model, source, init):
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
