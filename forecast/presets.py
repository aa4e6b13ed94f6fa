"""Parameter presets: the public path ``forecast.presets``, kept for users' imports.

Its code lives in :mod:`forecast.forecasters.presets`; this module names it where README
lines, notebooks and scripts import it (``from forecast.presets import ...``).
"""

from __future__ import annotations

from forecast.forecasters import presets as _code
from forecast.forecasters.presets import *  # noqa: F403  (every public name of the code, as listed below)

__all__ = _code.__all__
