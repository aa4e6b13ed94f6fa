"""Loading a model and predicting imports neither torch nor Lightning (issue 20, a fast
predict path), and predicts what the process that fitted the model predicted.

Lightning takes seconds to import and torch about 1.1 s (more than the forecast of 2,000
series), so only ``fit`` imports them; every forecast runs the network in NumPy
(:mod:`forecast.neural.inference`). These tests load and predict in a fresh Python process,
from Python and through the command line, with every kind of model file forecast writes
(LSTM, GRU and RNN networks; quantile heads; two layers; known-future, static and past
covariates; ``missing="mask"``; a target transform; conformal intervals; an ensemble of
networks; a baseline), fail if torch, Lightning or anything else that only training or
plotting needs was imported, and compare the forecasts with those of the fitted models,
bit for bit. ``benchmarks/cli_latency.py`` measures what the remaining imports cost.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import FAST, make_long_frame

from forecast import (
    EnsembleForecaster,
    GRUForecaster,
    LSTMForecaster,
    RNNForecaster,
    SeasonalNaiveForecaster,
)
from forecast.io.model_file import read, write

# Top-level packages that load + predict must not import: torch and Lightning and its parts
# (training), the loggers Lightning brings (training), matplotlib (plots).
TRAINING_AND_PLOTTING = (
    "torch",
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
HORIZON = 2

# Run in the child: load each file, predict from the given data, save the forecasts, report
# what was imported (top-level packages, and whether the NumPy forward ran).
PYTHON_CHILD = """
import json, sys
import pandas as pd
import forecast

future = pd.read_parquet(sys.argv[1])
rows = {}
for path in sys.argv[2:]:
    df = pd.read_parquet(path + ".data.parquet")
    model = forecast.load(path)
    given = future if getattr(model, "future_names_", []) else None
    forecasts = model.predict(df, future_covariates=given)
    forecasts.to_pickle(path + ".pkl")
    rows[path] = len(forecasts)
modules = sorted({m.split(".")[0] for m in sys.modules})
numpy_forward = "forecast.neural.inference" in sys.modules
print(json.dumps({"rows": rows, "modules": modules, "numpy_forward": numpy_forward}))
"""

CLI_CHILD = """
import json, sys
from forecast.cli.main import main

future = sys.argv[1]
codes = {}
for path in sys.argv[2:]:
    data = path + ".data.parquet"
    args = ["predict", "--model", path, "--data", data, "--out", path + ".csv", "--quiet"]
    args += ["--no-metadata", *(["--future-data", future] if "future" in path else [])]
    codes[path] = main(args)
modules = sorted({m.split(".")[0] for m in sys.modules})
numpy_forward = "forecast.neural.inference" in sys.modules
print(json.dumps({"codes": codes, "modules": modules, "numpy_forward": numpy_forward}))
"""


def _frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Three monthly series with a past, a known-future, a static and a gappy covariate
    (NaN, for ``missing="mask"`` only), and the known-future covariate over the horizon
    after each series."""
    df = make_long_frame()
    rng = np.random.default_rng(1)
    df["temp"] = rng.standard_normal(len(df))
    df["promo"] = (df["ds"].dt.month % 3 == 0).astype(float)
    df["size"] = df["unique_id"].map({"a": 1.0, "b": 2.0, "c": 5.0})
    df["gappy"] = np.where(np.arange(len(df)) % 7 == 3, np.nan, rng.standard_normal(len(df)))
    ends = df.groupby("unique_id")["ds"].max()
    future = pd.concat(
        [
            pd.DataFrame(
                {"unique_id": sid, "ds": pd.date_range(end, periods=HORIZON + 1, freq="MS")[1:]}
            )
            for sid, end in ends.items()
        ],
        ignore_index=True,
    )
    future["promo"] = (future["ds"].dt.month % 3 == 0).astype(float)
    return df, future


