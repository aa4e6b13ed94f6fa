"""Running a ``lightning.Trainer`` for the estimators: quiet defaults, history, seeding.

The loop, early stopping, checkpointing of the best epoch and gradient clipping are
Lightning's; this module chooses defaults that suit a library call and collects the loss
history. A default fit shows one progress bar (:class:`~forecast.neural.progress.EpochProgressBar`,
on stderr) and nothing else:

* no banners ("GPU available", "TPU available", the litlogger tip, the model summary,
  "`Trainer.fit` stopped"): Lightning's loggers are held at WARNING during the fit, also in
  the processes of a spawning DDP strategy; ``verbose=True`` lets them through;
* no warnings that do not apply to us (``_IGNORED_WARNINGS``, each with its reason); the
  others are shown as Python shows warnings, once per place;
* no ``lightning_logs/`` or checkpoints in the user's folder: Lightning works in a
  temporary directory, unless ``trainer_kwargs`` asks for a logger; a logger gets the
  estimator's parameters as hyperparameters (``hparams``) beside the network's. A fit
  killed outright (``SIGKILL``, the out-of-memory killer) cannot remove its directory;
  the next fit removes those whose process is gone (:func:`_remove_stale_dirs`).

**Interrupts.** Lightning turns Ctrl-C into ``SystemExit(1)`` (and leaves SIGINT ignored
for the rest of the process), and SIGTERM into a ``SIGTERMException``, a ``SystemExit`` with
no code, which ends a program with exit status 0. :func:`fit_module` raises Python's
``KeyboardInterrupt`` and :class:`~forecast.Terminated` (exit status 143) instead, and
restores the SIGINT handler: one place, around ``Trainer.fit``.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import logging
import math
import numbers
import os
import random
import shutil
import signal
import tempfile
import threading
import types
import typing
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint, ProgressBar
from lightning.pytorch.utilities.exceptions import SIGTERMException
from torch.utils.data import DataLoader

from forecast._exceptions import InvalidParameterError, NumericalError, Terminated
from forecast.neural import checkpoints
from forecast.neural.averaging import TailWeightAveraging
from forecast.neural.lightning_internals import trains_in_child_processes
from forecast.neural.network import non_finite_weights
from forecast.neural.progress import EpochProgressBar
from forecast.neural.progress import wanted as progress_wanted

__all__ = ["TrainingResult", "callback_list", "fit_module", "seeded"]

logger = logging.getLogger("forecast")

# Lightning's informational messages ("GPU available: ...", tips) go through these loggers.
_LIGHTNING_LOGGERS = ("lightning.pytorch", "lightning.fabric", "lightning")

# Warnings Lightning raises that do not apply to us, each with the reason it does not:
_IGNORED_WARNINGS = (
    # Batches are gathered by one vectorised index op in the main process; workers would only
    # add process start-up and inter-process copies.
    r".*does not have many workers.*",
    # We log per epoch only, so a short epoch is not a problem.
    r".*smaller than the logging interval.*",
    # Lightning 2.6 calls a torch pytree API that torch 2.13 deprecates: theirs to change,
    # nothing our users can act on.
    r".*isinstance\(treespec, LeafSpec\).*",
    # Our checkpoint folders hold only our checkpoints: a resumed fit finds its own there.
    r".*Checkpoint directory .* exists and is not empty.*",
    # validation_size=0 means "no validation" on purpose: nothing for the user to fix.
    r".*defined a `validation_step` but have no `val_dataloader`.*",
)


class _History(L.Callback):
    """Records the epoch's mean train and validation loss after validation has run.

    Under a spawning strategy (``ddp_spawn``) training runs in child processes, whose
    callback objects are copies: rank 0 also writes the rows to ``path`` (a JSON file in
    our temporary directory) for the main process to read back.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows: list[dict[str, float]] = []
        self._validated_epoch: int | None = None

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.sanity_checking:
            self._validated_epoch = trainer.current_epoch

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        metrics = trainer.callback_metrics
        # An epoch cut short (max_steps) is not validated: its row gets NaN, not the
        # previous epoch's validation loss that callback_metrics still holds.
        validated = self._validated_epoch == trainer.current_epoch
        self.rows.append(
            {
                "epoch": trainer.current_epoch,
                "train_loss": float(metrics.get("train_loss", math.nan)),
                "val_loss": float(metrics.get("val_loss", math.nan)) if validated else math.nan,
            }
        )

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.is_global_zero:
            self.path.write_text(json.dumps(self.rows))

    def state_dict(self) -> dict[str, Any]:  # in a checkpoint, for a resumed fit
        return {"rows": list(self.rows)}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.rows = list(state_dict["rows"])

    def collected(self) -> list[dict[str, float]]:
        """The rows, from this process or, after a spawned run, from rank 0's file."""
        if not self.rows and self.path.is_file():
            return json.loads(self.path.read_text())
        return self.rows


