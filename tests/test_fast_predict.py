"""Loading a model and predicting imports torch, never Lightning (issue 20, a fast predict path).

Lightning takes seconds to import (more than the forecast of 2,000 series), so only
``fit`` imports it (``forecast/forecasters/recurrent.py``, ``_fit``). These tests load and
predict in a fresh Python process, from Python and through the command line, with every
kind of model file forecast writes (a recurrent network with quantiles, one with conformal
intervals, an ensemble of networks, a baseline), and fail if Lightning or anything else
that only training or plotting needs was imported. ``benchmarks/cli_latency.py`` measures
what the remaining imports cost.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import FAST, make_long_frame

from forecast import EnsembleForecaster, GRUForecaster, LSTMForecaster, SeasonalNaiveForecaster

# Top-level packages that load + predict must not import: Lightning and its parts (training),
# the loggers Lightning brings (training), matplotlib (plots).
TRAINING_AND_PLOTTING = (
    "lightning",
    "lightning_fabric",
    "lightning_utilities",
    "pytorch_lightning",
    "torchmetrics",
    "tensorboard",
    "tensorboardX",
    "matplotlib",
)

LONG = {"id_col": "unique_id", "time_col": "ds", "freq": "MS"}

# Run in the child: load each file, predict from the given data, report what was imported.
PYTHON_CHILD = """
import json, sys
import pandas as pd
import forecast

df = pd.read_csv(sys.argv[1], parse_dates=["ds"])
rows = {}
for path in sys.argv[2:]:
    rows[path] = len(forecast.load(path).predict(df))
print(json.dumps({"rows": rows, "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""

CLI_CHILD = """
import json, sys
from forecast.cli.main import main

data, out = sys.argv[1], sys.argv[2]
codes = {}
for path in sys.argv[3:]:
    codes[path] = main(["predict", "--model", path, "--data", data, "--out", out, "--quiet"])
print(json.dumps({"codes": codes, "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> tuple[Path, list[str]]:
    """A long monthly frame as CSV and one model file of each kind, fitted on it."""
    folder = tmp_path_factory.mktemp("fast_predict")
    df = make_long_frame()
    df.to_csv(folder / "data.csv", index=False)
    models = {
        "quantiles.safetensors": LSTMForecaster(
            seq_len=6, horizon=2, quantiles=[0.1, 0.5, 0.9], **LONG, **FAST
        ),
        "conformal.safetensors": GRUForecaster(
            seq_len=6,
            horizon=2,
            intervals="conformal",
            coverage=0.8,
            calibration_windows=4,
            **LONG,
            **FAST,
        ),
        "ensemble.safetensors": EnsembleForecaster(
            GRUForecaster(seq_len=6, horizon=2, **LONG, **FAST), n_members=2
        ),
        "naive.safetensors": SeasonalNaiveForecaster(horizon=2, season_length=12, **LONG),
    }
    for name, model in models.items():
        model.fit(df).save(folder / name)
    return folder, list(models)


def _child(code: str, *args: str, cwd: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "OMP_NUM_THREADS": "2"},
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def test_load_and_predict_import_no_lightning(saved):
    folder, files = saved
    report = _child(PYTHON_CHILD, "data.csv", *files, cwd=folder)
    assert report["rows"] == dict.fromkeys(files, 3 * 2)  # 3 series, horizon 2: it predicted
    assert "torch" in report["modules"]  # the networks ran (a check that the check can see)
    assert set(TRAINING_AND_PLOTTING).isdisjoint(report["modules"])


def test_cli_predict_imports_no_lightning(saved):
    folder, files = saved
    report = _child(CLI_CHILD, "data.csv", "out.csv", *files, cwd=folder)
    assert report["codes"] == dict.fromkeys(files, 0)
    assert (folder / "out.csv").stat().st_size > 0
    assert "torch" in report["modules"]
    assert set(TRAINING_AND_PLOTTING).isdisjoint(report["modules"])


BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def cli_latency(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import cli_latency

    yield cli_latency
    sys.modules.pop("cli_latency", None)


@pytest.mark.slow
def test_latency_benchmark_smoke(cli_latency, tmp_path, capsys):
    out = tmp_path / "latency.json"
    args = ["--series", "12", "--length", "60", "--runs", "1", "--no-floors", "--json", str(out)]
    assert cli_latency.main(args) == 0
    results = json.loads(out.read_text())
    child = results["python: this checkout"][0]
    assert child["rows"] == 12 * cli_latency.HORIZON
    assert "lightning" not in child["heavy"]
    assert "torch" in child["heavy"]
    wall, cpu = results["cli: this checkout"][0]
    assert wall > 0
    assert cpu > 0  # the children's CPU time is read
    assert "| cli: this checkout, OMP_NUM_THREADS=1 |" in capsys.readouterr().out


def test_latency_benchmark_extracts_a_baseline(cli_latency, tmp_path):
    """The package at a commit, compiled, to put first on PYTHONPATH."""
    package = cli_latency.extract("HEAD", tmp_path) / "forecast"
    committed = subprocess.run(
        ["git", "-C", str(BENCHMARKS.parent), "show", "HEAD:forecast/cli/main.py"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert (package / "cli" / "main.py").read_text() == committed
    assert list((package / "cli" / "__pycache__").glob("main.*.pyc"))
