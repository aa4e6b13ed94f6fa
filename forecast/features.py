"""Calendar features: the public path ``forecast.features``, kept for users' imports.

Its code lives in :mod:`forecast.data.features`; this module names it where README
lines, notebooks and scripts import it (``from forecast.features import ...``).
"""

from __future__ import annotations

from forecast.data import features as _code
from forecast.data.features import *  # noqa: F403  (every public name of the code, as listed below)

__all__ = _code.__all__
