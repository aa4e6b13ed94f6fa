"""What the exponential-smoothing baselines share: scaling, de-seasonalising, origins in chunks.

:class:`~forecast.ThetaForecaster` and :class:`~forecast.DampedTrendForecaster` are local
models: each is fitted afresh on the history before every forecast origin, one series and
target at a time, but computed for every origin at once (a loop over time steps, not over
series). This module holds what they have in common:

* :func:`normalised`: each history divided by its largest absolute value (squared errors
  of values near 1e160 overflow, of values near 1e-200 underflow to ties, and either would
  choose the coefficients by the data's units) and by its multiplicative seasonal indices
  when the M3 test finds a season, or less its additive components when it is not positive,
  an index is under 0.01 or the values are on a log scale (``target_transform="log"``,
  ``"log1p"``, ``"boxcox"``: ratios of logs change with the data's units)
  (:func:`forecast.data.seasonality.seasonal_components`), with the factors and offsets
  that put them back on the forecasts;
* :func:`least_squares_line`: the line through the observed values a mask selects;
* :func:`trailing_gaps`: the steps between each history's last observed value and its
  end, the cutoff its forecasts are labelled from;
* :class:`_LocalSmoothingForecaster`: the fitted state (the forecasts from the end of each
  series, and the fitted coefficients) and the loop that gathers the histories before
  many origins into padded, right-aligned arrays, in chunks of at most
  :data:`_CHUNK_CELLS` cells, and hands each chunk to the model's
  ``_forecast_rows(values, seen)``.

Symbols: N forecast origins, L the longest history, H horizon, T targets, K coefficients,
m season length.
"""

from __future__ import annotations

from abc import abstractmethod

import numpy as np

from forecast._exceptions import MissingHistoryError
from forecast.data.panel import Panel
from forecast.data.seasonality import season_map
from forecast.data.transforms import LOG_SCALES
from forecast.forecasters.baselines import _SeasonalBaseline

_CHUNK_CELLS = 4_000_000  # origins are smoothed in chunks of at most this many (N x L) cells


