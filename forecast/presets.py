"""Parameter presets: the public path ``forecast.presets``, kept for users' imports.

Its code lives in :mod:`forecast.forecasters.presets`; this module names it where README
lines, notebooks and scripts import it (``from forecast.presets import ...``).
"""

from __future__ import annotations

from forecast.forecasters.presets import (
    panel_params,
)

__all__ = ["panel_params"]
