"""Warnings that point at the user's line: the first caller outside this package.

A fixed ``stacklevel`` points at the right line from one call path only: the same data
warning reached through ``fit``, ``predict(df)``, ``score``, ``backtest`` or an ensemble's
members is a different number of frames deep. :func:`warn` counts them, so Python shows
the line of the user's code that called us (and its ``once per location`` filter applies
there), whatever the path.

:func:`warn_once` also says a warning once within a :func:`once_per_scope` scope: an
ensemble's members, a combination's models and a backtest's refits each check the same
data before they train, and Python's own once-per-line filter does not keep them from
repeating it, because it forgets what it showed whenever a library enters
``warnings.catch_warnings`` (as Lightning's training loop does, between two members).
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import FrameType

__all__ = ["once_per_scope", "warn", "warn_once"]

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


# What warn_once said within the outermost once_per_scope; None outside any scope.
_SAID: ContextVar[set[tuple[type[Warning], str]] | None] = ContextVar(
    "forecast_warnings_said", default=None
)


@contextmanager
def once_per_scope() -> Iterator[None]:
    """Within: :func:`warn_once` says each warning once. A nested scope is the outer one."""
    if _SAID.get() is not None:
        yield
        return
    token = _SAID.set(set())
    try:
        yield
    finally:
        _SAID.reset(token)


def warn_once(message: str, category: type[Warning] = UserWarning) -> None:
    """:func:`warn`, unless the current :func:`once_per_scope` already said this warning."""
    said = _SAID.get()
    if said is not None:
        if (category, message) in said:
            return
        said.add((category, message))
    warn(message, category)
