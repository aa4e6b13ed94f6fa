"""A trained network with its scalers: batched forecasts in original units.

:class:`~forecast.RNNForecaster` hands one of these its fitted state for each forecast
(``RNNForecaster._runner``). It runs the network over many input windows in batches (one
window per series for ``predict``, one per series and cutoff for backtests and conformal
calibration), scaling the inputs with the fitted statistics and the outputs back.

Symbols: N windows, L input length, F features, H horizon, T targets, Q quantile levels,
C known-future covariates, Z static covariates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from forecast._exceptions import DataError
from forecast.data.panel import Panel, series_positions
from forecast.data.scaling import SeriesScaler, StaticScaler
from forecast.data.windowing import windows_ending_at
from forecast.neural.network import RecurrentRegressor

__all__ = ["NetworkRunner"]

_PREDICT_BATCH = 8192  # windows per forward pass at predict time


@dataclass(frozen=True)
class NetworkRunner:
    """Forecasts of a trained network from panel histories or from ready windows.

    Attributes
    ----------
    network : RecurrentRegressor
        In eval mode.
    scaler : SeriesScaler
        Fitted: per series and feature, or per window.
    static_scaler : StaticScaler or None
        Fitted on the static covariates of the training series, if any.
    seq_len, horizon : int
    future_names : list of str
        The known-future covariates (the last columns of the panel's values).
    series_ids : list
        The series seen at fit, in the order of the scaler's statistics.
    """

    network: RecurrentRegressor
    scaler: SeriesScaler
    static_scaler: StaticScaler | None
    seq_len: int
    horizon: int
    future_names: list[str]
    series_ids: list[Any]

    def at(
        self,
        panel: Panel,
        series: np.ndarray,
        ends: np.ndarray,
        future: np.ndarray | None = None,
    ) -> np.ndarray:
        """Network outputs ``(N, H, T[, Q])`` at many cutoffs at once, in batched forward passes.

        Forecast ``i`` reads the ``seq_len`` rows of ``panel`` before row ``ends[i]``
        (exclusive), which belongs to panel series ``series[i]``: nothing after the cutoff.
        Used by ``predict(df)`` (one cutoff per series), ``score`` and ``backtest`` without
        refit (one per series and cutoff). Known-future covariates over the horizon are
        ``future`` ``(N, H, C)`` or, if None, the panel's rows after each cutoff (known ahead
        by definition, so reading them is no leak).
        """
        before = ends - panel.offsets[series]  # rows of history before each cutoff
        short = np.flatnonzero(before < self.seq_len)
        if short.size:
            raise DataError(
                "Too little history to forecast from: "
                f"{panel.describe(series[short], before[short])} row(s), but the model reads "
                f"seq_len={self.seq_len} steps. Pass a longer history."
            )
        if self.future_names and future is None:
            after = panel.offsets[series + 1] - ends
            short = np.flatnonzero(after < self.horizon)
            if short.size:
                i = int(short[0])
                raise DataError(
                    f"The known-future covariates {self.future_names} of "
                    f"{panel.series_label(series[i])} end {after[i]} row(s) after the cutoff, "
                    f"but the model reads them over horizon={self.horizon} steps."
                )
            n_future = len(self.future_names)
            rows = windows_ending_at(panel.values, ends + self.horizon, self.horizon)
            future = rows[:, :, -n_future:].astype(np.float32)  # (N, H, C)
        windows = windows_ending_at(panel.values, ends, self.seq_len)  # (N, L, F)
        static = None if panel.static is None else panel.static[series]
        fitted = self._fitted_positions(panel)[series]
        return self.windows(windows.astype(np.float32, copy=False), fitted, future, static)

    def _fitted_positions(self, panel: Panel) -> np.ndarray:
        """Position at fit of each series of ``panel`` (for fitted scaling statistics)."""
        if not self.scaler.is_global:
            return np.zeros(panel.n_series, dtype=np.int64)
        positions, unknown = series_positions(panel.ids, self.series_ids)
        if unknown:
            raise DataError(
                f"Series {unknown[:10]} were not seen at fit, so there are no fitted "
                f"scaling statistics for them (scaler={self.scaler.method!r}). Refit with them, "
                "or use scaler='window', which needs none."
            )
        return positions

    def windows(
        self,
        windows: np.ndarray,
        series: np.ndarray,
        future: np.ndarray | None = None,
        static: np.ndarray | None = None,
    ) -> np.ndarray:
        """Run the network over input windows in batches, in original units.

        Parameters
        ----------
        windows : numpy.ndarray of shape (N, L, F)
        series : numpy.ndarray of shape (N,)
            Position of each window's series at fit (for fitted scaling statistics).
        future : numpy.ndarray of shape (N, H, C), optional
            Known-future covariates over the horizon (unscaled).
        static : numpy.ndarray of shape (N, Z), optional
            Static covariates (unscaled).

        Returns
        -------
        numpy.ndarray of shape (N, H, T), or (N, H, T, Q) for a quantile network; float64
        """
        n_future = len(self.future_names)
        out = []
        with torch.inference_mode():
            for a in range(0, len(windows), _PREDICT_BATCH):
                part = slice(a, a + _PREDICT_BATCH)
                x, idx = windows[part], series[part]
                loc, scale = self.scaler.window_stats(x, idx)  # (n, 1, F) each
                x_scaled = torch.from_numpy(((x - loc) / scale).astype(np.float32))
                fut = stat = None
                if n_future:
                    if future is None:
                        raise ValueError("the network reads known-future covariates: pass them")
                    fut_scaled = (future[part] - loc[..., -n_future:]) / scale[..., -n_future:]
                    fut = torch.from_numpy(fut_scaled.astype(np.float32))
                if self.static_scaler is not None:
                    if static is None:
                        raise ValueError("the network reads static covariates: pass them")
                    stat = torch.from_numpy(self.static_scaler.transform(static[part]))
                y = self.network(x_scaled, fut, stat).numpy().astype(np.float64)
                out.append(SeriesScaler.inverse_targets(y, loc, scale))
        return np.concatenate(out, axis=0)
