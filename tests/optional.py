"""Optional extras in tests: skipped where missing, required where CI says so.

``FORECAST_REQUIRE_INTEROP`` lists the extras a CI run installed (``polars,pyarrow,darts``,
or ``all``): a test module that needs one of them then fails at import instead of being
skipped, so the run proves that the tests ran.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest


def required(name: str) -> bool:
    """Whether this run must have the optional package ``name``."""
    listed = os.environ.get("FORECAST_REQUIRE_INTEROP", "")
    names = {n.strip() for n in listed.split(",") if n.strip()}
    return "all" in names or "1" in names or name in names


def optional(name: str) -> ModuleType:
    """Import ``name``: skip the module's tests without it, unless :func:`required`."""
    if required(name.partition(".")[0]):
        return importlib.import_module(name)
    return pytest.importorskip(name)
