"""Forecast arrays back to pandas, in the layout of the user's input (shared by every estimator).

**Column naming** (stable; plots, the command line and backtests rely on it): the point
forecast keeps the target's name (``y``); quantile ``q`` of that target is the column
``f"{target}_q{q:g}"`` (``y_q0.1``, ``y_q0.5``, ``y_q0.975``), made by
:func:`quantile_column`. A model trained on quantiles writes its median as the point column;
a conformal interval of coverage ``c`` is the pair of quantile columns ``(1 - c) / 2`` and
``(1 + c) / 2``. Each target's quantile columns follow its point column, by level.

Symbols: S series, k steps returned, T targets, Q quantile levels.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from forecast.data.frequency import future_times
from forecast.data.panel import Layout

__all__ = ["QUANTILE_SUFFIX", "forecast_frame", "quantile_column", "quantile_columns"]

# A quantile column's suffix: "_q0.1", "_q0.025", "_q1e-05".
QUANTILE_SUFFIX = re.compile(r"_q(\d*\.?\d+(?:[eE]-?\d+)?)$")


def quantile_columns(columns: Iterable[Any], target: Any) -> dict[float, str]:
    """``{q: column}`` for the quantile columns of ``target`` among ``columns``, by level.

    Exactly ``f"{target}_q<level>"`` with a level in (0, 1): a target named ``y_qty`` is
    no quantile of ``y``.
    """
    found = {}
    for column in columns:
        name = str(column)
        match = QUANTILE_SUFFIX.search(name)
        if match and name[: match.start()] == str(target):
            q = float(match.group(1))
            if 0.0 < q < 1.0:
                found[q] = column
    return dict(sorted(found.items()))


def quantile_column(target: Any, q: float) -> str:
    """The name of the column that holds quantile ``q`` of ``target``: ``f"{target}_q{q:g}"``.

    ``:g`` keeps 6 significant digits and drops trailing zeros, so levels written as
    ``0.1`` or ``(1 - 0.8) / 2`` (``0.09999999999999998``) name the same column.

    Parameters
    ----------
    target : str
        The target column (the point forecast's column).
    q : float
        Quantile level in (0, 1).

    Returns
    -------
    str

    Examples
    --------
    >>> from forecast import quantile_column
    >>> quantile_column("y", 0.1), quantile_column("sales", (1 - 0.95) / 2)
    ('y_q0.1', 'sales_q0.025')
    """
    return f"{target}_q{float(q):g}"


def forecast_frame(
    values: np.ndarray,
    cutoffs: pd.DatetimeIndex,
    ids: list,
    *,
    layout: Layout,
    freq: pd.offsets.BaseOffset,
    target_names: list[str],
    quantiles: np.ndarray | None = None,
    levels: Sequence[float] = (),
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
    quantiles : numpy.ndarray of shape (S, k, T, Q), optional
        Quantile forecasts at ``levels``, non-decreasing along Q.
    levels : sequence of float
        The Q quantile levels, increasing.

    Returns
    -------
    pandas.DataFrame
        Wide layout: indexed by the ``k`` future timestamps, one column per target (and,
        with ``quantiles``, one per target and level, after the target's column). Long
        layout: columns ``id_col, time_col, *targets``, ``k`` rows per series in series order
        (indexed by a ``MultiIndex (id, time)`` instead if the input had one).
    """
    steps = values.shape[1]
    columns: dict[Any, np.ndarray] = {}  # name -> (S, k)
    for t, name in enumerate(target_names):
        columns[name] = values[:, :, t]
        if quantiles is not None:
            for j, q in enumerate(levels):
                columns[quantile_column(name, q)] = quantiles[:, :, t, j]
    if not layout.is_long:
        # The same steps as a long frame's (local calendar days on tz-aware data, under
        # pandas 2 and 3 alike), not pandas.date_range's own rule.
        index = pd.DatetimeIndex(
            [t[0] for t in future_times(cutoffs, freq, steps)], name=layout.time_name
        )
        with contextlib.suppress(ValueError):  # pandas 2: a 23-hour day is no 'D' step
            index.freq = freq
        return pd.DataFrame({name: v[0] for name, v in columns.items()}, index=index)
    times = np.stack([t.to_numpy() for t in future_times(cutoffs, freq, steps)], axis=1)  # (S, k)
    frame = pd.DataFrame(
        {
            # pandas infers the ids' dtype (int64 ids stay int64, so forecasts merge back).
            layout.id_col: np.repeat(pd.Index(ids).to_numpy(), steps),
            layout.time_col: times.reshape(-1),
        }
    )
    for name, v in columns.items():
        frame[name] = v.reshape(-1)
    if layout.multiindex:
        frame = frame.set_index([layout.id_col, layout.time_col])
    return frame