@dataclass
class TrainingResult:
    """What a fit produced besides the weights."""

    history: list[dict[str, float]]  # per epoch: epoch, train_loss, val_loss (scaled units)
    best_epoch: int | None  # epoch whose weights were kept (None: no validation, or averaged)
    stopped_early: bool


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed Python, NumPy and torch for a fit, and restore the caller's generators afterwards.

    The user's own random streams are not disturbed by fitting a model.
    """
    py_state, np_state = random.getstate(), np.random.get_state()  # noqa: NPY002 (the legacy global stream is what we protect)
    env = os.environ.get("PL_GLOBAL_SEED")
    with torch.random.fork_rng(devices=[]):
        L.seed_everything(seed, verbose=False)
        try:
            yield
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)  # noqa: NPY002
            if env is None:
                os.environ.pop("PL_GLOBAL_SEED", None)
            else:
                os.environ["PL_GLOBAL_SEED"] = env


def _silence() -> list[tuple[logging.Logger, int]]:
    """Lightning's loggers to warnings only, and our ignored warnings filtered; returns levels."""
    saved = []
    for name in _LIGHTNING_LOGGERS:
        lg = logging.getLogger(name)
        saved.append((lg, lg.level))
        lg.setLevel(logging.WARNING)
    for pattern in _IGNORED_WARNINGS:
        warnings.filterwarnings("ignore", message=pattern)
    return saved


@contextlib.contextmanager
def _quiet(verbose: bool) -> Iterator[None]:
    saved: list[tuple[logging.Logger, int]] = []
    try:
        with warnings.catch_warnings():
            if verbose:
                for pattern in _IGNORED_WARNINGS:
                    warnings.filterwarnings("ignore", message=pattern)
            else:
                saved = _silence()
            yield
    finally:
        for lg, level in saved:
            lg.setLevel(level)


class _QuietSpawnedProcesses(L.Callback):
    """Makes the processes of a spawning strategy (``ddp_spawn``) as quiet as this one.

    Those processes start afresh (Lightning's loggers at INFO, default warning filters) and
    receive the trainer, with its callbacks, by pickle: unpickling this callback in another
    process silences that process for its short life, before the strategy prints its
    "Initializing distributed" banner. Nothing happens when it is copied in this process.
    """

    def __init__(self) -> None:
        self.pid = os.getpid()

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if os.getpid() != self.pid:
            _silence()


_DIR_PREFIX = "forecast-fit-"
_LOCK = "owner.lock"


@contextlib.contextmanager
def _working_dir() -> Iterator[Path]:
    """A temporary directory for Lightning's files, removed afterwards, even after a kill.

    Removed on exit as any ``TemporaryDirectory`` (errors, Ctrl-C, SIGTERM). Against a kill
    that runs no Python (SIGKILL, the out-of-memory killer), the directory holds a file this
    process keeps locked (``flock``): the kernel releases the lock when the process dies,
    whatever killed it, so the next fit on the machine removes every such directory it can
    lock (:func:`_remove_stale_dirs`). A lock, not a process id in the name: ids are reused,
    and differ between the containers that may share a temporary folder.
    """
    _remove_stale_dirs()
    with tempfile.TemporaryDirectory(prefix=_DIR_PREFIX) as tmp:
        fd = _hold_lock(Path(tmp))
        try:
            yield Path(tmp)
        finally:
            if fd is not None:
                os.close(fd)  # releases the lock


def _hold_lock(folder: Path) -> int | None:
    """Lock a new file in ``folder`` and put it in place as ``_LOCK``; its descriptor.

    Locked under another name first: a clean-up never finds an unlocked ``_LOCK`` of a living
    process. None where locks are not available (Windows, some network file systems): that
    directory is then never taken for stale.
    """
    try:
        import fcntl
    except ImportError:
        return None
    path = folder / (_LOCK + ".new")
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.replace(path, folder / _LOCK)  # the lock belongs to the open file, not the name
    except OSError:
        os.close(fd)
        return None
    return fd


