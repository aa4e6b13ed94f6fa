"""Zero-copy windows over series stored back to back, and the dataset that batches them.

Symbols: N windows (batch), L input length (``seq_len``), H horizon, F features (targets
first, then past covariates), T targets, S series.

A window is ``values[start : start + L + H]`` of one series: its first L rows are the input,
the last H rows' target columns are what to predict. Windows are *views*: we never build an
``(N, L + H, F)`` array of the whole history. :class:`WindowDataset` keeps only the start
positions and gathers a batch with one fancy-indexing operation over a
``sliding_window_view``, so memory grows with the batch, not with ``seq_len`` times the
number of windows.

This module knows nothing of pandas (frames are accepted by duck typing in
:func:`make_windows`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, TypeAlias, cast

import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view
from torch.utils.data import Dataset, RandomSampler

from forecast.data.permutation import ROUNDS, LazyPermutation
from forecast.data.scaling import SeriesScaler

# Torch-free, so that predict imports no torch; named here too (forecast.windowing).
from forecast.data.window_index import (
    WindowIndex,
    last_windows,
    window_starts,
    windows_ending_at,
)

__all__ = [
    "ShuffledWindowSampler",
    "WindowDataset",
    "WindowIndex",
    "last_windows",
    "make_windows",
    "window_starts",
    "windows_ending_at",
]

# What a batch is scaled by without a scaler: nothing (method None; no fitted state).
UNSCALED = SeriesScaler(None)


# (x, y), or {"x", "y", "future", "static"} when there are covariates beyond the inputs.
Batch: TypeAlias = tuple[torch.Tensor, torch.Tensor] | dict[str, torch.Tensor]


class BatchScaler(Protocol):
    """What the dataset needs from a scaler: scale a batch of windows of known series."""

    def scale_windows(self, windows: np.ndarray, series: np.ndarray, n_input: int) -> np.ndarray:
        """Scale ``(N, L + H, F)`` windows by statistics of their first ``n_input`` rows."""
        ...

    def scale_windows_with_offsets(
        self, windows: np.ndarray, series: np.ndarray, n_input: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The scaled windows, and each window's ``loc / scale`` and level ``(N, 2, F)``."""
        ...


class ShuffledWindowSampler(RandomSampler):
    """``RandomSampler`` whose permutation is never materialised.

    torch's ``RandomSampler`` yields from ``torch.randperm(n).tolist()``: for 5M windows
    that list of Python ints is ~180 MB, and even the int32 tensor is 20 MB, as much as the
    float32 data of a 1,000 x 5,000 panel. Here each epoch's order is a
    :class:`~forecast.data.permutation.LazyPermutation`, computed a chunk of positions at a
    time. Its keys are drawn from ``generator`` when given, else from torch's global
    generator (as ``RandomSampler`` draws its seed), so ``random_state`` keeps fits
    reproducible and every epoch gets a new order; a subclass, so that Lightning still
    recognises a shuffled loader and swaps in its ``DistributedSampler`` under DDP.
    """

    CHUNK = 1 << 16

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        if self.replacement or self.num_samples != n:
            yield from super().__iter__()
            return
        keys = torch.randint(
            -(2**63), 2**63 - 1, (ROUNDS,), dtype=torch.int64, generator=self.generator
        )
        permutation = LazyPermutation(n, keys.numpy().view(np.uint64))
        for start in range(0, n, self.CHUNK):
            yield from permutation(np.arange(start, min(start + self.CHUNK, n))).tolist()


