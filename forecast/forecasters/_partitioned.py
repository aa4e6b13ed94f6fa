"""``fit`` from Parquet parts: one global model under Lightning's DDP, each rank reading its own.

``model.fit(forecast.parts("dir/"))`` with ``trainer_kwargs={"devices": 2, "strategy":
"ddp_spawn", "accelerator": "cpu"}`` (or ``"ddp"``, ``torchrun``, SLURM: any launch Lightning
knows) trains the same network a single process would train on the whole panel, while no
process holds more than its own parts. How:

**Before training, in the calling process** (:func:`fit_parts`): the parameters are checked,
a sample of the first part (one Parquet batch) gives the columns and so the network's
sizes, and :meth:`forecast.data.parts.Parts.scan` reads each part's id column alone: the
series, their lengths (hence each series' number of training windows) and the check that
no series is in two parts. Nothing else of the data is read here, except with
``missing="mask"`` and conformal intervals, which add a pass over the parts (one at a time).

**In each rank, before the first step** (:class:`_Shard`): the rank reads its parts
(:func:`forecast.data.parts.assign`, the same greedy balance in every rank) and converts
them as ``fit`` converts a frame. What a single process fits across the whole panel is
merged over ranks with ``torch.distributed.all_gather_object``; the rest is per series and
so local, since a series is whole in one part:

* per-series scalers (``"standard"``, ``"minmax"``), per-window ones, last windows: local;
* ``StaticScaler`` (mean and std of static covariates across series): fitted on the
  gathered static values, so every rank scales with the whole panel's statistics;
* the series ids and their canonical order, the frequency (inferred per rank, must agree),
  the columns (must agree): gathered and checked; the window counts come from the scan;
* the network's sizes (features, targets, covariates): from the sample, checked against
  every rank's columns.

**The sampler shards series, not windows.** A single process draws a permutation of all N
windows and cuts it into batches of B. Each rank draws the same permutation (same keys,
:class:`~forecast.data.permutation.LazyPermutation`) and, from each batch of B global
windows, keeps those of its own series. Its loss is the mean over its n_r windows times
``n_r * R / B`` (R ranks): DDP averages the R gradients, so the step's gradient is the
mean over all B windows, the single process's gradient up to float summation order. Every
rank makes ``ceil(N / B)`` steps an epoch (one with no window of its own computes a zero
loss on a zero window), so ``max_steps`` and ``max_epochs`` mean what they mean in one
process. The keys are drawn as the single process draws them (its global torch generator
right after the network is built, one ``DataLoader`` seed per epoch, then the keys), so
with the same ``random_state`` and no dropout the two fits agree to float rounding
(``tests/test_partitioned.py``).

**After training** every rank holds the gathered per-series state (scalers, last windows,
static values, ids, cutoffs): under ``torchrun`` a script runs on every rank, and each ends
with a normal fitted estimator. Under ``ddp_spawn`` rank 0 writes it to a temporary file
for the calling process. A ``ForecastError`` in any rank (a NaN, a gap, a short series) is
raised, as itself, in every rank and in the calling process.

A validation tail is sharded the same way: each rank's validation windows are its series'
tails, batched in the single process's order, and the epoch's validation loss is summed over
ranks (:class:`~forecast.neural.sharded.WeightedModule`), so early stopping and the kept
epoch are decided as in one process. ``target_transform``, ``warm_start``, checkpoints,
conformal intervals and ``missing="mask"``: see
:mod:`forecast.forecasters._partitioned_options`.
"""

from __future__ import annotations

import contextlib
import copy
import math
import pickle
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar, cast

import numpy as np
import pandas as pd
import torch

