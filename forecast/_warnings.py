"""Warnings that point at the user's line: the first caller outside this package.

A fixed ``stacklevel`` points at the right line from one call path only: the same data
warning reached through ``fit``, ``predict(df)``, ``score``, ``backtest`` or an ensemble's
members is a different number of frames deep. :func:`warn` counts them, so Python shows
the line of the user's code that called us (and its ``once per location`` filter applies
there), whatever the path.
"""

from __future__ import annotations

import os
import sys
import warnings
from types import FrameType

__all__ = ["warn"]

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _outside_level() -> int:
    """The ``stacklevel`` of the first frame outside the package, seen from :func:`warn`."""
    frame: FrameType | None = sys._getframe(2)  # warn's caller: level 2 from inside warn
    level = 2
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn(message, category)`` attributed to the user's calling line."""
    warnings.warn(message, category, stacklevel=_outside_level())
