"""The API reference's pages, written from the package at build time (a Sphinx extension).

The public names are not listed by hand: they are every name in the ``__all__`` of
``forecast`` and of each public top-level module (``forecast.metrics``,
``forecast.plotting``, ...: every module or package directly under ``forecast/`` whose name
has no leading underscore and that is not one of the internal layers in ``INTERNAL``). A
name added to an ``__all__`` gets its page on the next build, and a public name without a
docstring then fails the build (``numpydoc_validation_checks`` in ``conf.py``, warnings as
errors). A name exported twice (``forecast.NaiveForecaster`` is
``forecast.baselines.NaiveForecaster``) is documented once, where it is first listed, and
linked from the other module's page.

Written here rather than with ``sphinx-apidoc`` or autosummary's ``:recursive:``: both
document modules, not the ``__all__`` of a few re-exporting ones, and would publish the
internal layers.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Any

# The layers under the public names (docs/architecture.md): documented by that page, not by
# the API reference.
INTERNAL = frozenset({"cli", "data", "evaluation", "forecasters", "io", "neural", "protocol"})


def public_modules(package: str = "forecast") -> list[str]:
    """``package`` and its public top-level modules, in the order the reference lists them."""
    root = importlib.import_module(package)
    names = [
        f"{package}.{info.name}"
        for info in pkgutil.iter_modules(root.__path__)
        if not info.name.startswith("_") and info.name not in INTERNAL
    ]
    return [package, *sorted(names)]


def public_names(module: str) -> list[str]:
    """The names ``module`` exports: its ``__all__``, which a public module must have."""
    exported = getattr(importlib.import_module(module), "__all__", None)
    if exported is None:
        raise RuntimeError(
            f"{module} is a public module (docs/_ext/public_api.py) but has no __all__: "
            "list its public names there, or give it a leading underscore."
        )
    return sorted(str(name) for name in exported)


def _title(text: str, char: str) -> str:
    return f"{text}\n{char * len(text)}\n"


def module_page(module: str, seen: dict[int, str]) -> str:
    """The reST of one module's page; ``seen`` maps objects already documented to names."""
    lines = [
        _title(f"``{module}``", "="),
        f".. automodule:: {module}\n   :no-members:\n",
        f".. currentmodule:: {module}\n",
    ]
    documented, constants, linked = [], [], []
    for name in public_names(module):
        obj: Any = getattr(importlib.import_module(module), name)
        if not (callable(obj) or isinstance(obj, type)):
            constants.append(f".. autodata:: {name}\n")
            continue
        if id(obj) in seen:
            linked.append(f"- ``{name}``: :obj:`{seen[id(obj)]}`")
            continue
        seen[id(obj)] = f"{module}.{name}"
        documented.append(name)
    if documented:
        entries = "".join(f"   {name}\n" for name in documented)
        lines.append(f".. autosummary::\n   :toctree: generated\n   :nosignatures:\n\n{entries}")
    if constants:
        lines.append(_title("Constants", "-") + "\n" + "\n".join(constants))
    if linked:
        lines.append(_title("Also here", "-") + "\n" + "\n".join(linked) + "\n")
    return "\n".join(lines)


def write_pages(folder: Path, package: str = "forecast") -> list[str]:
    """Write ``folder/<module>.rst`` for every public module and ``folder/index.rst``."""
    folder.mkdir(parents=True, exist_ok=True)
    seen: dict[int, str] = {}
    modules = public_modules(package)
    for module in modules:
        _write_if_changed(folder / f"{module}.rst", module_page(module, seen))
    index = [
        _title("API reference", "="),
        f"Every public name of ``{package}``, from its docstring. The modules:\n",
        ".. toctree::\n   :maxdepth: 1\n\n" + "".join(f"   {m}\n" for m in modules),
    ]
    _write_if_changed(folder / "index.rst", "\n".join(index))
    return modules


def _write_if_changed(path: Path, text: str) -> None:
    # An unchanged page keeps its mtime, so an incremental build does not redo it.
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def _on_config_inited(app: Any, config: Any) -> None:
    write_pages(Path(app.srcdir) / "api", config.public_api_package)


def setup(app: Any) -> dict[str, Any]:
    app.add_config_value("public_api_package", "forecast", "env")
    # Before Sphinx lists the source files, which autosummary then reads for its directives.
    app.connect("config-inited", _on_config_inited)
    return {"parallel_read_safe": True, "version": "1"}
