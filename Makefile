# The README's two commands: `make demo` (install, run the main job) and `make test`.
# TORCH pins the PyTorch wheel installed first. On our CPU build machines torch==2.13.0 is a
# local CPU wheel; elsewhere override it (`make test TORCH=torch`) or leave torch to pip.
PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
BIN := $(VENV)/bin

# The two lean runs .ci/run makes after `make test`, each in a venv of its own: every
# runtime dependency at its pyproject.toml floor (.ci/floors.py writes the pip constraints;
# torch stays $(TORCH), the one exception: other torch builds are multi-GB CUDA downloads),
# and pandas 2.x with the rest newest. PANDAS2_EXTRAS: the extras the pandas-2 run installs
# (comma-separated); add one whose packages need pandas < 3: sktime 1.2 pins pandas < 3.1, and
# Darts rides along there to keep `make test`'s install lean. FORECAST_REQUIRE_INTEROP
# (tests/optional.py) turns a skip for a missing optional package into a failure, so each run
# proves its converters' tests ran.
FLOORS_VENV ?= .venv-floors
PANDAS2_VENV ?= .venv-pandas2
PANDAS2_EXTRAS ?= test,darts,sktime
# What those runs test: the fast tests of the modules that call the dependencies (pandas in
# and out, the Lightning fit, scikit-learn's checks, safetensors files, matplotlib figures,
# the CLI's tables) and the docstring examples (pandas' output); not the architecture, the
# benchmark scripts, the examples or the demo, which `make test` covers.
COMPAT_TESTS ?= -m "not slow" forecast tests/test_data.py tests/test_panel.py \
	tests/test_frequency.py tests/test_estimator.py tests/test_module.py \
	tests/test_averaging.py tests/test_lightning_internals.py tests/test_common.py \
	tests/test_persistence.py tests/test_plotting.py tests/test_cli.py tests/test_backtest.py \
	tests/test_frames.py tests/test_conventions.py

.PHONY: demo test lint install install-dev examples docs test-floors test-pandas2 dist smoke

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e .

install-dev: $(BIN)/python
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"

demo: install
	$(BIN)/forecast demo

lint:
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

# The optional packages `make test` must find (tests/optional.py; sphinx: tests/test_docs.py);
# .ci/run adds postgres, for the server it starts (.ci/postgres.sh).
REQUIRE ?= polars,pyarrow,narwhals,sqlalchemy,duckdb,duckdb_engine,pyspark,dask,distributed,sphinx

test: install-dev lint
	FORECAST_REQUIRE_INTEROP=$(REQUIRE) $(BIN)/python -m pytest

test-floors:
	test -x $(FLOORS_VENV)/bin/python || $(PYTHON) -m venv $(FLOORS_VENV)
	$(PYTHON) .ci/floors.py --skip torch > $(FLOORS_VENV)/constraints.txt
	$(FLOORS_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(FLOORS_VENV)/bin/python -m pip install --quiet "$(TORCH)"
	$(FLOORS_VENV)/bin/python -m pip install --quiet -c $(FLOORS_VENV)/constraints.txt -e ".[test]"
	$(FLOORS_VENV)/bin/python .ci/floors.py --check --skip torch
	FORECAST_REQUIRE_INTEROP=polars,pyarrow,narwhals $(FLOORS_VENV)/bin/python -m pytest \
		-p no:cacheprovider $(COMPAT_TESTS)

test-pandas2:
	test -x $(PANDAS2_VENV)/bin/python || $(PYTHON) -m venv $(PANDAS2_VENV)
	$(PANDAS2_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PANDAS2_VENV)/bin/python -m pip install --quiet "$(TORCH)"
	$(PANDAS2_VENV)/bin/python -m pip install --quiet -e ".[$(PANDAS2_EXTRAS)]" "pandas<3"
	$(PANDAS2_VENV)/bin/python -c "import pandas; print('pandas', pandas.__version__)"
	FORECAST_REQUIRE_INTEROP=all $(PANDAS2_VENV)/bin/python -m pytest -p no:cacheprovider \
		$(COMPAT_TESTS) tests/test_interop.py

# The worked analyses with their full budgets (minutes); figures go to examples/output/.
# docs/forecast.png is examples/output/air_forecast.png from this run.
examples: install
	cd examples && for f in 0*.py; do ../$(BIN)/python $$f || exit 1; done

# The documentation site (docs/conf.py), into docs/_build/html: the docs extra (part of dev)
# installed into .venv, then Sphinx with warnings as errors (-W: a broken cross-reference, a
# public name without a docstring, an example that raises, a link to a missing page) and the
# built pages' internal links checked (docs/check_links.py). The examples and the quick start
# are executed, in quick mode.
DOCS_BUILD ?= docs/_build

docs: install-dev
	$(BIN)/python -m sphinx -W --keep-going -q -b html -d $(DOCS_BUILD)/doctrees \
		docs $(DOCS_BUILD)/html
	$(BIN)/python docs/check_links.py $(DOCS_BUILD)/html

# Release artefacts (docs/install.md: "Releasing"): the sdist, then the wheel built from that sdist
# (python -m build's default, so the sdist is proven to build), both checked by twine.
# `make smoke` installs the wheel into a fresh venv outside the repository and uses it
# (.ci/smoke.py); .ci/run runs both after the tests.
DIST ?= dist

dist: install-dev
	rm -rf $(DIST)
	$(BIN)/python -m build --outdir $(DIST) .
	$(BIN)/twine check --strict $(DIST)/*

smoke:
	TORCH="$(TORCH)" $(PYTHON) .ci/smoke.py $(DIST)
