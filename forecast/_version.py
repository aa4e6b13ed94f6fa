"""The version of forecast, for the package, model files and the command line.

The one place the version is written: ``pyproject.toml`` reads it from here when a wheel
or sdist is built (``[tool.hatch.version]``), and the package, the model files and
``forecast --version`` read it from here at run time. A module of its own so that
:mod:`forecast.io` and :mod:`forecast.cli` read it without importing the package
``__init__`` (which sits above them).

A literal rather than a look-up in the installed distributions' metadata
(:mod:`importlib.metadata`): that look-up cost about 52 ms of the 65 ms of ``import
forecast.cli`` (``python -X importtime``), gave ``0.0.0+unknown`` in a checkout that is not
installed, and would name whichever distribution provides the ``forecast`` import name (an
unrelated package on PyPI does too: ours is distributed as ``forecast-rnn``).
"""

from __future__ import annotations

__all__ = ["__version__"]

# Releasing: change this line, move CHANGELOG.md's [Unreleased] under this version, tag
# vX.Y.Z (docs/install.md, "Releasing").
__version__ = "0.1.0"