def _remove_stale_dirs() -> None:
    """Remove the working directories of fits whose process died without removing them."""
    try:
        import fcntl
    except ImportError:
        return
    for folder in Path(tempfile.gettempdir()).glob(_DIR_PREFIX + "*"):
        try:
            fd = os.open(folder / _LOCK, os.O_RDWR)
        except OSError:  # no lock (being created, or not ours), or not ours to open
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held: its fit is running
            os.close(fd)
            continue
        try:
            shutil.rmtree(folder, ignore_errors=True)
        finally:
            os.close(fd)


def _fit_or_interrupt(fit: Any) -> None:
    """Run ``fit()`` (``Trainer.fit``); a signal stops it as Python would, not as Lightning does.

    * Ctrl-C: Lightning catches the ``KeyboardInterrupt``, sets SIGINT to be ignored (so that
      a second Ctrl-C cannot cut its clean-up short) and calls ``sys.exit(1)`` inside its
      ``except`` block. The ``KeyboardInterrupt`` is re-raised (it is the ``SystemExit``'s
      ``__context__``), and the caller's SIGINT handler put back: after an interrupted fit,
      Ctrl-C still works in a notebook or a program.
    * SIGTERM: Lightning's handler notes it, and the loop raises ``SIGTERMException`` at the
      next step: raised as :class:`~forecast.Terminated` (exit status 143, not 0). A SIGTERM
      handler of the caller's is called by Lightning's, and may raise first (the command
      line's raises ``Terminated`` at once).
    """
    main_thread = threading.current_thread() is threading.main_thread()
    sigint = signal.getsignal(signal.SIGINT) if main_thread else None
    try:
        fit()
    except SIGTERMException:
        raise Terminated("terminated by SIGTERM during training") from None
    except SystemExit as exc:
        interrupt = exc.__context__
        if isinstance(interrupt, KeyboardInterrupt) and not isinstance(exc, Terminated):
            raise interrupt.with_traceback(interrupt.__traceback__) from None
        raise
    finally:
        if sigint is not None and signal.getsignal(signal.SIGINT) is not sigint:
            signal.signal(signal.SIGINT, sigint)


def _matches(value: Any, annotation: Any) -> bool:
    """Whether ``value`` fits a simple annotation of ``Trainer.__init__`` (others: True).

    Only plain types, ``Optional``, ``Union`` and ``Literal`` are judged; anything else
    (callbacks, loggers, strategies) is left to Lightning, which checks those itself.
    """
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, arg) for arg in typing.get_args(annotation))
    if origin is typing.Literal:
        return value in typing.get_args(annotation)
    if annotation is type(None):
        return value is None
    if annotation is float:
        return isinstance(value, int | float)
    if annotation in (int, bool, str):
        return isinstance(value, annotation)
    return True


