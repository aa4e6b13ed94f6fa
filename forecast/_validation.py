"""Checks of estimator parameters, with scikit-learn's message template.

*"The 'horizon' parameter of RNNForecaster must be an int >= 1. Got 0 instead."*
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from forecast._exceptions import InvalidParameterError

__all__ = [
    "SEED_HIGH",
    "check_bool",
    "check_float",
    "check_int",
    "check_levels",
    "check_option",
    "check_seed",
    "fit_seed",
    "series_name",
]


def _fail(owner: object, name: str, what: str, value: Any) -> None:
    # ``owner`` is the estimator, or the name of a function (e.g. "backtest").
    where = owner if isinstance(owner, str) else type(owner).__name__
    raise InvalidParameterError(
        f"The {name!r} parameter of {where} must be {what}. Got {value!r} instead."
    )


def check_int(
    owner: object,
    name: str,
    value: Any,
    *,
    low: int | None = None,
    high: int | None = None,
    allow_none: bool = False,
) -> None:
    """``value`` is an int (not a bool) within ``[low, high]``."""
    if value is None and allow_none:
        return
    bounds = " and ".join(
        b
        for b in (f">= {low}" if low is not None else "", f"<= {high}" if high is not None else "")
        if b
    )
    what = "an int" + (f" {bounds}" if bounds else "") + (" or None" if allow_none else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        _fail(owner, name, what, value)
    if (low is not None and value < low) or (high is not None and value > high):
        _fail(owner, name, what, value)


def check_float(
    owner: object,
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    allow_none: bool = False,
) -> None:
    """``value`` is a real number within the given (open or closed) bounds."""
    if value is None and allow_none:
        return
    lo = "" if low is None else f"{'>' if low_open else '>='} {low}"
    hi = "" if high is None else f"{'<' if high_open else '<='} {high}"
    what = "a float" + (" " + " and ".join(b for b in (lo, hi) if b) if (lo or hi) else "")
    if allow_none:
        what += " or None"
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != value:
        _fail(owner, name, what, value)
    if not math.isfinite(value):  # inf is above any bound, and no parameter means it
        _fail(owner, name, what.replace("a float", "a finite float", 1), value)
    if low is not None and (value <= low if low_open else value < low):
        _fail(owner, name, what, value)
    if high is not None and (value >= high if high_open else value > high):
        _fail(owner, name, what, value)


SEED_HIGH = 2**32 - 1  # the largest seed NumPy and Lightning accept


def check_seed(owner: object, name: str, value: Any) -> None:
    """``value`` seeds a fit: None, an int in ``[0, 2**32 - 1]``, or a ``RandomState``.

    What :func:`sklearn.utils.check_random_state` and :func:`lightning.seed_everything`
    both accept (not a bool, although Python counts it an int).
    """
    if value is None or isinstance(value, np.random.RandomState):
        return
    what = f"an int in [0, {SEED_HIGH}], a numpy.random.RandomState or None"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        _fail(owner, name, what, value)
    if not 0 <= value <= SEED_HIGH:
        _fail(owner, name, what, value)


def fit_seed(random_state: Any, reserve: int = 0) -> int:
    """The int seed a fit runs under (a model's ``seed_``): ``random_state`` itself when an
    int, else one draw from it (``None``: NumPy's global generator), below
    ``2**31 - 1 - reserve`` so that ``reserve`` consecutive seeds after it are valid too."""
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return int(random_state)
    from sklearn.utils import check_random_state

    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max - reserve))


def check_option(owner: object, name: str, value: Any, options: Iterable[Any]) -> None:
    """``value`` is one of ``options``."""
    options = list(options)
    if value not in options:
        _fail(owner, name, "one of " + ", ".join(repr(o) for o in options), value)


def check_bool(owner: object, name: str, value: Any) -> None:
    """``value`` is a bool."""
    if not isinstance(value, bool):
        _fail(owner, name, "a bool", value)


def check_levels(
    owner: object, name: str, value: Any, *, example: str, scalar: bool = False
) -> None:
    """``value`` is a non-empty, strictly increasing list (or tuple) of floats in (0, 1).

    Quantile levels and coverage levels. With ``scalar``, one float in (0, 1) is accepted too.
    Levels must also differ as column names show them (``f"{q:g}"``, 6 significant digits).
    """
    what = f"a sorted list of distinct floats in (0, 1), e.g. {example}"
    if scalar:
        what += ", or one such float"
    values = [value] if scalar and isinstance(value, numbers.Real) else value
    if not isinstance(values, list | tuple) or not values:
        _fail(owner, name, what, value)
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not 0 < float(v) < 1:
            _fail(owner, name, what, value)
    if any(b <= a for a, b in itertools.pairwise(values)):
        _fail(owner, name, what, value)
    if len({f"{float(v):g}" for v in values}) < len(values):
        _fail(owner, name, what + " that differ in their first 6 significant digits", value)


def series_name(sid: Any) -> str:
    """How a series is named in messages: ``series 'AAPL'`` or ``series 3``.

    NumPy scalar ids print as plain numbers (``3``, not ``np.int64(3)``).
    """
    if isinstance(sid, np.generic):
        sid = sid.item()
    return f"series {sid!r}"
