"""Windows of series as views: the public path ``forecast.windowing``, kept for users' imports.

Its code lives in :mod:`forecast.data.windowing`; this module names it where README
lines, notebooks and scripts import it (``from forecast.windowing import ...``).
"""

from __future__ import annotations

from forecast.data.windowing import (
    ShuffledWindowSampler,
    WindowDataset,
    WindowIndex,
    last_windows,
    make_windows,
    window_starts,
    windows_ending_at,
)

__all__ = [
    "ShuffledWindowSampler",
    "WindowDataset",
    "WindowIndex",
    "last_windows",
    "make_windows",
    "window_starts",
    "windows_ending_at",
]
