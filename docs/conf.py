"""Sphinx configuration of the documentation site (``make docs``; the pages are in docs/).

Why Sphinx: it is what the scientific-Python projects our users come from build their sites
with (scikit-learn, pandas, sktime, Darts' reference), and numpydoc reads the docstrings we
already write. Markdown pages through myst-parser; the examples (jupytext percent files) are
converted to notebooks and executed here in quick mode by myst-nb; the API reference is
written from the package's ``__all__`` (``_ext/public_api.py``).

Kept true by ``make docs`` (warnings are errors, ``-W``): a cross-reference to a name that
does not exist (``nitpicky``), a public name without a docstring (numpydoc's ``GL08``), an
example that raises, and a page that links to a missing page or anchor.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(ROOT))

import jupytext  # noqa: E402

import forecast  # noqa: E402

project = "forecast"
author = "forecast developers"
copyright = "forecast developers"
release = forecast.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "myst_nb",  # Markdown pages (it loads myst-parser) and the example notebooks
    "public_api",
]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
templates_path = ["_templates"]
exclude_patterns = ["_build", "_templates", "_ext", "**.ipynb_checkpoints"]
root_doc = "index"

# Broken references are errors (with -W): a page or docstring naming something that does not
# exist. The internal layers (docs/architecture.md) are not in the API reference, so
# references into them are not checked; neither are third-party names, which need inventories
# from the network (intersphinx), and the build runs offline.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"forecast\.(cli|data|evaluation|forecasters|io|neural|protocol)(\..*)?"),
    (r"py:mod", r"forecast\.plotting\.(plots|frames)"),
    (
        r"py:.*",
        r"(pandas|pd|numpy|np|torch|lightning|L|sklearn|matplotlib|plt|polars|pyarrow)(\..*)?",
    ),
    (r"py:.*", r"(darts|sktime|narwhals|scipy|abc|datetime|pathlib|os|typing|collections)(\..*)?"),
]

# autodoc and numpydoc: signatures without type hints (the Parameters sections carry the
# types, in words a user reads); members in source order; a page per public name
# (autosummary, _templates/autosummary/).
autodoc_typehints = "none"
autodoc_member_order = "bysource"
# A method documents itself or is left out: a Lightning hook that we override without a
# docstring would otherwise show Lightning's text (and its references) as ours.
autodoc_inherit_docstrings = False
# __getitems__: how a WindowDataset hands DataLoader a whole batch.
autodoc_default_options = {"show-inheritance": True, "special-members": "__getitems__"}
autosummary_generate = True
autosummary_imported_members = True
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
numpydoc_class_members_toctree = False
# GL08: a documented object without a docstring. The Examples of every public name run as
# doctests under pytest (pyproject.toml: --doctest-modules), so they are not run twice here.
numpydoc_validation_checks = {"GL08"}
# Undocumented members are listed too (_templates/autosummary/class.rst), so a method that
# loses its docstring fails as well; except RecurrentModule's overrides of Lightning's hooks,
# whose contract Lightning documents.
numpydoc_validation_exclude = {
    r"^forecast\.RecurrentModule\.(configure_optimizers|forward|on_\w+|\w+_step)$",
}

# Markdown: `(label)=` targets, definition lists, `:::` fences; heading anchors for links.
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3


def _skip_foreign_member(app, what, name, obj, skip, options):
    """Leave out the members a class inherits from outside ``forecast`` (scikit-learn's
    ``set_*_request``, Lightning's hooks): their docstrings are not ours to keep true."""
    module = getattr(getattr(obj, "fget", obj), "__module__", None) or ""  # properties too
    if what == "class" and not module.startswith("forecast"):
        return True
    return None


def _scaling_pages(app, docname, source):
    """End guide/scaling with a toctree of docs/scaling*.md (Spark, Dask: their own
    branches) when there are any; a toctree glob that matches nothing is a warning."""
    pages = sorted(path.stem for path in DOCS.glob("scaling*.md"))
    if docname == "guide/scaling" and pages:
        entries = "".join(f"/{page}\n" for page in pages)
        source[0] += f"\n```{{toctree}}\n:maxdepth: 1\n\n{entries}```\n"


def setup(app):
    app.connect("autodoc-skip-member", _skip_foreign_member)
    app.connect("source-read", _scaling_pages)


# The examples: examples/0*.py (jupytext percent format) become notebooks under
# _generated/examples, executed at every build with their quick budgets (and so is the quick
# start, quickstart.md). An example that raises fails the build; its figures and printed
# numbers are the page.
EXAMPLES_OUT = DOCS / "_generated" / "examples"
EXAMPLES_OUT.mkdir(parents=True, exist_ok=True)
for source in sorted((ROOT / "examples").glob("[0-9]*.py")):
    notebook = jupytext.read(source, fmt="py:percent")
    target = EXAMPLES_OUT / f"{source.stem}.ipynb"
    text = jupytext.writes(notebook, fmt="ipynb")
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")
# The files the examples read beside them (the nightly job's TOML): a notebook runs in its own
# folder, as Jupyter runs it.
for companion in sorted((ROOT / "examples").glob("*.toml")):
    target = EXAMPLES_OUT / companion.name
    if not target.exists() or target.read_bytes() != companion.read_bytes():
        target.write_bytes(companion.read_bytes())
# The kernels inherit this environment: quick budgets, figures into a scratch folder (the
# page shows them inline), one thread per kernel (tiny networks are fastest on one).
os.environ["FORECAST_EXAMPLES_QUICK"] = "1"
os.environ["FORECAST_EXAMPLES_OUT"] = tempfile.mkdtemp(prefix="forecast-docs-examples-")
os.environ.setdefault("OMP_NUM_THREADS", "1")
# No progress bars on the pages: a stored notebook output keeps every redraw of a bar as a
# line of its own (Jupyter overwrites them; the rendered page would not). tqdm reads it.
os.environ["TQDM_DISABLE"] = "1"
nb_execution_mode = "force"
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_execution_timeout = 300
nb_execution_in_temp = False
nb_merge_streams = True

html_theme = "pydata_sphinx_theme"
html_title = f"forecast {release}"
html_static_path = ["_static"]
html_css_files = ["wide.css"]
html_theme_options = {
    # Every top-level page in the header, none behind a "More" menu.
    "header_links_before_dropdown": 8,
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_show_sourcelink = False