def normalised(
    x: np.ndarray, seen: np.ndarray, horizon: int, season_length: int, additive: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The histories divided by their scale and de-seasonalised, and the factors and offsets
    ``(N, H)`` that put both back on the forecast steps: ``forecast * factors + offsets``.

    ``x`` ``(N, L)`` right-aligned histories (any value, NaN too, where not ``seen``; 0 in
    the result), ``seen`` where they are observed. The scale is a row's largest absolute
    observed value (1 for a row of zeros). A row is not de-seasonalised when
    ``season_length < 2``, when it has a missing value (the decomposition needs every
    value), or when it is not seasonal by the 90 % test; a seasonal row is divided by its
    multiplicative indices, or, when it holds a value ``<= 0`` or has an index under 0.01,
    has its additive components taken off
    (:func:`forecast.data.seasonality.seasonal_components`). With ``additive`` (values on a
    log scale, :data:`forecast.data.transforms.LOG_SCALES`) a seasonal row always has its
    additive components taken off.
    """
    x = np.asarray(x, dtype=np.float64)
    scale = np.abs(np.where(seen, x, 0.0)).max(axis=1)
    scale = np.where(scale > 0, scale, 1.0)
    x = np.where(seen, x / scale[:, None], 0.0)
    n_rows, width = x.shape
    factors = np.repeat(scale[:, None], horizon, axis=1)
    offsets = np.zeros_like(factors)
    if season_length < 2:
        return x, factors, offsets
    steps = np.arange(horizon)
    starts = seen.argmax(axis=1)
    for i in range(n_rows):
        if not seen[i, starts[i] :].all():
            continue
        # (m, 2): divisor, offset
        season = season_map(x[i, starts[i] :], season_length, additive=additive)
        n = width - starts[i]
        past, future = np.arange(n) % season_length, (n + steps) % season_length  # row 0: 0
        x[i, starts[i] :] = (x[i, starts[i] :] - season[past, 1]) / season[past, 0]
        factors[i] *= season[future, 0]
        offsets[i] = season[future, 1] * scale[i]
    return x, factors, offsets


def least_squares_line(x: np.ndarray, use: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Slope, mean row number and mean value ``(N,)`` of the least-squares line of the values
    ``use`` selects on their row numbers (slope 0 where they share one row number)."""
    t = np.broadcast_to(np.arange(x.shape[1], dtype=np.float64), x.shape)
    count = use.sum(axis=1)
    t_mean = np.where(use, t, 0.0).sum(axis=1) / count
    x_mean = np.where(use, x, 0.0).sum(axis=1) / count
    dt = np.where(use, t - t_mean[:, None], 0.0)
    dx = np.where(use, x - x_mean[:, None], 0.0)
    spread = (dt * dt).sum(axis=1)
    slope = np.divide((dt * dx).sum(axis=1), spread, out=np.zeros(len(x)), where=spread > 0)
    return slope, t_mean, x_mean


def trailing_gaps(seen: np.ndarray) -> np.ndarray:
    """Per row of ``seen`` ``(N, L)``, the columns after its last observed value ``(N,)``.

    A history that ends in missing values (``missing="mask"``) is forecast from its cutoff,
    its last row: the forecast ``h`` steps after it is the method's forecast ``gap + h``
    steps after the last observation, as :class:`~forecast.DampedTrendForecaster`'s state
    moves on over missing values and :class:`~forecast.DriftForecaster`'s line does.
    """
    return seen[:, ::-1].argmax(axis=1)


class _LocalSmoothingForecaster(_SeasonalBaseline):
    """A baseline fitted on each history before each origin; subclasses say how.

    A subclass sets ``_state = ("forecast_", <its coefficients' attributes>...)`` and
    ``_n_coefficients`` (``K``), and implements ``_forecast_rows(values, seen)``: forecasts
    ``(N, H)`` and coefficients ``(N, K)`` of ``N`` right-aligned histories with at least two
    observed values each (NaN or padding where not ``seen``: :func:`normalised` zeroes it).
    """

    _n_coefficients: int

    def _min_rows(self, at_fit: bool) -> int:
        return 2  # a slope and a smoothing error need two values

    @abstractmethod
    def _forecast_rows(self, values: np.ndarray, seen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Forecasts ``(N, H)`` and coefficients ``(N, K)``."""

    def _additive(self) -> bool:
        """Whether the values the model smooths are on a log scale (``target_transform`` in
        :data:`~forecast.data.transforms.LOG_SCALES`), where seasons and errors are taken as
        additive: the forecasts of the data in other units are then the same forecasts in
        those units."""
        return self.target_transform in LOG_SCALES

    def _coefficient_states(self, coefficients: np.ndarray) -> dict[str, np.ndarray]:
        """The fitted attributes from the coefficients ``(S, T, K)``, by name: by default the
        one after ``forecast_`` in ``_state``, holding them as they are."""
        return {self._state[1]: coefficients}

    def _fit_state(self, panel: Panel) -> None:
        ends = panel.offsets[1:]
        self.forecast_, coefficients = self._local(panel, np.arange(panel.n_series), ends)
        for name, value in self._coefficient_states(coefficients).items():
            setattr(self, name, value)

    def _point_fitted(self) -> np.ndarray:
        return self.forecast_

    def _point_at(self, panel: Panel, series: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Forecasts ``(N, H, T)`` from the histories before rows ``ends``."""
        self._check_origins(panel, series, ends)
        return self._local(panel, series, ends)[0]

    def _local(
        self, panel: Panel, series: np.ndarray, ends: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Forecasts ``(N, H, T)`` and coefficients ``(N, T, K)``, in chunks of origins that
        keep the padded histories under :data:`_CHUNK_CELLS` cells."""
        n_targets = len(panel.target_names)
        starts = panel.offsets[series]
        lengths = ends - starts
        point = np.empty((len(ends), self.horizon, n_targets))
        coefficients = np.empty((len(ends), n_targets, self._n_coefficients))
        order = np.argsort(lengths, kind="stable")  # similar lengths together: less padding
        # The chunk ends are the points where the padded cells of the next origin would pass
        # the budget: lengths are sorted, so a chunk's width is its last origin's length.
        begin = 0
        while begin < len(order):
            stop = begin + 1
            while stop < len(order) and (stop - begin + 1) * int(lengths[order[stop]]) <= (
                _CHUNK_CELLS
            ):
                stop += 1
            chunk = order[begin:stop]
            width = int(lengths[chunk].max())
            rows = ends[chunk, None] - width + np.arange(width)  # (n, L), right-aligned
            inside = rows >= starts[chunk, None]
            for j in range(n_targets):
                values = panel.values[np.maximum(rows, 0), j].astype(np.float64)
                seen = inside & ~np.isnan(values)
                few = np.flatnonzero(seen.sum(axis=1) < 2)
                if few.size:
                    names = sorted({panel.series_label(int(series[chunk[i]])) for i in few})
                    raise MissingHistoryError(
                        f"{type(self).__name__} needs two observed values of "
                        f"{panel.target_names[j]!r} before a forecast origin; {len(names)} "
                        f"series have fewer: {', '.join(names[:10])}. Give them more history "
                        "or leave them out.",
                        series=names,
                    )
                forecasts, coef = self._forecast_rows(values, seen)
                point[chunk, :, j], coefficients[chunk, j] = forecasts, coef
            begin = stop
        return point, coefficients