def _shown(annotation: Any) -> str:
    """``Optional[int]`` as "an int or None", for messages."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_shown(arg) for arg in typing.get_args(annotation))
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(arg) for arg in typing.get_args(annotation))
    if annotation is type(None):
        return "None"
    name = getattr(annotation, "__name__", str(annotation))
    return f"an {name}" if name[:1] in "aeiou" else f"a {name}"


def _build_trainer(options: dict[str, Any], user: dict[str, Any]) -> L.Trainer:
    """``lightning.Trainer(**options)``; a ``trainer_kwargs`` it cannot take is a parameter
    error, raised before training and naming the key.

    Lightning checks some arguments when the trainer is built (with ``TypeError``,
    ``ValueError`` or its ``MisconfigurationException``), others only when training starts
    (``max_epochs="x"`` fails there with a bare ``AssertionError``): the simple types of
    its signature are checked here first.
    """

    def refuse(problem: str) -> InvalidParameterError:
        return InvalidParameterError(
            f"The 'trainer_kwargs' parameter cannot be passed to lightning.Trainer: {problem}"
        )

    hints = inspect.signature(L.Trainer.__init__).parameters
    for key, value in user.items():
        if key in hints and not _matches(value, hints[key].annotation):
            raise refuse(f"{key}={value!r} is not {_shown(hints[key].annotation)}.")
    accelerator = str(user.get("accelerator", "")).lower()
    if accelerator in ("gpu", "cuda") and not torch.cuda.is_available():
        raise refuse(
            f"accelerator={user['accelerator']!r}, but no GPU is visible to this process "
            "(torch.cuda.is_available() is False: no CUDA device, CUDA_VISIBLE_DEVICES "
            "empty, or a CPU-only torch). Use accelerator='cpu', or 'auto' to use a GPU "
            "when there is one."
        )
    try:
        return L.Trainer(**options)
    except Exception as exc:  # TypeError, ValueError, MisconfigurationException, ...
        if not user:
            raise  # our own options: a bug of ours
        raise refuse(f"{type(exc).__name__}: {' '.join(str(exc).split())}") from exc


def _progress_options(
    module: L.LightningModule, user: dict[str, Any], callbacks: list[L.Callback], show: bool
) -> dict[str, Any]:
    """Our one-bar progress (``EpochProgressBar``) unless the user chose Lightning's.

    A ``ProgressBar`` callback or ``enable_progress_bar`` in ``trainer_kwargs`` means the
    user wants Lightning's bar: then we add none of ours.
    """
    theirs = any(isinstance(cb, ProgressBar) for cb in callbacks)
    if theirs or "enable_progress_bar" in user:
        return {"enable_progress_bar": user.get("enable_progress_bar", theirs)}
    if show and progress_wanted():
        cell = str(getattr(module, "hparams", {}).get("cell", "model"))
        callbacks.append(EpochProgressBar(cell.upper()))
    return {"enable_progress_bar": False}


def _check_finite_weights(module: torch.nn.Module) -> None:
    """Refuse trained weights holding NaN or infinity (the last optimiser step can make them
    so after the last loss was computed, where no loss check sees it)."""
    damaged = non_finite_weights(module)
    if damaged:
        raise NumericalError(
            f"The trained weights {damaged[0]!r} hold NaN or infinite values: the fit diverged "
            "at its last steps. Lower learning_rate, or turn gradient clipping on "
            "(gradient_clip_val=1.0)."
        )


def callback_list(value: Any) -> list[Any]:
    """``trainer_kwargs["callbacks"]`` as a list: Lightning takes one callback or a list."""
    if value is None:
        return []
    return [value] if isinstance(value, L.Callback) else list(value)


def _python_number(value: Any) -> Any:
    """``value`` as the Python number it holds, if it is a NumPy scalar (others as they are)."""
    return value.item() if isinstance(value, np.generic) else value


def _loggable(value: Any) -> Any:
    """``value`` as YAML and TensorBoard can hold it (Lightning skips, with a warning, what not)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, dict):
        return {str(key): _loggable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_loggable(item) for item in value]
    text = repr(value)
    return f"{type(value).__module__}.{type(value).__qualname__}" if " at 0x" in text else text


