"""Windows of series as views: the public path ``forecast.windowing``, kept for users' imports.

Its code lives in :mod:`forecast.data.windowing`; this module names it where README
lines, notebooks and scripts import it (``from forecast.windowing import ...``).
"""

from __future__ import annotations

from forecast.data import windowing as _code
from forecast.data.windowing import *  # noqa: F403  (every public name of the code, as listed below)

__all__ = _code.__all__
