"""Column defaults from a well-known convention: Nixtla's long format ``unique_id, ds, y``.

StatsForecast, NeuralForecast and MLForecast keep many series in one long frame with the
series id in ``unique_id``, the timestamp in ``ds`` and the target in ``y``. A frame with
those three columns needs no column arguments: :func:`default_columns` fills them in before
:func:`forecast.data.panel.to_panel` reads the frame. The rule, in order:

1. **Explicit arguments win.** When ``id_col`` or ``time_col`` is given, nothing is filled
   in: the frame is read as those arguments say, as it always was.
2. **Nixtla's triple.** Otherwise, when the frame has the columns ``unique_id``, ``ds`` and
   ``y``, it is a long frame with ``id_col="unique_id"``, ``time_col="ds"`` and, unless
   ``target`` is given, ``target="y"`` (so other numeric columns are past covariates, as
   with an explicit ``target``). Nothing is logged: the convention is documented, and the
   forecast comes back in the same columns.
3. **The frame's own layout** otherwise: a ``DatetimeIndex`` (wide) or a two-level
   ``MultiIndex (id, time)``.

A frame that matches both 2 and 3 (the three columns *and* a datetime-like index or a
``MultiIndex``) is ambiguous and refused, with the arguments that would settle it: the
index could be the time axis of a wide frame as well as a leftover of a ``set_index``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from forecast._exceptions import DataError

__all__ = ["NIXTLA_COLUMNS", "default_columns"]

#: Nixtla's long format: series id, timestamp, target.
NIXTLA_COLUMNS = ("unique_id", "ds", "y")


def default_columns(
    df: Any, id_col: str | None, time_col: str | None, target: str | list[str] | None
) -> tuple[str | None, str | None, str | list[str] | None]:
    """``(id_col, time_col, target)`` with Nixtla's ``unique_id, ds, y`` filled in if they apply.

    Parameters
    ----------
    df : pandas.DataFrame or any
        The user's frame (anything else is returned unchanged, for ``to_panel`` to refuse).
    id_col, time_col : str or None
        As the user gave them; when either is given, all three are returned unchanged.
    target : str, list of str or None
        As the user gave it; kept when given.

    Returns
    -------
    id_col, time_col, target

    Raises
    ------
    DataError
        The frame has the three columns and also a datetime-like index or a ``MultiIndex``,
        and no argument says which holds the series and timestamps.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"unique_id": ["a", "a"], "ds": ["2024-01-01", "2024-01-02"],
    ...                    "y": [1.0, 2.0]})
    >>> default_columns(df, None, None, None)
    ('unique_id', 'ds', 'y')
    >>> default_columns(df, None, "ds", None)  # an explicit argument: nothing filled in
    (None, 'ds', None)
    """
    if id_col is not None or time_col is not None or not isinstance(df, pd.DataFrame):
        return id_col, time_col, target
    if not all(name in df.columns for name in NIXTLA_COLUMNS):
        return id_col, time_col, target
    index = df.index
    if isinstance(index, pd.MultiIndex | pd.DatetimeIndex | pd.PeriodIndex):
        kind = type(index).__name__
        raise DataError(
            f"The frame has Nixtla's columns 'unique_id', 'ds' and 'y' and also a {kind}, so "
            "it could be a long frame or one indexed by time. Pass id_col='unique_id', "
            "time_col='ds' to use the columns (or df.reset_index(drop=True) first), or "
            "rename the columns to use the index."
        )
    return "unique_id", "ds", "y" if target is None else target
