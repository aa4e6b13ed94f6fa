"""A trained network with its scalers: batched forecasts in original units.

:class:`~forecast.RNNForecaster` hands one of these its fitted state for each forecast
(``RNNForecaster._runner``). It runs the network over many input windows in batches (one
window per series for ``predict``, one per series and cutoff for backtests and conformal
calibration), scaling the inputs with the fitted statistics and the outputs back. The
network runs in NumPy (:class:`~forecast.neural.inference.NumpyNetwork`), whether it was
fitted in this process or loaded: one forward for every forecast, and no torch to import.

Symbols: N windows, L input length, F features, H horizon, T targets, Q quantile levels,
C known-future covariates, Z static covariates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from forecast._exceptions import DataError, NumericalError
from forecast._validation import series_name
from forecast.data.panel import Panel, series_positions
from forecast.data.scaling import SeriesScaler, StaticScaler
from forecast.data.window_index import windows_ending_at
from forecast.neural.inference import NumpyNetwork

if TYPE_CHECKING:  # a fit imports torch; predict imports this module, not torch
    from forecast.neural.network import RecurrentRegressor

__all__ = ["NetworkRunner", "WindowFix", "numpy_network", "torch_network"]

# ``fix(windows (N, L, F), starts (N,))`` -> windows: see NetworkRunner.causal_inputs.
WindowFix = Callable[[np.ndarray, np.ndarray], np.ndarray]

_PREDICT_BATCH = 8192  # windows per forward pass at predict time


@dataclass(frozen=True)
class NetworkRunner:
    """Forecasts of a trained network from panel histories or from ready windows.

    Attributes
    ----------
    network : NumpyNetwork
    scaler : SeriesScaler
        Fitted: per series and feature, or per window.
    static_scaler : StaticScaler or None
        Fitted on the static covariates of the training series, if any.
    seq_len, horizon : int
    future_names : list of str
        The known-future covariates (the last columns of the panel's values).
    series_ids : list
        The series seen at fit, in the order of the scaler's statistics.
    causal_inputs : callable, optional
        ``causal_inputs(windows, starts)``, applied to the input windows :meth:`at`
        gathers (``missing="mask"``: :class:`forecast.data.masking.CausalInputs`).
    """

    network: NumpyNetwork
    scaler: SeriesScaler
    static_scaler: StaticScaler | None
    seq_len: int
    horizon: int
    future_names: list[str]
    series_ids: list[Any]
    causal_inputs: WindowFix | None = None

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
        if self.causal_inputs is not None:
            windows = self.causal_inputs(windows, ends - self.seq_len)
        static = None if panel.static is None else panel.static[series]
        fitted = self._fitted_positions(panel, series)
        return self.windows(
            windows.astype(np.float32, copy=False),
            fitted,
            future,
            static,
            label=lambda i: panel.series_label(int(series[i])),
        )

    def _fitted_positions(self, panel: Panel, series: np.ndarray) -> np.ndarray:
        """Position at fit of the series of each forecast ``series`` ``(N,)`` (positions in
        ``panel``), for fitted scaling statistics.

        Only the series forecast are looked up: a panel may hold series the model never saw
        (left out by ``drop_short``, or by a backtest's fold) that nobody forecasts here.
        """
        if not self.scaler.is_global:
            return np.zeros(len(series), dtype=np.int64)
        wanted = np.unique(series)
        found, unknown = series_positions([panel.ids[i] for i in wanted], self.series_ids)
        if unknown:
            raise DataError(
                f"Series {unknown[:10]} were not seen at fit, so there are no fitted "
                f"scaling statistics for them (scaler={self.scaler.method!r}). Refit with them, "
                "or use scaler='window', which needs none."
            )
        positions = np.zeros(panel.n_series, dtype=np.int64)
        positions[wanted] = found
        return positions[series]

    def windows(
        self,
        windows: np.ndarray,
        series: np.ndarray,
        future: np.ndarray | None = None,
        static: np.ndarray | None = None,
        label: Callable[[int], str] | None = None,
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
        label : callable, optional
            ``label(i)`` names the series of window ``i`` in errors; default: the fitted
            series at ``series[i]``.

        Returns
        -------
        numpy.ndarray of shape (N, H, T), or (N, H, T, Q) for a quantile network; float64
        """
        n_future = len(self.future_names)
        if label is None:
            label = self._fitted_label(series)
        out = []
        # Overflow in the casts to float32 is checked and explained (_check_scaled), not
        # warned about by numpy first.
        with np.errstate(over="ignore"):
            for a in range(0, len(windows), _PREDICT_BATCH):
                part = slice(a, a + _PREDICT_BATCH)
                x, idx = windows[part], series[part]
                loc, scale = self.scaler.window_stats(x, idx)  # (n, 1, F) each
                x_scaled = ((x - loc) / scale).astype(np.float32)
                self._check_scaled(x_scaled, a, label, "inputs")
                fut = stat = None
                if n_future:
                    if future is None:
                        raise ValueError("the network reads known-future covariates: pass them")
                    fut_scaled = (future[part] - loc[..., -n_future:]) / scale[..., -n_future:]
                    fut = fut_scaled.astype(np.float32)
                    self._check_scaled(fut, a, label, "known-future covariates")
                if self.static_scaler is not None:
                    if static is None:
                        raise ValueError("the network reads static covariates: pass them")
                    stat = self.static_scaler.transform(static[part])
                    self._check_scaled(stat, a, label, "static covariates")
                y = self.network(x_scaled, fut, stat)
                if not np.isfinite(y).all():
                    raise NumericalError(
                        f"The network's output is NaN or infinite for {label(a + _first(y))}, "
                        f"from finite scaled inputs: {self._why_not_finite()}"
                    )
                out.append(SeriesScaler.inverse_targets(y.astype(np.float64), loc, scale))
        return np.concatenate(out, axis=0)

    def _check_scaled(
        self, scaled: np.ndarray, first: int, label: Callable[[int], str], what: str
    ) -> None:
        """Refuse windows whose scaling overflowed float32: a history so far outside the
        training data's range that the network cannot read it."""
        if not np.isfinite(scaled).all():
            raise NumericalError(
                f"The scaled {what} of {label(first + _first(scaled))} overflow float32: the "
                "history is far outside the range of the data the model was fitted on "
                f"(scaler={self.scaler.method!r}). Refit the model on data that includes it."
            )

    def _why_not_finite(self) -> str:
        """Why finite inputs gave a non-finite output: the weights, or the inputs' size."""
        damaged = self.network.non_finite()
        if damaged:
            return (
                f"its weights {damaged[:3]} hold NaN or infinite values (a damaged model "
                "file, or a fit that diverged). Refit the model."
            )
        return (
            "its weights are finite, so the scaled inputs are too large for float32 "
            "arithmetic: the history is far outside the range of the data the model was "
            "fitted on. Refit the model on data that includes it."
        )

    def _fitted_label(self, series: np.ndarray) -> Callable[[int], str]:
        """Names window ``i`` by its series as fitted (``series[i]`` is its position)."""
        if self.series_ids == [None]:
            return lambda i: "the series"
        return lambda i: series_name(self.series_ids[int(series[i])])


def numpy_network(model: Any) -> NumpyNetwork:
    """The network a recurrent forecaster predicts with, fitted or loaded.

    A loaded model holds NumPy weights (``model.__dict__["network_"]``) until its torch
    module is asked for; then, as after ``fit``, it holds the module, whose weights are read
    here as they are now (views, no copy), so that changes to ``network_`` are predicted
    with. Either way the values are the same float32 numbers.
    """
    stored = model.__dict__["network_"]
    if isinstance(stored, NumpyNetwork):
        return stored
    weights = {k: v.detach().cpu().numpy() for k, v in stored.state_dict().items()}
    return NumpyNetwork(stored.config, weights)


def torch_network(model: Any) -> RecurrentRegressor:
    """A recurrent forecaster's network as a torch module (what training and users read),
    built from a loaded model's weights on first use (this imports torch)."""
    stored = model.__dict__.get("network_")
    if stored is None:
        raise AttributeError(f"{type(model).__name__!r} object has no attribute 'network_'")
    if isinstance(stored, NumpyNetwork):
        from forecast.neural.network import from_weights

        stored = model.__dict__["network_"] = from_weights(stored.config, stored.weights)
    return stored


def _first(values: np.ndarray) -> int:
    """The first window (along axis 0) holding a non-finite value."""
    return int(np.flatnonzero(~np.isfinite(values.reshape(len(values), -1)).all(axis=1))[0])