class WindowDataset(Dataset):
    """Training windows over series stored back to back, gathered a batch at a time.

    ``DataLoader(dataset, batch_size=B, shuffle=True, collate_fn=WindowDataset.collate)``
    calls :meth:`__getitems__` once per batch with the B sampled positions; the batch is one
    fancy-index of a zero-copy ``sliding_window_view`` (no Python loop over items).

    Parameters
    ----------
    values : numpy.ndarray of shape (T, F), float32
        All series back to back; the first ``n_targets`` columns are the targets.
    windows : WindowIndex
        Which windows, numbered ``0 .. len(windows) - 1`` (no N-long arrays).
    seq_len, horizon, n_targets : int
    n_future : int, default 0
        The last ``n_future`` columns are known-future covariates: their values over the
        horizon rows of each window are returned as ``future`` (N, H, C).
    static : numpy.ndarray of shape (S, Z), optional
        Static covariates per series (already scaled), returned as ``static`` (N, Z).
    scaler : object with ``scale_windows(windows, series, n_input)``, optional
        Applied to each batch (so no scaled copy of the data is ever made).
    target_channels : sequence of int, optional
        Per target, the column of its 0/1 observed channel (``-1``: always observed); the
        batch then has ``mask`` (N, H, T), 1 where the target was observed
        (``missing="mask"``, :mod:`forecast.data.masking`).
    causal_inputs : callable, optional
        ``causal_inputs(windows (N, L+H, F), starts (N,))`` -> windows, applied to each
        gathered batch before scaling (``missing="mask"``: the imputed inputs that read
        past a window's cutoff, :class:`forecast.data.masking.CausalInputs`).
    offsets : bool, default False
        Also return ``offset`` (N, 2, T): per target, each window's ``loc / scale`` (0
        without a scaler), so that ``y + offset[:, :1]`` is a target in units of its
        window's scale, and its input rows' level in those units
        (:func:`~forecast.data.scaling.relative_offsets`): what the relative losses
        (``loss="mape"``, ``"smape"``) measure errors by.
    target_ends : numpy.ndarray of shape (S,), optional
        Per series, the row (exclusive) where what the windows may read ends: windows
        listed with ``past_end`` (:meth:`WindowIndex.build`) run past it. Their rows from
        there on are read as the last row before it (no row of another series, or of a
        validation tail, is ever read) and the batch has ``mask`` (N, H, T), 0 for those
        target rows (the loss leaves them out). Not with ``n_future``: the known-future
        values past the end are unknown.

    Examples
    --------
    >>> import numpy as np
    >>> values = np.arange(20, dtype=np.float32).reshape(10, 2)
    >>> windows = WindowIndex.build(np.array([0, 10]), seq_len=3, horizon=2)
    >>> ds = WindowDataset(values, windows, seq_len=3, horizon=2, n_targets=1)
    >>> x, y = ds.__getitems__([0, 5])
    >>> tuple(x.shape), tuple(y.shape)
    ((2, 3, 2), (2, 2, 1))
    """

    def __init__(
        self,
        values: np.ndarray,
        windows: WindowIndex,
        *,
        seq_len: int,
        horizon: int,
        n_targets: int,
        n_future: int = 0,
        static: np.ndarray | None = None,
        scaler: BatchScaler | None = None,
        target_channels: Sequence[int] | None = None,
        causal_inputs: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
        offsets: bool = False,
        target_ends: np.ndarray | None = None,
    ) -> None:
        if target_ends is not None and n_future:
            raise ValueError("windows past the series' ends read no known-future covariates")
        self.values = values
        self.target_ends = None if target_ends is None else np.asarray(target_ends, np.int64)
        self.offsets = offsets
        self.causal_inputs = causal_inputs
        self.windows = windows
        self.seq_len = seq_len
        self.horizon = horizon
        self.n_targets = n_targets
        self.n_future = n_future
        self.static = None if static is None else np.asarray(static, dtype=np.float32)
        self.scaler = scaler
        self.target_channels = None if target_channels is None else list(target_channels)
        # (T-W+1, F, W) view; with target_ends the rows are gathered one by one (clipped)
        self._windows = (
            None
            if self.target_ends is not None
            else sliding_window_view(values, seq_len + horizon, axis=0)
        )

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, index: int) -> Batch:
        batch = self.__getitems__([index])
        if isinstance(batch, dict):
            return {name: tensor[0] for name, tensor in batch.items()}
        return batch[0][0], batch[1][0]

    def __getitems__(self, indices: Sequence[int]) -> Batch:
        """The windows at ``indices``: ``(x, y)``, or a dict with covariates when there are any.

        ``x`` (N, L, F) and ``y`` (N, H, T) float32 tensors; with known-future or static
        covariates, ``{"x", "y", "future" (N, H, C), "static" (N, Z)}``, and with
        ``offsets``, ``"offset"`` (N, 2, T).
        """
        starts, series = self.windows.locate(np.asarray(indices, dtype=np.int64))
        inside = None
        if self._windows is not None:
            batch = self._windows[starts].transpose(0, 2, 1)  # (N, L+H, F), one gather
        else:  # rows past the end read as its last row, and leave the loss
            rows = starts[:, None] + np.arange(self.seq_len + self.horizon)  # (N, L+H)
            last = cast(np.ndarray, self.target_ends)[series][:, None] - 1
            batch = self.values[np.minimum(rows, last)]  # (N, L+H, F), one gather
            inside = torch.from_numpy(rows[:, self.seq_len :] <= last)  # (N, H)
        if self.causal_inputs is not None:
            batch = self.causal_inputs(batch, starts)
        offset = None
        if self.offsets:  # unscaled, the values are their own units: centre 0, scale 1
            scaler = self.scaler if self.scaler is not None else UNSCALED
            batch, offset = scaler.scale_windows_with_offsets(batch, series, self.seq_len)
        elif self.scaler is not None:
            batch = self.scaler.scale_windows(batch, series, self.seq_len)
        batch = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32))
        x = batch[:, : self.seq_len, :]  # (N, L, F)
        y = batch[:, self.seq_len :, : self.n_targets]  # (N, H, T)
        if (
            not self.n_future
            and self.static is None
            and self.target_channels is None
            and offset is None
            and inside is None
        ):
            return x, y
        out = {"x": x, "y": y}
        if offset is not None:
            out["offset"] = torch.from_numpy(np.ascontiguousarray(offset[..., : self.n_targets]))
        if self.target_channels is not None:
            after = batch[:, self.seq_len :, :]  # (N, H, F)
            ones = torch.ones_like(after[..., 0])
            out["mask"] = torch.stack(
                [after[..., c] if c >= 0 else ones for c in self.target_channels], dim=-1
            )  # (N, H, T)
        if inside is not None:
            within = inside[..., None].to(y.dtype).expand(-1, -1, self.n_targets)
            out["mask"] = out["mask"] * within if "mask" in out else within.contiguous()
        if self.n_future:
            out["future"] = batch[:, self.seq_len :, -self.n_future :]  # (N, H, C)
        if self.static is not None:
            out["static"] = torch.from_numpy(self.static[series])  # (N, Z)
        return out

    @staticmethod
    def collate(batch: Any) -> Batch:
        """``collate_fn`` for a DataLoader: the batch is already assembled."""
        return batch


