# The README's two commands: `make demo` (install, run the main job) and `make test`.
# TORCH pins the PyTorch wheel installed first. On our CPU build machines torch==2.13.0 is a
# local CPU wheel; elsewhere override it (`make test TORCH=torch`) or leave torch to pip.
PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
BIN := $(VENV)/bin

.PHONY: demo test lint install install-dev examples

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

test: install-dev lint
	$(BIN)/python -m pytest

# The worked analyses with their full budgets (minutes); figures go to examples/output/.
# docs/forecast.png is examples/output/air_forecast.png from this run.
examples: install
	cd examples && for f in 0*.py; do ../$(BIN)/python $$f || exit 1; done
