"""Values a panel's dtype cannot hold (NaN, infinity, out of range, subnormal), and why."""

from __future__ import annotations

from typing import Any

import numpy as np

from forecast.data.gaps import nan_fix

__all__ = ["unfit_for", "what_is_wrong"]


def unfit_for(column: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Where ``column`` holds NaN, infinity, or a value ``dtype`` cannot hold.

    Beyond its range, or non-zero below its smallest normal number (1.2e-38 in float32): such
    values lose their digits (subnormal) or become 0, and a series of them would be forecast
    as noise or as flat zeros. Comparisons only: N booleans each, no N-long float temporary.
    """
    limit, tiny = float(np.finfo(dtype).max), float(np.finfo(dtype).tiny)
    bad = ~np.isfinite(column) | (column > limit) | (column < -limit)
    bad |= (column != 0) & (column < tiny) & (column > -tiny)
    return bad


def what_is_wrong(value: float, dtype: np.dtype, layout: Any = None, col: str = "y") -> tuple:
    """``(what, fix)`` for a value :func:`unfit_for` flagged, for an error message."""
    if np.isnan(value):
        return "NaN", nan_fix(layout, col)
    if np.isinf(value):
        return "an infinite value", "Fill or drop them before fitting."
    if abs(value) > float(np.finfo(dtype).max):
        return (
            f"a value beyond {dtype.name} range",
            f"({value:.3g}) Divide the column by a constant (and multiply the forecasts back).",
        )
    return (
        f"a value too close to 0 for {dtype.name}",
        f"({value:.3g}, below {float(np.finfo(dtype).tiny):.3g}) Multiply the column by a "
        "constant (and divide the forecasts back).",
    )