def fit_module(
    module: L.LightningModule,
    train: DataLoader,
    val: DataLoader | None,
    *,
    max_epochs: int,
    early_stopping_patience: int | None,
    gradient_clip_val: float | None,
    progress_bar: bool,
    verbose: bool,
    trainer_kwargs: dict[str, Any] | None,
    swa_start: float | None = None,
    hparams: dict[str, Any] | None = None,
) -> TrainingResult:
    """Train ``module``; with validation data, stop early and keep the best epoch's weights.

    ``trainer_kwargs`` override the defaults below; their ``callbacks`` are added to ours.
    ``swa_start``: average the weights of every step from that fraction of the run on
    (:class:`~forecast.neural.averaging.TailWeightAveraging`). Validation then scores the average,
    and once the average has begun it is what is kept: the best epoch's checkpoint holds the
    raw weights of that epoch (Lightning's weights-only checkpoints skip the callback that
    would put the average there), so it is not reloaded over the average.
    ``hparams`` go to every logger of the run as hyperparameters, beside the module's own
    (Lightning logs those): the estimator's parameters, with each value that is not a number,
    string or container of them written as its ``repr`` (its class, if the repr is only an
    address).
    """
    # NumPy scalars (a parameter grid over np.arange) as the Python numbers Lightning checks
    # for (it refuses np.int64 where it wants an int, or fails on it mid-run).
    user = {key: _python_number(value) for key, value in (trainer_kwargs or {}).items()}
    if val is not None and user.get("enable_checkpointing") is False:
        # Lightning would refuse our own ModelCheckpoint, naming a callback the user never
        # added: say why there is one.
        raise InvalidParameterError(
            "The 'trainer_kwargs' parameter cannot set enable_checkpointing=False while the "
            "fit validates: the best epoch's weights are kept through a checkpoint in a "
            "temporary folder (removed after the fit). Leave enable_checkpointing out, or "
            "set validation_size=0 to train without validation."
        )
    max_epochs = int(max_epochs)
    if early_stopping_patience is not None:
        early_stopping_patience = int(early_stopping_patience)
    if gradient_clip_val is not None:
        gradient_clip_val = float(gradient_clip_val)
    with _working_dir() as tmp, _quiet(verbose):
        history = _History(tmp / "history.json")
        callbacks: list[L.Callback] = [history, *callback_list(user.pop("callbacks", None))]
        averaging = None if swa_start is None else TailWeightAveraging(swa_start)
        if averaging is not None:
            callbacks.append(averaging)
        checkpoint = None
        early = None
        resumable = checkpoints.current()  # with checkpointing(folder): neural/checkpoints.py
        saves = None if resumable is None else resumable.next_fit()
        if saves is not None:
            callbacks += saves.callbacks()
        if val is not None:
            checkpoint = ModelCheckpoint(
                # A folder of its own (it warns if not empty); a resumable fit's outlives it.
                dirpath=tmp / "checkpoints" if saves is None else saves.best_dir,
                filename="best",
                monitor="val_loss",
                mode="min",
                save_top_k=1,
                save_weights_only=True,
                save_on_train_epoch_end=False,
            )
            callbacks.append(checkpoint)
            if early_stopping_patience is not None:
                # Checked after validation, not at the end of a training epoch: a run cut
                # short by max_steps may end an epoch before validation has produced a loss.
                early = EarlyStopping(
                    monitor="val_loss",
                    mode="min",
                    patience=early_stopping_patience,
                    check_on_train_epoch_end=False,
                )
                callbacks.append(early)
        options: dict[str, Any] = {
            "max_epochs": max_epochs,
            "accelerator": "auto",
            "devices": 1,
            "gradient_clip_val": gradient_clip_val,
            "logger": False,
            "enable_checkpointing": checkpoint is not None or saves is not None,
            "enable_model_summary": verbose,
            "num_sanity_val_steps": 0,
            # Lightning's working folder, in our temporary directory: nothing is left in the
            # user's folder. A logger asked for keeps Lightning's default (./lightning_logs)
            # unless they chose where, so that its logs outlive the fit.
            "default_root_dir": tmp if user.get("logger") in (None, False) else None,
            **_progress_options(module, user, callbacks, progress_bar),
        }
        options.update(user)
        options["callbacks"] = callbacks
        trainer = _build_trainer(options, user)
        for run_logger in trainer.loggers if hparams else ():
            run_logger.log_hyperparams(_loggable(hparams))
        in_child_processes = trains_in_child_processes(trainer)
        if not verbose and in_child_processes:
            # Added only where processes are spawned: Lightning calls every hook of every
            # callback at every step (~30 us a step for a callback that has none).
            trainer.callbacks.append(_QuietSpawnedProcesses())  # type: ignore[attr-defined]
        if averaging is not None and val is not None and in_child_processes:
            raise InvalidParameterError(
                "swa_start with a validation set cannot run under a strategy that trains in "
                "new processes (ddp_spawn, ddp_fork): this process would not learn whether the "
                "average was taken, and would put the best epoch's raw weights over it. Use "
                "strategy='ddp', or validation_size=0."
            )
        resume = None if saves is None else saves.resume_from()
        if resume is not None:
            logger.info("resuming the fit from %s", resume)
        _fit_or_interrupt(
            lambda: trainer.fit(
                module, train_dataloaders=train, val_dataloaders=val, ckpt_path=resume
            )
        )

        best_epoch = None
        kept_average = averaging is not None and averaging.averaged_steps > 0
        if checkpoint is not None and checkpoint.best_model_path and not kept_average:
            state = torch.load(checkpoint.best_model_path, map_location="cpu", weights_only=True)
            module.load_state_dict(state["state_dict"])
            best_epoch = int(state["epoch"])
        rows = history.collected()
        if saves is not None:
            saves.clear()  # finished: a rerun starts afresh
    _check_finite_weights(module)
    stopped = early is not None and early.stopped_epoch > 0
    if early is not None and stopped:
        logger.info(
            "Early stopping at epoch %d; keeping %s.",
            early.stopped_epoch,
            "the averaged weights" if kept_average else f"the weights of epoch {best_epoch}",
        )
    return TrainingResult(history=rows, best_epoch=best_epoch, stopped_early=stopped)
