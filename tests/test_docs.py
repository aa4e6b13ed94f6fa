"""The documentation site's checks fail when they should (docs/conf.py, ``make docs``).

``make docs`` builds the whole site with warnings as errors; these tests build a tiny
project instead, with the site's own configuration (``docs/conf.py``, read in the Sphinx
process) and its API-reference extension (``docs/_ext/public_api.py``) pointed at a toy
package, and show that the two failures the issue asks for are caught: a public function
that loses its docstring, and a page that names something that no longer exists. Each
failing build has a passing twin, so a build that fails for another reason fails the test.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from optional import optional

optional("sphinx")

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

# The settings taken from the site's conf.py: everything that makes its build strict.
CONF = f"""
import runpy
import sys

_site = runpy.run_path({str(DOCS / "conf.py")!r})
for _name, _value in _site.items():
    if _name.startswith(("nitpick", "numpydoc_", "autodoc_", "autosummary_", "myst_")):
        globals()[_name] = _value
extensions = _site["extensions"]
source_suffix = _site["source_suffix"]
templates_path = [{str(DOCS / "_templates")!r}]
setup = _site["setup"]
sys.path.insert(0, {{here!r}})
public_api_package = "toypkg"
"""

TOY_DOCUMENTED = '''
def mean(values):
    """The mean of some numbers.

    Parameters
    ----------
    values : list of float

    Returns
    -------
    float

    Examples
    --------
    >>> mean([1.0, 3.0])
    2.0
    """
    return sum(values) / len(values)
'''


# make docs's flags: warnings are errors.
SPHINX = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html"]


def build(tmp_path: Path, package: str, page: str = "") -> subprocess.CompletedProcess:
    """Build a site of ``toypkg`` (``package`` is its ``__init__.py``) as ``make docs``
    builds ours; ``page`` is the text of a page of prose."""
    source = tmp_path / "src"
    (source / "toypkg").mkdir(parents=True)
    (source / "toypkg" / "__init__.py").write_text(textwrap.dedent(package))
    (source / "conf.py").write_text(CONF.format(here=str(source)))
    (source / "guide.md").write_text("# Guide\n\n" + page)
    (source / "index.md").write_text("# Toy\n\n```{toctree}\nguide\napi/index\n```\n")
    return subprocess.run(
        [*SPHINX, str(source), str(tmp_path / "html")],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_a_public_function_without_a_docstring_fails_the_build(tmp_path: Path) -> None:
    package = TOY_DOCUMENTED + "\n\ndef median(values):\n    return sorted(values)[0]\n"
    documented = build(tmp_path / "ok", TOY_DOCUMENTED + '\n__all__ = ["mean"]\n')
    assert documented.returncode == 0, documented.stderr
    # median is listed in __all__, as a new public name would be, and has no docstring.
    missing = build(tmp_path / "missing", package + '\n__all__ = ["mean", "median"]\n')
    assert missing.returncode != 0
    assert "GL08" in missing.stderr
    assert "toypkg.median" in missing.stderr


def test_a_page_naming_what_no_longer_exists_fails_the_build(tmp_path: Path) -> None:
    package = TOY_DOCUMENTED + '\n__all__ = ["mean"]\n'
    good = build(tmp_path / "ok", package, page="Averages: {func}`toypkg.mean`.\n")
    assert good.returncode == 0, good.stderr
    # `average` was the old name of `mean`: the page still says it.
    gone = build(tmp_path / "gone", package, page="Averages: {func}`toypkg.average`.\n")
    assert gone.returncode != 0
    assert "toypkg.average" in gone.stderr
    assert "reference target not found" in gone.stderr


@pytest.mark.parametrize(
    ("link", "broken"),
    [
        ('<a href="guide.html#usage">', []),
        ('<a href="guide.html#gone">', ["index.html: guide.html#gone (no such anchor)"]),
        ('<a href="old.html">', ["index.html: old.html (no such file)"]),
        ('<a href="https://example.org/nowhere">', []),  # external: not followed offline
    ],
)
def test_the_link_check_finds_missing_pages_and_anchors(tmp_path, link, broken) -> None:
    sys.path.insert(0, str(DOCS))
    try:
        from check_links import broken_links
    finally:
        sys.path.remove(str(DOCS))
    (tmp_path / "index.html").write_text(f"<html><body>{link}x</a></body></html>")
    (tmp_path / "guide.html").write_text('<html><body><h1 id="usage">U</h1></body></html>')
    assert broken_links(tmp_path) == broken


# Public names whose docstring has no Examples section yet (found when the site was built,
# issue 23): exceptions, protocols, result and configuration classes, two converters and
# four windowing helpers. Shrink this set as they get examples; never grow it.
WITHOUT_EXAMPLES = {
    "forecast.BadSeriesError",
    "forecast.BaseForecaster",
    "forecast.DataError",
    "forecast.DataTypeError",
    "forecast.Forecast",
    "forecast.ForecastError",
    "forecast.Forecaster",
    "forecast.InvalidParameterError",
    "forecast.MissingHistoryError",
    "forecast.ModelFileError",
    "forecast.NumericalError",
    "forecast.RecurrentConfig",
    "forecast.Terminated",
    "forecast.backtest.BacktestResult",
    "forecast.interop.from_darts",
    "forecast.interop.from_sktime",
    "forecast.windowing.ShuffledWindowSampler",
    "forecast.windowing.WindowIndex",
    "forecast.windowing.last_windows",
    "forecast.windowing.window_starts",
}


def test_every_new_public_name_has_examples() -> None:
    # The API reference lists the same names (docs/_ext/public_api.py); pytest runs the
    # examples as doctests (--doctest-modules).
    import importlib
    import inspect

    from numpydoc.docscrape import NumpyDocString

    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        from public_api import public_modules, public_names
    finally:
        sys.path.remove(str(DOCS / "_ext"))
    without = set()
    for module in public_modules():
        for name in public_names(module):
            obj = getattr(importlib.import_module(module), name)
            if callable(obj) and not NumpyDocString(inspect.getdoc(obj) or "")["Examples"]:
                without.add(f"{module}.{name}")
    assert without - WITHOUT_EXAMPLES == set(), "give these an Examples section"
    assert WITHOUT_EXAMPLES - without == set(), "these have examples now: take them off the list"


def _python_blocks(page: Path) -> list[tuple[int, str]]:
    """The ```python blocks of a Markdown page (not its executed {code-cell} blocks), with
    the line each starts on."""
    blocks, lines, start = [], page.read_text(encoding="utf-8").splitlines(), None
    for number, line in enumerate(lines, 1):
        if start is None and line.strip() == "```python":
            start, body = number, []
        elif start is not None and line.strip() == "```":
            blocks.append((start, "\n".join(body)))
            start = None
        elif start is not None:
            body.append(line)
    return blocks


_SITE = (p for p in DOCS.rglob("*.md") if not p.relative_to(DOCS).parts[0].startswith("_"))
PAGES = [ROOT / "README.md", *sorted(_SITE)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_pages_code_parses_and_imports_what_exists(page: Path) -> None:
    # The guide's snippets use frames of the reader's (df, long_df) and are not executed
    # (the quick start and the examples are, at build time); they must still be Python, and
    # every name they import from forecast must exist.
    import ast
    import importlib

    for line, code in _python_blocks(page):
        tree = ast.parse(code, filename=f"{page.name}:{line}")
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("forecast"):
                module = importlib.import_module(node.module or "")
                for alias in node.names:
                    assert hasattr(module, alias.name), f"{page.name}:{line}: {alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("forecast"):
                        importlib.import_module(alias.name)
