"""Per-series scaling fitted on training rows only, with an exact inverse.

Written here rather than taken from scikit-learn: its scalers fit one set of statistics per
column of one matrix, while we need one set per (series, feature) over thousands of series
stored back to back, applied to batches of windows as they are gathered (so no scaled copy
of the data is made), and a state that is plain arrays (for safetensors).

Methods (the ``scaler`` parameter of the estimators):

* ``"standard"``: ``(x - mean) / std`` with the mean and std of each series' training rows;
* ``"minmax"``: ``(x - min) / (max - min)`` over each series' training rows;
* ``"window"``: each input window is scaled by its own mean and std. Nothing is fitted, no
  statistic can see beyond the window's last input step, and a model scaled this way
  forecasts series it never saw; targets are scaled by the statistics of their input window;
* ``"window_level"``: like ``"window"``, centred on the window's mean but divided by its mean
  absolute value (its level) instead of its std: errors are then relative to the series'
  level, as sMAPE measures them, and a nearly flat window is not blown up. Suits panels of
  positive series of very different sizes (sales, the M3/M4 competitions);
* ``"window_diff"``: centred on the window's mean but divided by the mean absolute change
  from one step to the next within it (the scale of MASE's in-sample naive error): a loss on
  these units weighs errors as MASE does, where ``"window_level"`` weighs them as sMAPE
  does. An ensemble of both (``benchmarks/RESULTS.md``, issue 22) is better on both;
* ``None``: no scaling.

A constant series (or window) has a spread of exactly 0; its scale is set to 1 so it maps to
0. Any other spread is divided out, however small against the series' level.
:class:`StaticScaler` standardises static covariates across the training series.
Symbols: N windows, L input length, H horizon, F features, T targets (the first T features).
"""

from __future__ import annotations

import itertools

import numpy as np

from forecast._exceptions import NumericalError

__all__ = ["SCALERS", "SeriesScaler", "StaticScaler"]

SCALERS = ("standard", "minmax", "window", "window_level", "window_diff", None)


def _safe_scale(scale: np.ndarray) -> np.ndarray:
    """``scale`` with each zero (a constant series or window) set to 1, so it maps to 0.

    Only an exact zero is a constant: the statistics are float64 over float32 or float64
    data, so a series of identical values has a spread of exactly 0, and any other spread,
    however small against the level (1e-30 series, or ppm wiggles on 1e6), is the series'
    own and is divided out. A threshold relative to the level would leave such series
    unscaled and the network would see (and forecast) them as flat.
    """
    return np.where(scale > 0, scale, 1.0)


def relative_offsets(
    loc: np.ndarray | float, scale: np.ndarray | float, level: np.ndarray
) -> np.ndarray:
    """``(N, 2, F)`` float32: ``loc / scale`` and ``level / scale`` (1 where ``level`` is 0,
    not finite, or beyond float32 relative to the scale), each window's centre and input
    level in units of its scale.

    What :class:`~forecast.neural.objectives.RelativeLoss` reads as the batch's ``offset``:
    ``z + loc / scale`` is an actual in units of the scale, and a tenth of ``level / scale``
    is the floor of its size. A floor from the window's own level, not from the scale,
    means the same under every scaler: a fitted scaler's scale is the whole series' spread,
    which on a trending series is larger than its early values.
    """
    n, _, f = level.shape
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = level / scale
    # A level that float32 cannot hold relative to the scale (a window of zeros and one
    # 1e-45) counts as none: cast, it would be 0, and a zero actual's size 0 / 0.
    tiny, huge = np.finfo(np.float32).tiny, np.finfo(np.float32).max
    unit = np.where((ratio >= tiny) & (ratio <= huge), ratio, 1.0)  # NaN and inf: outside
    centre = np.broadcast_to(loc / scale, (n, 1, f))
    return np.concatenate([centre, np.broadcast_to(unit, (n, 1, f))], axis=1).astype(np.float32)


BLOCK_ROWS = 1 << 18  # rows per block when fitting: bounded temporaries