from forecast._exceptions import DataError, DataTypeError, ForecastError
from forecast._validation import fit_seed
from forecast._warnings import warn
from forecast.data.conventions import default_columns
from forecast.data.panel import Panel, _canonical_order
from forecast.data.parts import Parts, RankRead, assign, read_parts, read_sample
from forecast.data.permutation import ROUNDS, LazyPermutation
from forecast.data.scaling import SeriesScaler, StaticScaler
from forecast.data.windowing import WindowDataset, WindowIndex, last_windows
from forecast.forecasters._calibration import check_calibration_rows
from forecast.forecasters._fit_windows import (
    fit_windows,
    min_training_rows,
    partial_horizons,
    too_short,
)
from forecast.forecasters._masking import masked_training, restored_scaler
from forecast.forecasters._partitioned_mask import MaskPlan, mask_plan, series_cumulative
from forecast.forecasters._transformed import (
    calendar_columns,
    check_fit_domain,
    check_transform,
    transform_of,
    transformed_targets,
)
from forecast.forecasters._warm_start import check_warm_start, start_from, warm_state
from forecast.neural.loss_names import RELATIVE_LOSSES
from forecast.protocol import TrainedForecaster

__all__ = ["fit_parts", "refuse_unsupported"]

_SAMPLE_ROWS = 4096  # rows of the first part read to learn the columns
_Model = TypeVar("_Model", bound=Any)  # the forecaster fitted (and returned)