def make_windows(
    data: Any, seq_len: int, horizon: int, target: str | Sequence[str] | int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """All windows of one series as tensors ``X (N, L, F)`` and ``y (N, H, T)``, as views.

    For users who bring their own model or training loop. Both tensors are strided views of
    one float32 tensor holding the data once: no window is copied.

    Parameters
    ----------
    data : pandas.DataFrame or array-like of shape (T, F) or (T,)
        One series in time order; every column becomes a feature of ``X``.
    seq_len : int
        Input length L.
    horizon : int
        Steps to predict, H.
    target : str, list of str, int or None
        Target column name(s) of a DataFrame (or column positions of an array); ``None``
        means every column.

    Returns
    -------
    X : torch.Tensor of shape (N, L, F)
    y : torch.Tensor of shape (N, H, T)
        With ``N = T_rows - L - H + 1``; window ``i`` reads rows ``i : i + L`` and predicts
        rows ``i + L : i + L + H``. The features of ``X`` are the target columns first, then
        the other columns in their order (so that ``y`` is a view as well).

    Examples
    --------
    >>> from forecast.datasets import load_air_passengers
    >>> X, y = make_windows(load_air_passengers(), seq_len=12, horizon=3)
    >>> tuple(X.shape), tuple(y.shape)
    ((130, 12, 1), (130, 3, 1))
    """
    for name, value in (("seq_len", seq_len), ("horizon", horizon)):
        if not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{name} must be an int >= 1. Got {value!r} instead.")
    columns = list(getattr(data, "columns", []))
    array = np.asarray(data, dtype=np.float32)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(f"data must be 1- or 2-dimensional (time, features); got {array.ndim}.")
    if target is None:
        target_pos = list(range(array.shape[1]))
    else:
        wanted = [target] if isinstance(target, str | int) else list(target)
        target_pos = []
        for t in wanted:
            if isinstance(t, str):
                if t not in columns:
                    raise ValueError(f"Target column {t!r} is not in the data. Columns: {columns}.")
                target_pos.append(columns.index(t))
            else:
                target_pos.append(int(t))
    n_windows = array.shape[0] - seq_len - horizon + 1
    if n_windows < 1:
        raise ValueError(
            f"The series has {array.shape[0]} rows; a window needs seq_len + horizon = "
            f"{seq_len + horizon}. Use a shorter seq_len or horizon."
        )
    # Targets first, then the other columns (as in the estimator): y is then a strided view too.
    order = target_pos + [i for i in range(array.shape[1]) if i not in target_pos]
    if order != list(range(array.shape[1])):
        array = array[:, order]
    if not (array.flags.c_contiguous and array.flags.writeable):
        # torch refuses to share memory with a read-only array (a DataFrame's values may be
        # one): take one contiguous, writable float32 copy of the history, the only copy made.
        array = np.array(array, dtype=np.float32, order="C", copy=True)
    tensor = torch.from_numpy(array)  # (T, F)
    windows = tensor.unfold(0, seq_len + horizon, 1).permute(0, 2, 1)  # (N, L+H, F), view
    X = windows[:, :seq_len, :]  # (N, L, F), view
    y = windows[:, seq_len:, : len(target_pos)]  # (N, H, T), view
    return X, y