class SeriesScaler:
    """Affine per-series scaling ``x' = (x - loc) / scale`` of windows and its inverse.

    Parameters
    ----------
    method : {"standard", "minmax", "window", "window_level", "window_diff", None}

    Attributes
    ----------
    loc_, scale_ : numpy.ndarray of shape (S, F), float64
        Per series and feature, for the fitted methods (``"standard"``, ``"minmax"``, None).
    """

    def __init__(self, method: str | None = "standard") -> None:
        if method not in SCALERS:
            raise ValueError(f"Unknown scaler {method!r}; expected one of {SCALERS}.")
        self.method = method

    @property
    def is_global(self) -> bool:
        """Whether statistics are fitted per series (and so exist only for series seen at fit)."""
        return self.method in ("standard", "minmax")

    def fit(self, values: np.ndarray, offsets: np.ndarray, n_rows: np.ndarray) -> SeriesScaler:
        """Fit on the first ``n_rows[s]`` rows of each series ``s`` (its training part).

        Parameters
        ----------
        values : numpy.ndarray of shape (T, F)
        offsets : numpy.ndarray of shape (S + 1,)
        n_rows : numpy.ndarray of shape (S,)
            Training rows of each series, all >= 1; the rest is never looked at.
        """
        n_series, n_features = len(offsets) - 1, values.shape[1]
        n_rows = np.asarray(n_rows, dtype=np.int64)
        if self.method not in ("standard", "minmax"):
            self.loc_ = np.zeros((n_series, n_features))
            self.scale_ = np.ones((n_series, n_features))
            return self
        # Blocks of whole series of about BLOCK_ROWS rows each: the temporaries (gathered
        # training rows, centred copy) then stay a few MB however long the panel is.
        edges = np.unique(
            np.concatenate(
                [
                    [0],
                    np.searchsorted(offsets[:-1], np.arange(BLOCK_ROWS, len(values), BLOCK_ROWS)),
                    [n_series],
                ]
            )
        )
        loc = np.empty((n_series, n_features))
        spread = np.empty((n_series, n_features))
        for a, b in itertools.pairwise(edges):
            block = values[offsets[a] : offsets[b]]
            loc[a:b], spread[a:b] = self._block_stats(
                block, offsets[a : b + 1] - offsets[a], n_rows[a:b]
            )
        self.loc_ = loc
        self.scale_ = _safe_scale(spread)
        return self

    def _block_stats(
        self, values: np.ndarray, offsets: np.ndarray, n_rows: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Location and spread of the training rows of consecutive series in ``values``."""
        # The training rows of every series, gathered once in float32 (a boolean mask built
        # from +1/-1 marks at each part's start and end, not from N-long index arrays).
        marks = np.zeros(len(values) + 1, dtype=np.int8)
        np.add.at(marks, offsets[:-1], 1)
        np.add.at(marks, offsets[:-1] + n_rows, -1)
        rows = values[np.cumsum(marks[:-1], dtype=np.int8).astype(bool)]  # (R, F)
        starts = np.cumsum(n_rows) - n_rows  # where each part starts among the rows
        counts = n_rows[:, None].astype(np.float64)
        if self.method == "standard":
            # In float64 throughout: squares of float32 values overflow above ~1.8e19
            # (their range ends at 3.4e38), and the block bounds the float64 temporaries.
            rows64 = rows.astype(np.float64)
            loc = np.add.reduceat(rows64, starts, axis=0) / counts  # (S, F)
            centred = rows64 - np.repeat(loc, n_rows, axis=0)
            centred *= centred
            spread = np.sqrt(np.add.reduceat(centred, starts, axis=0) / counts)
        else:
            loc = np.minimum.reduceat(rows, starts, axis=0).astype(np.float64)
            spread = np.maximum.reduceat(rows, starts, axis=0).astype(np.float64) - loc
        return loc, spread

    def window_stats(self, x: np.ndarray, series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Location and scale for each window, each of shape ``(N, 1, F)``.

        Parameters
        ----------
        x : numpy.ndarray of shape (N, L, F)
            Input windows (only ``"window"`` reads them).
        series : numpy.ndarray of shape (N,)
            Series of each window (only the fitted methods read it).
        """
        if self.method == "window":
            x64 = x.astype(np.float64)
            loc = x64.mean(axis=1, keepdims=True)  # (N, 1, F)
            return loc, _safe_scale(x64.std(axis=1, keepdims=True))
        if self.method == "window_level":
            x64 = x.astype(np.float64)
            loc = x64.mean(axis=1, keepdims=True)  # (N, 1, F)
            return loc, _safe_scale(np.abs(x64).mean(axis=1, keepdims=True))
        if self.method == "window_diff":
            x64 = x.astype(np.float64)
            loc = x64.mean(axis=1, keepdims=True)  # (N, 1, F)
            if x64.shape[1] < 2:  # one input step: no change to measure, left unscaled
                return loc, np.ones_like(loc)
            return loc, _safe_scale(np.abs(np.diff(x64, axis=1)).mean(axis=1, keepdims=True))
        return self.loc_[series][:, None, :], self.scale_[series][:, None, :]  # (N, 1, F)

    def scale_windows(self, windows: np.ndarray, series: np.ndarray, n_input: int) -> np.ndarray:
        """Scale whole windows ``(N, L + H, F)`` by statistics of their first ``n_input`` rows.

        The statistics come from the fitted training part (``"standard"``, ``"minmax"``) or
        from the input rows alone (``"window"``, ``"window_level"``), never from the horizon
        rows, which are scaled with them (targets, and known-future covariates).
        """
        return self._scaled(windows, series, n_input)[0]

    def scale_windows_with_offsets(
        self, windows: np.ndarray, series: np.ndarray, n_input: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`scale_windows`, and each window's offsets, ``(N, 2, F)`` float32.

        A scaled value ``z = (y - loc) / scale`` is ``y / scale - loc / scale``, so
        ``z + loc / scale`` is the value in units of the window's scale: what a loss on
        relative errors (MAPE, sMAPE) needs to measure ``|y|`` without unscaling. Row 0 is
        ``loc / scale``; row 1 the input rows' level (:meth:`window_level`) in the same
        units, which the relative losses floor an actual's size at a tenth of, whatever the
        scaler (1, the scale itself, where the level is 0).
        """
        scaled, loc, scale = self._scaled(windows, series, n_input)
        return scaled, relative_offsets(loc, scale, self.window_level(windows[:, :n_input]))

    def _scaled(
        self, windows: np.ndarray, series: np.ndarray, n_input: int
    ) -> tuple[np.ndarray, np.ndarray | float, np.ndarray | float]:
        """The scaled windows, and the location and scale they were scaled by (0 and 1
        without a scaler): the one computation behind both ways of scaling windows, so that
        :meth:`scale_windows`, on every training batch, computes no offsets."""
        if self.method is None:
            return np.asarray(windows, dtype=np.float32), 0.0, 1.0
        loc, scale = self.window_stats(windows[:, :n_input], series)
        return self._narrow((windows - loc) / scale), loc, scale

    def window_level(self, x: np.ndarray) -> np.ndarray:
        """Each input window's level, its mean absolute value, ``(N, 1, F)`` float64."""
        return np.abs(x.astype(np.float64)).mean(axis=1, keepdims=True)

    def transform_windows(
        self, x: np.ndarray, y: np.ndarray | None, series: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Scale input windows ``(N, L, F)`` and their targets ``(N, H, T)``."""
        if self.method is None:
            return x, y
        loc, scale = self.window_stats(x, series)
        x_scaled = self._narrow((x - loc) / scale)
        if y is None:
            return x_scaled, None
        n_targets = y.shape[-1]
        return x_scaled, self._narrow((y - loc[..., :n_targets]) / scale[..., :n_targets])

    def _narrow(self, scaled: np.ndarray) -> np.ndarray:
        """``scaled`` (float64) as float32, refused if it overflows: a window far flatter
        (or smaller) than the rows scaled with it, e.g. a target jumping off a window of
        near-zeros under a per-window scaler; training on an infinity would only diverge."""
        with np.errstate(over="ignore"):
            narrow = scaled.astype(np.float32)
        if not np.isfinite(narrow).all():
            raise NumericalError(
                f"Scaled by scaler={self.method!r}, a window's values overflow float32 "
                f"(largest {float(np.nanmax(np.abs(scaled))):.3g}): its input rows are far "
                "flatter or smaller than the rows scaled with them. Use scaler='standard' "
                "(per-series statistics), or rescale the data."
            )
        return narrow

    @staticmethod
    def inverse_targets(y: np.ndarray, loc: np.ndarray, scale: np.ndarray) -> np.ndarray:
        """Back to original units: ``y (N, H, T[, Q])`` with the stats of its windows."""
        n_targets = y.shape[2]
        loc, scale = loc[..., :n_targets], scale[..., :n_targets]  # (N, 1, T)
        if y.ndim == 4:  # quantiles on a last axis
            loc, scale = loc[..., None], scale[..., None]
        return y * scale + loc


class StaticScaler:
    """Standardise static covariates across the training series (mean 0, std 1 per column).

    Static values have no time axis, so there is nothing to leak: the statistics are those of
    the series the model was fitted on.
    """

    def fit(self, static: np.ndarray) -> StaticScaler:
        values = static.astype(np.float64)
        self.loc_ = values.mean(axis=0)
        spread = values.std(axis=0)
        self.scale_ = np.where(spread > 0, spread, 1.0)
        return self

    def transform(self, static: np.ndarray) -> np.ndarray:
        return ((static - self.loc_) / self.scale_).astype(np.float32)
