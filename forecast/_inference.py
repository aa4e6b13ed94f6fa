"""Forecasting with a fitted recurrent network: batched forward passes and fitted state.

:class:`RecurrentInference` holds what ``RNNForecaster`` does once fitted, apart from
the public ``predict``: run the network over many input windows in batches (one window
per series for ``predict``, one per series and cutoff for ``backtest``), split a quantile
network's output into the point forecast (its median) and the quantile columns, add
conformal intervals (:mod:`forecast.conformal`), and turn the fitted state into arrays for
:mod:`forecast.persistence` and back.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from forecast import conformal
from forecast._covariates import StaticScaler
from forecast._exceptions import DataError
from forecast._quantiles import split_output
from forecast.data import Panel
from forecast.nn import RecurrentConfig, RecurrentRegressor
from forecast.scaling import SeriesScaler
from forecast.windowing import windows_ending_at

__all__ = ["RecurrentInference"]

_PREDICT_BATCH = 8192  # windows per forward pass at predict time


class RecurrentInference:
    """Forecasts and saved state of a fitted ``RNNForecaster`` (a mixin of it).

    Reads the estimator's parameters (``seq_len``, ``horizon``, ``scaler``) and fitted
    attributes (``network_``, ``scaler_``, ``static_scaler_``, ``future_names_``,
    ``series_ids_``, ``last_window_``, ...).
    """

    def _forecast_at(
        self,
        panel: Panel,
        series: np.ndarray,
        ends: np.ndarray,
        future: np.ndarray | None = None,
    ) -> np.ndarray:
        """Point forecasts ``(N, H, T)`` at many cutoffs at once (see :meth:`_network_at`)."""
        return split_output(self._network_at(panel, series, ends, future), self._levels())[0]

    def _forecast_quantiles_at(
        self,
        panel: Panel,
        series: np.ndarray,
        ends: np.ndarray,
        future: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Point forecasts ``(N, H, T)`` and quantiles ``(N, H, T, Q)`` (or None) at cutoffs.

        The quantiles are at ``quantile_levels_``: a quantile network's, or conformal bounds.
        """
        raw = self._network_at(panel, series, ends, future)
        point, quantiles = split_output(raw, self._levels())
        if quantiles is None:
            quantiles = conformal.intervals_at(self, point, panel, series, ends)
        return point, quantiles

    def _predict_arrays(
        self, panel: Panel | None, future: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """``predict``'s forecasts from the fitted last windows (``panel`` None) or ``panel``."""
        if panel is not None:
            series = np.arange(panel.n_series)
            return self._forecast_quantiles_at(panel, series, panel.offsets[1:], future)
        series = np.arange(len(self.series_ids_))
        raw = self._forecast_windows(self.last_window_, series, future, self.static_)
        point, quantiles = split_output(raw, self._levels())
        if quantiles is None:
            quantiles = conformal.intervals_at(self, point)
        return point, quantiles

    def _levels(self) -> list[float]:
        """The levels of the quantile network's output columns (``[]`` for a point network)."""
        return (
            list(getattr(self, "quantile_levels_", [])) if self.network_.config.n_quantiles else []
        )

    def _network_at(
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
            shown = ", ".join(
                f"{panel.series_label(series[i])} has {before[i]}" for i in short[:10]
            )
            raise DataError(
                f"Too little history to forecast from: {shown} row(s), but the model reads "
                f"seq_len={self.seq_len} steps. Pass a longer history."
            )
        if self.future_names_ and future is None:
            after = panel.offsets[series + 1] - ends
            short = np.flatnonzero(after < self.horizon)
            if short.size:
                i = int(short[0])
                raise DataError(
                    f"The known-future covariates {self.future_names_} of "
                    f"{panel.series_label(series[i])} end {after[i]} row(s) after the cutoff, "
                    f"but the model reads them over horizon={self.horizon} steps."
                )
            n_future = len(self.future_names_)
            rows = windows_ending_at(panel.values, ends + self.horizon, self.horizon)
            future = rows[:, :, -n_future:].astype(np.float32)  # (N, H, C)
        windows = windows_ending_at(panel.values, ends, self.seq_len)  # (N, L, F)
        static = None if panel.static is None else panel.static[series]
        fitted = self._fitted_positions(panel)[series]
        return self._forecast_windows(
            windows.astype(np.float32, copy=False), fitted, future, static
        )

    def _fitted_positions(self, panel: Panel) -> np.ndarray:
        """Position at fit of each series of ``panel`` (for fitted scaling statistics)."""
        if not self.scaler_.is_global:
            return np.zeros(panel.n_series, dtype=np.int64)
        known = {sid: i for i, sid in enumerate(self.series_ids_)}
        unknown = [sid for sid in panel.ids if sid not in known]
        if unknown:
            raise DataError(
                f"Series {unknown[:10]} were not seen at fit, so there are no fitted "
                f"scaling statistics for them (scaler={self.scaler!r}). Refit with them, "
                "or use scaler='window', which needs none."
            )
        return np.array([known[sid] for sid in panel.ids], dtype=np.int64)

    def _forecast_windows(
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
        n_future = len(self.future_names_)
        out = []
        with torch.inference_mode():
            for a in range(0, len(windows), _PREDICT_BATCH):
                part = slice(a, a + _PREDICT_BATCH)
                x, idx = windows[part], series[part]
                loc, scale = self.scaler_.window_stats(x, idx)  # (n, 1, F) each
                x_scaled = torch.from_numpy(((x - loc) / scale).astype(np.float32))
                fut = stat = None
                if n_future:
                    fut_scaled = (future[part] - loc[..., -n_future:]) / scale[..., -n_future:]
                    fut = torch.from_numpy(fut_scaled.astype(np.float32))
                if self.static_scaler_ is not None:
                    stat = torch.from_numpy(self.static_scaler_.transform(static[part]))
                y = self.network_(x_scaled, fut, stat).numpy().astype(np.float64)
                out.append(SeriesScaler.inverse_targets(y, loc, scale))
        return np.concatenate(out, axis=0)

    # ------------------------------------------------------------------ saved state

    def _fitted_arrays(self) -> dict[str, np.ndarray]:
        """Weights, scaler statistics and last windows, for :mod:`forecast.persistence`."""
        state = {f"network.{k}": v.numpy() for k, v in self.network_.state_dict().items()}
        arrays = {
            **state,
            "scaler.loc": self.scaler_.loc_,
            "scaler.scale": self.scaler_.scale_,
            "last_window": self.last_window_,
        }
        if self.static_ is not None:
            arrays["static"] = self.static_
            arrays["static_scaler.loc"] = self.static_scaler_.loc_
            arrays["static_scaler.scale"] = self.static_scaler_.scale_
        return {**arrays, **conformal.fitted_arrays(self)}

    def _fitted_metadata(self) -> dict[str, Any]:
        return {
            "network": self.network_.config.to_dict(),
            "scaler": self.scaler_.method,
            "future_names": list(self.future_names_),
            "static_names": list(self.static_names_),
            **conformal.fitted_metadata(self),
        }

    def _restore_fitted(self, arrays: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
        """Inverse of :meth:`_fitted_arrays` and :meth:`_fitted_metadata`."""
        with torch.random.fork_rng(devices=[]):  # building the net must not move the user's RNG
            network = RecurrentRegressor(RecurrentConfig.from_dict(metadata["network"]))
        prefix = "network."
        state = {
            k[len(prefix) :]: torch.from_numpy(v) for k, v in arrays.items() if k.startswith(prefix)
        }
        network.load_state_dict(state, strict=True)
        self.network_ = network.eval()
        self.scaler_ = SeriesScaler(metadata["scaler"])
        self.scaler_.loc_, self.scaler_.scale_ = arrays["scaler.loc"], arrays["scaler.scale"]
        self.last_window_ = arrays["last_window"]
        self.future_names_ = list(metadata.get("future_names", []))
        self.static_names_ = list(metadata.get("static_names", []))
        self.static_ = arrays.get("static")
        self.static_scaler_ = None
        if self.static_ is not None:
            self.static_scaler_ = StaticScaler()
            self.static_scaler_.loc_ = arrays["static_scaler.loc"]
            self.static_scaler_.scale_ = arrays["static_scaler.scale"]
        conformal.restore_fitted(self, arrays, metadata)
