"""Forecast arrays back to pandas, in the layout of the user's input (shared by every estimator).

Symbols: S series, k steps returned, T targets.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.data import Layout
from forecast.frequency import future_times

__all__ = ["forecast_frame"]


def forecast_frame(
    values: np.ndarray,
    cutoffs: pd.DatetimeIndex,
    ids: list,
    *,
    layout: Layout,
    freq: pd.offsets.BaseOffset,
    target_names: list[str],
) -> pd.DataFrame:
    """The frame ``predict`` returns, from forecasts ``values`` of shape ``(S, k, T)``.

    Parameters
    ----------
    values : numpy.ndarray of shape (S, k, T)
        Step ``j`` of series ``i`` is the forecast ``j + 1`` steps after ``cutoffs[i]``.
    cutoffs : pandas.DatetimeIndex of length S
        Last observed timestamp of each series.
    ids : list
        Series identifiers (``[None]`` for a wide frame).
    layout : Layout
        Where ids and timestamps were in the input.
    freq : pandas.DateOffset
        Continues each series after its cutoff.
    target_names : list of str

    Returns
    -------
    pandas.DataFrame
        Wide layout: indexed by the ``k`` future timestamps, one column per target. Long
        layout: columns ``id_col, time_col, *targets``, ``k`` rows per series in series order
        (indexed by a ``MultiIndex (id, time)`` instead if the input had one).
    """
    steps = values.shape[1]
    if not layout.is_long:
        index = pd.date_range(
            start=future_times(cutoffs, freq, 1)[0][0],
            periods=steps,
            freq=freq,
            name=layout.time_name,
        )
        return pd.DataFrame(values[0], index=index, columns=list(target_names))
    times = np.stack([t.to_numpy() for t in future_times(cutoffs, freq, steps)], axis=1)  # (S, k)
    frame = pd.DataFrame(
        {
            # pandas infers the ids' dtype (int64 ids stay int64, so forecasts merge back).
            layout.id_col: np.repeat(pd.Index(ids).to_numpy(), steps),
            layout.time_col: times.reshape(-1),
        }
    )
    for t, name in enumerate(target_names):
        frame[name] = values[:, :, t].reshape(-1)
    if layout.multiindex:
        frame = frame.set_index([layout.id_col, layout.time_col])
    return frame