def _models() -> dict[str, object]:
    """One model of each kind, named for what it holds (``future`` in the name: it reads
    known-future covariates)."""
    common = {"seq_len": 6, "horizon": HORIZON, "target": "y", **LONG, **FAST}
    return {
        "lstm_quantiles_two_layers_log1p.safetensors": LSTMForecaster(
            quantiles=[0.1, 0.5, 0.9],
            num_layers=2,
            past_covariates=["temp"],
            target_transform="log1p",
            **common,
        ),
        "gru_future_static.safetensors": GRUForecaster(
            past_covariates=[],
            future_covariates=["promo"],
            static_covariates=["size"],
            **common,
        ),
        "rnn_masked.safetensors": RNNForecaster(
            past_covariates=["gappy"], missing="mask", **common
        ),
        "gru_conformal.safetensors": GRUForecaster(
            past_covariates=[],
            intervals="conformal",
            coverage=0.8,
            calibration_windows=4,
            **common,
        ),
        "lstm_ensemble.safetensors": EnsembleForecaster(
            LSTMForecaster(past_covariates=["temp"], **common), n_members=2
        ),
        "naive.safetensors": SeasonalNaiveForecaster(
            horizon=HORIZON, season_length=12, target="y", **LONG
        ),
    }


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> tuple[Path, dict[str, pd.DataFrame]]:
    """One model file of each kind, its data as Parquet (``NAME.data.parquet``), the
    known-future covariates, and what each fitted model predicts in this process."""
    folder = tmp_path_factory.mktemp("fast_predict")
    frame, future = _frames()
    future.to_parquet(folder / "future.parquet")
    expected = {}
    for name, model in _models().items():
        df = frame if "masked" in name else frame.drop(columns="gappy")
        df.to_parquet(folder / f"{name}.data.parquet")
        model.fit(df).save(folder / name)
        given = future if "future" in name else None
        expected[name] = model.predict(df, future_covariates=given)
    return folder, expected


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


def test_load_and_predict_import_no_torch_and_predict_as_fitted(saved):
    folder, expected = saved
    files = list(expected)
    report = _child(PYTHON_CHILD, "future.parquet", *files, cwd=folder)
    assert report["rows"] == dict.fromkeys(files, 3 * HORIZON)  # 3 series: it predicted
    assert report["numpy_forward"]  # the networks ran (a check that the check can see)
    assert set(TRAINING_AND_PLOTTING).isdisjoint(report["modules"])
    for name, forecasts in expected.items():
        loaded = pd.read_pickle(folder / f"{name}.pkl")
        pd.testing.assert_frame_equal(loaded, forecasts, check_exact=True)


def test_cli_predict_imports_no_torch_and_predicts_as_fitted(saved):
    folder, expected = saved
    files = list(expected)
    report = _child(CLI_CHILD, "future.parquet", *files, cwd=folder)
    assert report["codes"] == dict.fromkeys(files, 0)
    assert report["numpy_forward"]
    assert set(TRAINING_AND_PLOTTING).isdisjoint(report["modules"])
    for name, forecasts in expected.items():
        assert (folder / f"{name}.csv").read_text() == forecasts.to_csv(index=False), name


DAMAGED_CHILD = """
import json, sys
import forecast

try:
    forecast.load(sys.argv[1])
    error = None
except forecast.ModelFileError as exc:
    error = str(exc)
print(json.dumps({"error": error, "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def test_damaged_weights_are_refused_by_name_without_torch(saved, tmp_path):
    folder, _ = saved
    document, arrays = read(folder / "gru_future_static.safetensors")
    key = "model.network.encoder.weight_hh_l0"
    damaged = arrays[key].copy()
    damaged.flat[5] = np.nan
    write(tmp_path / "nan.safetensors", document, {**arrays, key: damaged})
    report = _child(DAMAGED_CHILD, "nan.safetensors", cwd=tmp_path)
    assert "['network.encoder.weight_hh_l0'] hold NaN or infinite values" in report["error"]
    assert "torch" not in report["modules"]


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
    assert "torch" not in child["heavy"]
    assert "pandas" in child["heavy"]  # (a check that the check can see)
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
