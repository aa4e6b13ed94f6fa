"""Static covariates: one value per series, read from the rows of a frame.

:func:`static_values` is what :func:`forecast.data.panel.to_panel` keeps of them, at fit and
at predict, after refusing what the network could not read.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast._exceptions import DataError
from forecast.data.representable import unfit_for, what_is_wrong

__all__ = ["static_values"]

# What a panel keeps them in (Panel.static), whatever the dtype of its values.
_DTYPE = np.dtype(np.float32)


def static_values(
    rest: pd.DataFrame,
    names: list[str],
    order: np.ndarray | None,
    codes: np.ndarray,
    offsets: np.ndarray,
    labels: list[str],
    times: pd.DatetimeIndex,
) -> np.ndarray | None:
    """One row of static covariates per series ``(S, Z)`` float32, or None without any.

    ``rest[names]`` holds them at every row; ``order`` sorts the rows (None: sorted), after
    which ``codes``, ``offsets``, ``times`` and ``labels`` say each row's series, timestamp
    and name.

    Raises
    ------
    DataError
        Naming the column, the series and the timestamp of the first row that has NaN
        (every series needs a value, also with ``missing="mask"``), an infinity or a value
        float32 cannot hold (scaled, it would become NaN and fail the fit or the forecast
        with a message about the loss), or a value other than the series' first: the check
        is exact, since two values that differ by a little (1,000,000 and 1,000,009) are
        two values, and the model could read only one.
    """
    if not names:
        return None
    values = rest[names].to_numpy(dtype=np.float64, na_value=np.nan)  # (R, Z)
    if order is not None:
        values = values[order]
    first = values[offsets[:-1]]  # (S, Z)
    unfit = unfit_for(values, _DTYPE)  # NaN too
    wrong = unfit | (values != first[codes])
    if not wrong.any():
        return first.astype(_DTYPE)
    row = int(np.flatnonzero(wrong.any(axis=1))[0])
    col = int(np.flatnonzero(wrong[row])[0])
    name, value, where = (
        names[col],
        float(values[row, col]),
        f"{labels[codes[row]]} at {times[row]}",
    )
    if np.isnan(value):
        raise DataError(
            f"Static covariate {name!r} is missing (NaN) in {where}; give every series a value."
        )
    if unfit[row, col]:
        what, fix = what_is_wrong(value, _DTYPE, col=name)
        fix = "Give every series a finite value." if np.isinf(value) else fix  # fit or predict
        raise DataError(f"Static covariate {name!r} has {what} in {where}. {fix}")
    raise DataError(
        f"Static covariate {name!r} is not constant within {labels[codes[row]]}: "
        f"{float(first[codes[row], col])!r} at its first timestamp, {value!r} at {times[row]}. "
        "Static covariates hold one value per series (compared exactly); use a past or "
        "future covariate for values that change."
    )