def _distributed() -> tuple[int, int]:
    """(rank, world size) of this process; (0, 1) outside a process group."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def _gather(value: Any, world: int) -> list[Any]:
    if world == 1:
        return [value]
    out: list[Any] = [None] * world
    torch.distributed.all_gather_object(out, value)
    return out


def _memory(field: str) -> int:
    """``VmRSS`` (resident) or ``VmHWM`` (its peak) of this process in bytes; Linux's
    ``/proc`` (``getrusage``'s peak elsewhere: it survives ``exec``, so a spawned rank would
    report its parent's peak)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024  # kB
    except OSError:
        pass
    try:
        import resource  # Unix only
    except ImportError:  # Windows: not measured
        return 0
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


class _Shard:
    """One rank's part of the panel, read on first use inside the rank (after the process
    group is up), and the state merged over ranks. Pickled to spawned ranks unread."""

    def __init__(
        self,
        model: Any,
        source: Parts,
        order: np.ndarray,
        rng_state: torch.Tensor,
        out: Path,
        warm: Any = None,
        cut: int = 0,
        plan: MaskPlan | None = None,
    ) -> None:
        self.model = model
        self.warm = warm  # the fitted model a warm start continues (a shallow copy), or None
        self.cut = cut  # rows left out of each series' end (the conformal calibration fit)
        self.plan = plan  # missing="mask": the channels and window counts of the first pass
        self.source = source
        self.order = order  # (S,): scan positions in canonical (sorted id) order
        self.rng_state = rng_state  # the global torch generator right after the net was built
        self.out = out  # rank 0 writes the merged state (or the error) here
        # Every series' training and validation windows, numbered as in one process, from
        # the scan's lengths: stage -> (S + 1,) cumulative counts in canonical order.
        lengths = np.maximum(source.lengths[order] - cut, 0)
        counts = {  # with missing="mask": the first pass's (windows with an observed target)
            stage: _window_counts(model, lengths, stage) if plan is None else plan.counts[stage]
            for stage in ("train", "val")
        }
        self.cumulative = {k: np.concatenate([[0], np.cumsum(c)]) for k, c in counts.items()}
        self.generator: torch.Generator | None = None
        self.loaded = False
        self.state: dict[str, Any] | None = None

    def __getstate__(self) -> dict[str, Any]:
        read = ("panel", "datasets", "masked", "scaler")  # a rank's data: not sent anywhere
        return {k: v for k, v in self.__dict__.items() if k not in read}

    def n_windows(self, stage: str) -> int:
        return int(self.cumulative[stage][-1])

    def replayed(self) -> torch.Generator:
        """The single process's global torch generator from the network's build on: each
        ``DataLoader`` iterator draws its seed from it, the shuffle its keys, in this order."""
        if self.generator is None:
            self.generator = torch.Generator()
            self.generator.set_state(self.rng_state)
        return self.generator

    def load(self) -> None:
        """Read this rank's parts, merge the statistics over ranks; every rank or none raises."""
        if self.loaded:
            return
        self.loaded = True
        rank, world = _distributed()
        self.rank, self.world = rank, world
        mine = np.flatnonzero(assign(self.source.file_rows, world) == rank)
        files = [self.source.files[f] for f in mine]
        local: dict[str, Any] = {"error": None}
        try:
            local = self._read(files, rank)
        except ForecastError as exc:
            local = {"error": exc}
        gathered = _gather(local, world)
        errors = [g["error"] for g in gathered if g["error"] is not None]
        try:
            if errors:
                raise errors[0]
            self._merge(gathered)
        except ForecastError as exc:
            if rank == 0:
                self.out.write_bytes(pickle.dumps({"error": exc}))
            raise
        if rank == 0:
            self.out.write_bytes(pickle.dumps({"state": self.state}))

    def _read(self, files: list[str], rank: int) -> dict[str, Any]:
        model = self.model
        base = _memory("VmRSS")
        if not files:
            read = RankRead(rank, [], 0, [], 0, base, base)
            return {"error": None, "read": read, "ids": []}
        frame = read_parts(self.source, files)
        rows = len(frame)
        panel = _converted(model, frame, self.cut)
        del frame
        if model.drop_short and too_short(model, panel.lengths).all():
            # One process would drop these (fit_parts has checked that some series are long
            # enough), not refuse them as _select_series does when all it sees are short.
            warn(f"Dropped {panel.n_series} series too short to train on: "
                 f"{panel.describe(np.arange(panel.n_series))}.")  # fmt: skip
            read = RankRead(rank, files, rows, [], 0, base, _memory("VmHWM"))
            return {"error": None, "read": read, "ids": []}
        panel, lambdas = transformed_targets(model, model._select_series(panel), self.warm)
        self.panel = panel
        read = RankRead(
            rank, files, rows, list(panel.ids), panel.values.nbytes, base, _memory("VmHWM")
        )
        train_rows = panel.lengths - model._validation_rows(panel.lengths)
        scaler = SeriesScaler(model.scaler).fit(panel.values, panel.offsets, train_rows)
        if self.warm is not None:
            warm_state(self.warm, panel, scaler)
        self.masked = None
        if self.plan is not None:  # the whole panel's channels, observed-only statistics
            self.masked = masked_training(panel, model, self.plan.names, self.plan.missing_share)
        scaler = scaler if self.masked is None else self.masked.scaler
        values = panel.values if self.masked is None else self.masked.values
        self.scaler = scaler  # with the warm model's statistics of the series it has seen
        return {
            "error": None,
            "read": read,
            "ids": list(panel.ids),
            "freq": panel.freq,
            "names": (panel.target_names, panel.covariate_names, panel.future_names),
            "static_names": panel.static_names,
            "static": panel.static,
            "lambdas": lambdas,
            "calendar": calendar_columns(panel),
            "loc": scaler.loc_,
            "scale": scaler.scale_,
            "last_window": np.ascontiguousarray(last_windows(values, panel.offsets, model.seq_len)),
            "cutoffs": panel.last_times,
            "starts": panel.times[panel.offsets[:-1]],
        }

    def _merge(self, gathered: list[dict[str, Any]]) -> None:
        """The per-series state of every rank in canonical order; the panel-wide checks."""
        have = [g for g in gathered if g["ids"]]
        first = have[0]
        for g in have[1:]:
            for key, what in (("freq", "frequency"), ("names", "columns")):
                if g[key] != first[key]:
                    raise DataError(
                        f"The parts {g['read'].files} have another {what} ({g[key]}) than "
                        f"the parts {first['read'].files} ({first[key]}): every part must "
                        "hold the same columns at the same frequency (pass freq= to check "
                        "against one)."
                    )
        position = {key: i for i, key in enumerate(self.source.ids[p] for p in self.order)}
        ids = [i for g in have for i in g["ids"]]
        where = np.asarray([position[i] for i in ids], dtype=np.int64)
        rank_order = np.argsort(where, kind="stable")  # gathered -> canonical

        def cat(key: str) -> np.ndarray:
            return np.concatenate([g[key] for g in have])[rank_order]

        static = None if first["static"] is None else cat("static")
        static_scaler = None if static is None else StaticScaler().fit(static)
        if self.warm is not None:  # a warm start scales static covariates as the old model
            static_scaler = self.warm.static_scaler_
        self.state = {
            "ids": [ids[i] for i in rank_order],
            "freq": first["freq"],
            "names": first["names"],
            "static_names": first["static_names"],
            "loc": cat("loc"),
            "scale": cat("scale"),
            "last_window": cat("last_window"),
            "static": static,
            "static_scaler": static_scaler,
            "lambdas": None if first["lambdas"] is None else cat("lambdas"),
            "missing": [] if self.plan is None else self.plan.names,
            "calendar": [c for c in first["calendar"] if all(c in g["calendar"] for g in have)],
            "cutoffs": _concat_times([g["cutoffs"] for g in have], rank_order),
            "starts": _concat_times([g["starts"] for g in have], rank_order),
            "reads": [g["read"] for g in gathered],
        }
        # This rank's series among the canonical ones: -1 for another rank's.
        self.local_of = np.full(len(self.order), -1, dtype=np.int64)
        panel = getattr(self, "panel", None)
        if panel is None:
            none = WindowIndex.build(np.zeros(1, dtype=np.int64), 1, 0)
            self.windows = {"train": none, "val": none}
            self.window_cumulative = {stage: none.cumulative for stage in self.windows}
            return
        mine = np.asarray([position[i] for i in panel.ids], dtype=np.int64)
        self.local_of[mine] = np.arange(len(mine))
        model = self.model
        val_rows = model._validation_rows(panel.lengths)
        masked = self.masked
        train, val, train_ends = fit_windows(model, panel.offsets, val_rows)  # as in _fit
        self.windows = {"train": train, "val": val}
        ends = {"train": train_ends, "val": None}
        if masked is not None:  # only the windows with an observed target
            self.windows = {"train": masked.train, "val": masked.val}
        self.window_cumulative = {
            stage: series_cumulative(windows, panel.n_series)
            for stage, windows in self.windows.items()
        }
        for stage, cumulative in self.window_cumulative.items():
            if not np.array_equal(np.diff(cumulative), np.diff(self.cumulative[stage])[mine]):
                raise DataError(
                    f"The parts {gathered[self.rank]['read'].files} changed while they were "
                    "read (a series' rows differ from the scan's count); fit again on parts "
                    "that nothing writes to."
                )
        static_values = None
        if static_scaler is not None and panel.static is not None:
            static_values = static_scaler.transform(panel.static)
        self.datasets = {
            stage: WindowDataset(
                panel.values if masked is None else masked.values,
                windows,
                seq_len=model.seq_len,
                horizon=model.horizon,
                n_targets=len(panel.target_names),
                n_future=len(panel.future_names),
                static=static_values,
                scaler=self.scaler,
                target_channels=None if masked is None else masked.target_channels,
                causal_inputs=None if masked is None else masked.inputs(stage),
                offsets=model.loss in RELATIVE_LOSSES,
                target_ends=ends[stage],
            )
            for stage, windows in self.windows.items()
        }

    def local_batch(self, positions: np.ndarray, stage: str) -> np.ndarray:
        """This rank's window numbers among the global windows ``positions`` (in their order)."""
        cumulative = self.cumulative[stage]
        series = np.searchsorted(cumulative, positions, side="right") - 1
        local = self.local_of[series]
        keep = local >= 0
        offset = positions[keep] - cumulative[series[keep]]
        first = self.window_cumulative[stage][local[keep]]
        return np.asarray(first + offset, dtype=np.int64)


def _converted(model: Any, frame: pd.DataFrame, cut: int) -> Panel:
    """A rank's frame as ``fit`` converts it; without each series' last ``cut`` rows."""
    panel, _ = model._to_panel(frame, np.float32)
    check_fit_domain(model, panel)  # as one process: before any selection
    if cut:  # the calibration fit: each series without its calibration tail
        check_calibration_rows(panel, model.calibration_windows, model.horizon)
        panel = panel.head(panel.lengths - cut)
    return panel


def _window_counts(model: Any, lengths: np.ndarray, stage: str) -> np.ndarray:
    """Windows of each series of these lengths, as one process lists them: training windows
    end before the validation tail, validation windows have their targets in it; a series
    too short for a window plus its tail has none (``drop_short`` drops it; else the rank
    that reads it raises)."""
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    val_rows = model._validation_rows(lengths)
    windows = fit_windows(model, offsets, val_rows)
    counts = np.diff((windows.train if stage == "train" else windows.val).cumulative)
    counts[too_short(model, lengths)] = 0
    return counts


def _concat_times(parts: list[pd.DatetimeIndex], order: np.ndarray) -> pd.DatetimeIndex:
    joined = parts[0].append(parts[1:]) if len(parts) > 1 else parts[0]
    return pd.DatetimeIndex(joined[order])


class _ShardSampler:
    """Batches of this rank's windows: the single process's batches, restricted.

    Yields ``(window numbers, weight)`` with weight ``n_r * R / B`` (see the module's
    docstring); ``len`` is ``ceil(N / B)`` on every rank. Training batches are shuffled,
    validation ones in order, as in one process.
    """

    def __init__(self, shard: _Shard, batch_size: int, stage: str) -> None:
        self.shard = shard
        self.batch_size = batch_size
        self.stage = stage

    def __len__(self) -> int:
        return math.ceil(self.shard.n_windows(self.stage) / self.batch_size)

    def __iter__(self) -> Iterator[tuple[np.ndarray, float]]:
        shard = self.shard
        shard.load()
        generator = shard.replayed()
        # As in one process: each DataLoader iterator draws its base seed, then the
        # training sampler its keys.
        torch.empty((), dtype=torch.int64).random_(generator=generator)
        n = shard.n_windows(self.stage)
        order: Any = lambda positions: positions  # noqa: E731 (validation: in order)
        if self.stage == "train":
            keys = torch.randint(
                -(2**63), 2**63 - 1, (ROUNDS,), dtype=torch.int64, generator=generator
            )
            order = LazyPermutation(n, keys.numpy().view(np.uint64))
        for start in range(0, n, self.batch_size):
            stop = min(start + self.batch_size, n)
            mine = shard.local_batch(order(np.arange(start, stop)), self.stage)
            yield mine, len(mine) * shard.world / (stop - start)


class _ShardDataset(torch.utils.data.Dataset):
    """The rank's windows, a batch at a time: ``(batch, weight)``; a zero window with weight
    0 when the batch holds none of this rank's windows (DDP needs every rank's gradient)."""

    def __init__(self, shard: _Shard, sizes: tuple[int, int, int, int], stage: str) -> None:
        self.shard = shard
        self.sizes = sizes  # features, targets, future covariates, static covariates
        self.stage = stage

    def __len__(self) -> int:
        return self.shard.n_windows(self.stage)

    def __getitems__(self, item: tuple[np.ndarray, float]) -> Any:
        indices, weight = item
        # (a window-number array where WindowDataset's signature says a sequence of ints)
        batch = (
            self.shard.datasets[self.stage].__getitems__(cast(Any, indices))
            if len(indices)
            else self._zero()
        )
        return batch, torch.tensor(weight, dtype=torch.float32)

    def _zero(self) -> Any:
        model = self.shard.model
        n_features, n_targets, n_future, n_static = self.sizes
        x = torch.zeros(1, model.seq_len, n_features)
        y = torch.zeros(1, model.horizon, n_targets)
        masked = self.shard.plan is not None and bool(self.shard.plan.names)
        masked = masked or (self.stage == "train" and partial_horizons(model))
        relative = model.loss in RELATIVE_LOSSES
        if not n_future and not n_static and not masked and not relative:
            return x, y
        out = {"x": x, "y": y}
        if relative:  # any finite loss: weight 0 takes it out
            out["offset"] = torch.ones(1, 2, n_targets)
        if masked:  # no observed target: it adds nothing to the count of observed ones
            out["mask"] = torch.zeros(1, model.horizon, n_targets)
        if n_future:
            out["future"] = torch.zeros(1, model.horizon, n_future)
        if n_static:
            out["static"] = torch.zeros(1, n_static)
        return out


def refuse_unsupported(model: Any) -> None:
    """Refuse a model a partitioned fit cannot fit as asked, naming the parameter."""
    name = type(model).__name__
    if TrainedForecaster not in type(model).__mro__:
        raise DataTypeError(
            f"{name} cannot be fitted from Parquet parts: only the recurrent forecasters "
            "(RNNForecaster, LSTMForecaster, GRUForecaster) train one model across ranks. "
            "Read the parts into one frame (pandas.read_parquet) to fit it."
        )


def _sample(model: Any, source: Parts) -> tuple[Panel, Any, str]:
    """The first rows of the first part, converted as ``fit`` converts: columns, layout."""
    frame, first = read_sample(source, _SAMPLE_ROWS, model.id_col or "unique_id")
    id_col, _, _ = default_columns(frame, model.id_col, model.time_col, model.target)
    if id_col is None or id_col not in frame.columns:
        raise DataError(
            f"The parts under {str(source.path)!r} need a series id column (id_col=, or "
            "Nixtla's unique_id): a fit from parts reads whole series in each rank. Got "
            f"id_col={model.id_col!r}; columns of {first!r}: {list(frame.columns)}."
        )
    # The last series may be cut short by the sample's end: its rows are not used.
    panel, layout = model._to_panel(frame, np.float32)
    return panel, layout, id_col


def fit_parts(model: _Model, source: Parts) -> _Model:
    """Fit ``model`` (a recurrent forecaster) on the parts of ``source``; see the module doc."""
    model._check_params()
    check_transform(model)
    refuse_unsupported(model)
    # A warm start continues the fitted state that the fit clears: a shallow copy keeps it.
    warm = copy.copy(model) if model.warm_start and "network_" in model.__dict__ else None
    model._clear_fitted()
    coverage = model._conformal_coverage()
    try:
        if coverage is None:
            _fit_parts(model, source, warm)
        else:  # a calibration fit, a pass over the parts, the final fit
            from forecast.forecasters._partitioned_conformal import fit_calibrated

            fit = lambda cut: _fit_parts(model, source, warm, cut)  # noqa: E731
            fit_calibrated(model, source, coverage, fit, _distributed, _gather)
    except BaseException:
        model._clear_fitted()  # a fit that fails leaves an unfitted forecaster, as fit(df)
        raise
    return model


def _fit_parts(model: Any, source: Parts, warm: Any, cut: int = 0) -> None:
    from torch.utils.data import DataLoader

    from forecast.neural.objectives import resolve_loss
    from forecast.neural.quantiles import network_levels
    from forecast.neural.sharded import WeightedModule
    from forecast.neural.training import fit_module, seeded

    sample, layout, id_col = _sample(model, source)
    if warm is not None and not check_warm_start(warm, sample):  # refused before reading
        warm = None
    source.scan(id_col)
    order = _canonical_order(source.ids)
    convert = lambda frame: _converted(model, frame, cut)  # noqa: E731
    plan = mask_plan(model, source, order, sample.feature_names, convert, _distributed, _gather)
    sizes = (
        len(sample.feature_names) + (0 if plan is None else len(plan.names)),
        len(sample.target_names),
        len(sample.future_names),
        len(sample.static_names),
    )
    model.seed_ = fit_seed(model.random_state)
    out_dir = Path(tempfile.mkdtemp(prefix="forecast-parts-"))
    try:
        with seeded(model.seed_):
            # As RNNForecaster._fit builds it (same arguments, same generator state).
            module = WeightedModule(
                cell=model.cell,
                input_size=sizes[0],
                hidden_size=model.hidden_size,
                num_layers=model.num_layers,
                dropout=model.dropout,
                horizon=model.horizon,
                n_targets=sizes[1],
                n_future=sizes[2],
                n_static=sizes[3],
                loss=resolve_loss(model.loss, model.quantiles),
                learning_rate=model.learning_rate,
                weight_decay=model.weight_decay,
                lr_schedule=model.lr_schedule,
                quantiles=network_levels(model.quantiles) or None,
            )
            rng_state = torch.get_rng_state()
            if warm is not None:  # as RNNForecaster._fit: built as a cold one, then loaded
                start_from(module.net, warm.network_.state_dict(), model.warm_start_shrink)
            shard = _Shard(model, source, order, rng_state, out_dir / "state.pkl", warm, cut, plan)
            if shard.n_windows("train") == 0:
                raise DataError(
                    f"No series under {str(source.path)!r} has the "
                    f"{min_training_rows(model)} rows of one training window (plus its "
                    "validation tail): there is nothing to train on."
                )

            def loader(stage: str) -> DataLoader:
                return DataLoader(
                    _ShardDataset(shard, sizes, stage),
                    # Batches of (window numbers, weight): a list of indices to torch's types.
                    batch_sampler=cast(Any, _ShardSampler(shard, model.batch_size, stage)),
                    collate_fn=WindowDataset.collate,
                )

            try:
                result = fit_module(
                    module,
                    loader("train"),
                    loader("val") if shard.n_windows("val") else None,
                    max_epochs=model.max_epochs,
                    early_stopping_patience=model.early_stopping_patience,
                    gradient_clip_val=model.gradient_clip_val,
                    progress_bar=model.progress_bar,
                    verbose=model.verbose,
                    trainer_kwargs=_trainer_kwargs(model, shard),
                    swa_start=model.swa_start,
                    hparams={"estimator": {"class": type(model).__name__, **model.get_params()}},
                )
            except Exception:
                _raise_rank_error(shard)
                raise
        state = shard.state if shard.state is not None else _read_state(shard)
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    _set_fitted(model, module, state, layout, result)
    source.reads = state["reads"]


def _trainer_kwargs(model: Any, shard: _Shard) -> dict[str, Any]:
    from forecast.neural.checkpoints import current
    from forecast.neural.sharded import ReplayedRandomState
    from forecast.neural.training import callback_list

    kwargs = dict(model.trainer_kwargs or {})
    kwargs["use_distributed_sampler"] = False  # the sampler shards already
    if current() is not None:  # checkpointed: the next epoch's shuffle resumes too
        kwargs["callbacks"] = [*callback_list(kwargs.get("callbacks")), ReplayedRandomState(shard)]
    return kwargs


def _raise_rank_error(shard: _Shard) -> None:
    """A rank's ``ForecastError``, raised here as itself (not as a worker's traceback)."""
    with contextlib.suppress(OSError, pickle.UnpicklingError, EOFError):
        saved = pickle.loads(shard.out.read_bytes())  # our own rank 0 wrote it
        if "error" in saved:
            raise saved["error"] from None


def _read_state(shard: _Shard) -> dict[str, Any]:
    saved = pickle.loads(shard.out.read_bytes())  # our own rank 0 wrote it
    state: dict[str, Any] = saved["state"]
    return state


def _set_fitted(model: Any, module: Any, state: dict[str, Any], layout: Any, result: Any) -> None:
    """The attributes ``fit`` sets (``BaseForecaster._fit_series``, ``RNNForecaster._fit``)."""
    targets, past, future = state["names"]
    scaler = SeriesScaler(model.scaler)
    scaler.loc_, scaler.scale_ = state["loc"], state["scale"]
    model.network_ = module.net.to("cpu").eval()
    model.scaler_ = scaler
    model.static_ = state["static"]
    model.static_scaler_ = state["static_scaler"]
    model.target_lambdas_ = state["lambdas"]
    model.fitted_transform_ = transform_of(model)  # what a warm start checks
    model.calendar_features_ = state["calendar"]
    model.last_window_ = state["last_window"]
    model.history_ = pd.DataFrame(result.history, columns=["epoch", "train_loss", "val_loss"])
    model.best_epoch_ = result.best_epoch
    model.freq_ = state["freq"]
    model.layout_ = layout
    model.target_names_ = list(targets)
    model.covariate_names_ = list(past)
    model.future_names_ = list(future)
    model.static_names_ = list(state["static_names"])
    names = [*targets, *past, *future]
    model.feature_names_in_ = np.asarray(names, dtype=object)
    model.n_features_in_ = len(names)
    model.series_ids_ = state["ids"]
    model.cutoffs_ = state["cutoffs"]
    model.training_start_ = state["starts"]
    model.quantile_levels_ = model._quantile_levels()
    model.missing_columns_ = []
    if model.missing == "mask":  # a scaler of observed values, with the channels' columns
        metadata = {"missing_columns": state["missing"], "scaler": model.scaler}
        model.scaler_ = restored_scaler(model, metadata)
        model.scaler_.loc_, model.scaler_.scale_ = state["loc"], state["scale"]
