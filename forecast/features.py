"""Calendar features: the public path ``forecast.features``, kept for users' imports.

Its code lives in :mod:`forecast.data.features`; this module names it where README
lines, notebooks and scripts import it (``from forecast.features import ...``).
"""

from __future__ import annotations

from forecast.data.features import (
    CALENDAR_FEATURES,
    calendar_features,
)

__all__ = ["CALENDAR_FEATURES", "calendar_features"]
