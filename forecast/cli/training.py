"""``forecast fit --init-from OLD.safetensors`` and ``--checkpoint-dir DIR``.

``--init-from``: a warm start (:mod:`forecast.forecasters._warm_start`). The estimator
built from the flags and config (the parameters they do not give are the saved model's)
starts from the fitted state of the model file (its weights blended with a fresh start
as the saved ``warm_start_shrink``, or ``--warm-start-shrink``, says), which must be of
the same class; any
difference that changes the network or what its inputs
mean is refused before training, naming it (``hidden_size: 8 -> 16``). The model written
to ``--out`` has ``warm_start=True``.

``--checkpoint-dir``: every epoch's end is checkpointed there
(:mod:`forecast.neural.checkpoints`); the same command run again after a kill (``kill
-9``, a lost machine) resumes from the last checkpoint and finishes with the weights an
uninterrupted run would have had (bit for bit on CPU with a fixed ``--random-state`` under
an epoch budget; close, not equal, under ``max_steps``: see :mod:`forecast.neural.checkpoints`). The
folder remembers which run it holds (``run.json``: the estimator's class and parameters,
a hash of the data (of a folder of parts: each file's name, size and modification
time), the ``--init-from`` file's): another command's run is refused, naming
what differs, rather than resumed into the wrong model. After the model is written, the
checkpoints and ``run.json`` are removed.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forecast._exceptions import UsageError

if TYPE_CHECKING:
    import pandas as pd

    from forecast.data.parts import Parts
    from forecast.forecasters.base import BaseForecaster

__all__ = ["OPTIONS", "add_flags", "checkpointed", "init_from"]

OPTIONS = ("init_from", "checkpoint_dir")
_RUN = "run.json"


def add_flags(parser: argparse.ArgumentParser) -> None:
    """The flags of ``forecast fit``."""
    parser.add_argument(
        "--init-from", metavar="MODEL", default=argparse.SUPPRESS,
        help="warm start: continue training this saved model (same class and network)",
    )  # fmt: skip
    parser.add_argument(
        "--checkpoint-dir", metavar="DIR", default=argparse.SUPPRESS,
        help="checkpoint each epoch here; rerunning the command after a kill resumes",
    )  # fmt: skip


def init_from(model: BaseForecaster, path: str | None, args: argparse.Namespace) -> BaseForecaster:
    """``model`` (unfitted, from the flags) set to continue from the fitted model at ``path``.

    The parameters not given (as flags or in ``[model]`` of the config) are the saved
    model's, so that ``--init-from OLD --data new.csv --max-epochs 5`` is a whole command.
    """
    if path is None:
        return model
    from forecast.forecasters.builtin import load

    old = load(path)
    if type(old) is not type(model):
        raise UsageError(
            f"--init-from '{path}' holds a {type(old).__name__}, but the flags build a "
            f"{type(model).__name__}: a warm start continues the same estimator. Pass "
            f"--estimator for {type(old).__name__}, or leave --init-from out."
        )
    if "warm_start" not in model.get_params():
        raise UsageError(
            f"--init-from: {type(model).__name__} cannot be warm-started (it has no "
            "'warm_start' parameter). Leave --init-from out."
        )
    given = {k[len("param.") :] for k in vars(args) if k.startswith("param.")}
    given |= set((args.config_data or {}).get("model", {})) | {"progress_bar"}
    current = model.get_params(deep=False)
    model.set_params(
        **{**old.get_params(deep=False), **{k: current[k] for k in given if k in current}}
    )
    model.set_params(warm_start=True)
    fitted = {  # the fitted state; not the old model's backtest score
        k: v
        for k, v in vars(old).items()
        if k.endswith("_") and not k.startswith("_") and k != "backtest_"
    }
    for name, value in fitted.items():
        setattr(model, name, value)
    return model


def _fingerprint(
    model: BaseForecaster, df: pd.DataFrame | Parts, init: str | None
) -> dict[str, Any]:
    import pandas as pd

    from forecast.data.parts import Parts

    if isinstance(df, Parts):  # not read here: each file's name, size and time
        data = hashlib.sha256(json.dumps(df.signature()).encode())
    else:
        data = hashlib.sha256(pd.util.hash_pandas_object(df, index=True).to_numpy().tobytes())
    init_hash = None
    if init is not None:
        init_hash = hashlib.sha256(Path(init).read_bytes()).hexdigest()
    params = {k: repr(v) for k, v in sorted(model.get_params(deep=False).items())}
    params.pop("progress_bar", None)  # a terminal or not: the same run
    return {
        "class": type(model).__name__,
        "params": params,
        "data": data.hexdigest(),
        "init_from": init_hash,
    }


def _differences(saved: dict[str, Any], now: dict[str, Any]) -> list[str]:
    found = []
    if saved.get("class") != now["class"]:
        found.append(f"estimator {saved.get('class')} -> {now['class']}")
    old, new = saved.get("params", {}), now["params"]
    found += [
        f"{k}: {old.get(k, '(none)')} -> {new.get(k, '(none)')}"
        for k in sorted(set(old) | set(new))
        if old.get(k) != new.get(k)
    ]
    if saved.get("data") != now["data"]:
        found.append("the data (its rows or values)")
    if saved.get("init_from") != now["init_from"]:
        found.append("the --init-from model")
    return found


@contextlib.contextmanager
def checkpointed(
    folder: str | None, model: BaseForecaster, df: pd.DataFrame | Parts, init: str | None
) -> Iterator[None]:
    """Fits inside checkpoint to ``folder`` (None: nothing) and resume its run; the run's
    files are removed when the block finishes without an error."""
    if folder is None:
        yield
        return
    from forecast.neural.checkpoints import checkpointing

    path = Path(folder)
    run = path / _RUN
    now = _fingerprint(model, df, init)
    if run.is_file():
        try:
            saved = json.loads(run.read_text())
        except (OSError, ValueError) as exc:
            raise UsageError(f"--checkpoint-dir '{folder}': cannot read {_RUN}: {exc}.") from exc
        different = _differences(saved, now)
        if different:
            raise UsageError(
                f"--checkpoint-dir '{folder}' holds the checkpoints of another run, which "
                f"differs in {'; '.join(different)}. Rerun that command to finish it, or "
                "use another (or an empty) folder."
            )
    else:
        from forecast.io.atomic import atomic_write_bytes

        path.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(run, json.dumps(now, indent=2).encode())
    with checkpointing(path):
        yield
    run.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        path.rmdir()  # only if empty: nothing but ours is removed
