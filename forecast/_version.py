"""The installed version of forecast, for the package, model files and the command line.

A module of its own so that :mod:`forecast.io` and :mod:`forecast.cli` read it without
importing the package ``__init__`` (which sits above them).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("forecast")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"
