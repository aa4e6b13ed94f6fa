"""``make_future_frame``: the frame of known-future covariates a fitted model needs at predict
(and ``predict``'s reading of the one it is given).

:class:`~forecast.BaseForecaster` inherits it from :class:`FutureFrames`, so every
forecaster has it. The frame has the ``horizon`` future timestamps of every series (each
from its own end, on the model's frequency: business days and custom calendars included),
in the training layout (an id column for long data), and one column per known-future
covariate: the calendar features the model was trained with
(:func:`forecast.features.calendar_features`, recognised at fit) filled in, every other
one NaN, for the user to fill; ``predict`` refuses a NaN left there, naming the column,
series and timestamp.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from forecast._exceptions import DataError, DataTypeError
from forecast.data.covariates import future_block
from forecast.data.features import calendar_features
from forecast.data.frames import PANDAS, to_native, to_pandas
from forecast.data.output import forecast_frame
from forecast.data.panel import Layout, Panel

__all__ = ["FutureFrames", "future_frame"]

logger = logging.getLogger("forecast")


class FutureFrames:
    """What :class:`~forecast.BaseForecaster` gets from this module: ``make_future_frame``,
    and the checks and reading of ``predict``'s ``future_covariates``."""

    # Set by fit (BaseForecaster declares the rest through forecast.protocol.Forecaster).
    horizon: int
    layout_: Layout
    freq_: pd.offsets.BaseOffset
    series_ids_: list[Any]
    cutoffs_: pd.DatetimeIndex
    future_names_: list[str]
    #: The known-future covariates that are calendar features (filled by make_future_frame).
    calendar_features_: list[str]

    def _to_fitted_panel(self, df: pd.DataFrame, dtype: Any = None) -> Panel:
        raise NotImplementedError  # BaseForecaster's

    def _check_future_covariates(self, frame: Any) -> None:
        """``predict``'s ``future_covariates``: a frame, and only for a model that reads one."""
        if frame is None:
            return
        if not isinstance(frame, pd.DataFrame):
            raise DataTypeError(
                "future_covariates must be a DataFrame (pandas, polars or pyarrow) of the "
                "known-future covariates "
                "in the training layout (timestamps as index, or id and time columns). Got "
                f"a {type(frame).__name__} instead."
            )
        if not self.future_names_:
            raise DataError(
                f"This {type(self).__name__} was fitted without known-future covariates, so "
                "it would ignore future_covariates: leave it out, or refit with "
                "future_covariates=[...] naming those columns (they must then be in the "
                "training frame too)."
            )

    def _future_values(
        self, frame: pd.DataFrame | None, ids: list[Any], cutoffs: pd.DatetimeIndex
    ) -> np.ndarray | None:
        """Known-future covariates ``(S, H, C)`` over each horizon from ``frame``, if used."""
        if not self.future_names_:
            return None  # nothing to read: a frame passed anyway is ignored
        return future_block(
            frame, self.future_names_, self.layout_, ids, cutoffs, self.freq_, self.horizon
        )

    def make_future_frame(self, df: Any = None) -> Any:
        """The known-future covariates ``predict`` needs, with what can be computed filled in.

        Parameters
        ----------
        df : pandas.DataFrame, polars.DataFrame or pyarrow.Table, optional
            A newer history, as ``predict(df)`` takes it: the frame starts after its series'
            ends. Default: after the end of the data the model was fitted on.

        Returns
        -------
        pandas.DataFrame, polars.DataFrame or pyarrow.Table
            ``horizon`` rows per series at its future timestamps, in the training layout
            (wide: indexed by the timestamps; long: ``id_col``, ``time_col`` columns, or a
            ``MultiIndex`` if fitted on one), with one column per known-future covariate
            (``future_names_``): the calendar features of ``calendar_features_`` filled,
            the others NaN, to be filled before ``predict(..., future_covariates=frame)``.
            A model without known-future covariates gets the timestamps only.

        Raises
        ------
        NotFittedError, DataError
            Before ``fit``; a ``df`` that ``predict`` would refuse.

        Examples
        --------
        >>> import pandas as pd
        >>> from forecast import NaiveForecaster
        >>> from forecast.datasets import load_air_passengers
        >>> from forecast.features import calendar_features
        >>> air = load_air_passengers()
        >>> data = air.join(calendar_features(air.index))
        >>> model = NaiveForecaster(horizon=2, target="passengers").fit(data)
        >>> model.make_future_frame()
        Empty DataFrame
        Columns: []
        Index: [1961-01-01 00:00:00, 1961-02-01 00:00:00]
        """
        check_is_fitted(self, "cutoffs_")
        frame, kind = to_pandas(df)
        if frame is None:
            ids, cutoffs, kind = self.series_ids_, self.cutoffs_, self.layout_.source or PANDAS
        else:
            panel = self._to_fitted_panel(frame)
            ids, cutoffs = panel.ids, panel.last_times
        return to_native(
            future_frame(self, ids, cutoffs, self.__dict__.get("calendar_features_", [])), kind
        )


def future_frame(
    model: Any, ids: list[Any], cutoffs: pd.DatetimeIndex, calendar: list[str]
) -> pd.DataFrame:
    """The known-future frame of a fitted ``model`` for series ``ids`` ending at ``cutoffs``.

    ``horizon`` rows per series, in the training layout; the future covariates named in
    ``calendar`` computed (:func:`forecast.features.calendar_features`), the others NaN.
    """
    layout, horizon = model.layout_, model.horizon
    empty = np.empty((len(ids), horizon, 0))
    future = forecast_frame(empty, cutoffs, ids, layout=layout, freq=model.freq_, target_names=[])
    if layout.multiindex:
        times = future.index.get_level_values(1)
    elif layout.is_long:
        times = pd.DatetimeIndex(future[layout.time_col])
    else:
        times = future.index
    filled = calendar_features(times, features=calendar) if calendar else None
    for name in model.future_names_:
        if filled is not None and name in calendar:
            future[name] = filled[name].to_numpy()
        else:
            future[name] = np.nan
    unfilled = [n for n in model.future_names_ if n not in calendar]
    if unfilled:
        logger.info("make_future_frame: fill %s (NaN) before predict", unfilled)
    return future
