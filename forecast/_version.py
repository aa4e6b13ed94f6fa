"""The installed version of forecast, for the package, model files and the command line.

A module of its own so that :mod:`forecast.io` and :mod:`forecast.cli` read it without
importing the package ``__init__`` (which sits above them).

``__version__`` is looked up on first use (PEP 562): :mod:`importlib.metadata` and the scan
of the installed distributions took about 52 ms of the 65 ms of ``import forecast.cli``
(``python -X importtime``), which ``forecast --help`` paid without ever printing a version.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__: str  # declared, not bound: the first look-up goes to __getattr__ below


def __getattr__(name: str) -> str:
    if name != "__version__":
        raise AttributeError(f"module 'forecast._version' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("forecast")
    except PackageNotFoundError:  # running from a source tree that is not installed
        value = "0.0.0+unknown"
    globals()["__version__"] = value  # later look-ups skip this function
    return value
