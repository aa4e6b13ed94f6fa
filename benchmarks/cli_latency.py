"""Latency of ``forecast predict`` end to end, and of ``load(path).predict(df)`` after imports.

Run: ``flock /tmp/forecast-bench.lock .venv/bin/python benchmarks/cli_latency.py
--baseline-ref a8b7c87`` (about 3 minutes on 2 busy CPU cores). The machine may be shared:
compare numbers of one run only, and read the load averages it prints.

1. A daily panel of ``--series`` series (2,000) x ``--length`` days (120) is written to
   Parquet and an LSTM (seq_len 28, horizon 14, 32 units, 20 optimiser steps) is fitted on
   it and saved, once, in a temporary folder.
2. Each run times, in fresh processes and interleaved so that every variant meets the same
   load:

   * ``forecast predict --model M --data D.parquet --out F.csv`` (the installed command's
     work: ``python -m forecast``), for this checkout and, with ``--baseline-ref REF``, for
     the package as it was at that commit (its ``forecast/`` extracted with ``git archive``
     and put first on ``PYTHONPATH``; the same virtual environment);
   * the same command with ``OMP_NUM_THREADS=1``: torch's default of one thread per core
     busy-waits when other processes hold the cores;
   * ``load(path).predict(df)`` in a child that imports first, then times the load, the
     first predict and a second one (``perf_counter``), and lists the heavy packages it
     imported;
   * the floor: ``python -c "import X"`` for the packages the predict path needs (and for
     Lightning, which it must not import).

Medians (min-max) over ``--runs`` runs (5) are printed as a Markdown table; ``--json PATH``
writes every measurement.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SEQ_LEN, HORIZON, HIDDEN, STEPS = 28, 14, 32, 20

# What the predict path may import, one fresh process each ("pass": Python's own start).
FLOORS = {
    "python": "pass",
    "pandas + pyarrow": "import pandas, pyarrow.parquet",
    "scikit-learn": "import sklearn.base",
    "torch": "import torch",
    "safetensors": "import safetensors.numpy",
    "forecast (all built-in forecasters)": "import forecast.forecasters.builtin",
    "lightning (must not be imported)": "import lightning",
}

HEAVY = ("torch", "lightning", "sklearn", "scipy", "pandas", "pyarrow", "matplotlib")

PYTHON_CHILD = """
import json, sys, time
start, cpu0 = time.perf_counter(), time.process_time()
import pandas as pd
import forecast
from forecast.forecasters import builtin  # the imports load() makes, timed apart
imported, cpu1 = time.perf_counter(), time.process_time()
df = pd.read_parquet(sys.argv[2])
read, cpu2 = time.perf_counter(), time.process_time()
model = forecast.load(sys.argv[1])
loaded = time.perf_counter()
first = model.predict(df)
predicted, cpu3 = time.perf_counter(), time.process_time()
second = model.predict(df)
again = time.perf_counter()
assert first.equals(second)
print(json.dumps({
    "imports_s": imported - start, "read_s": read - imported, "load_s": loaded - read,
    "predict_s": predicted - loaded, "predict_again_s": again - predicted,
    "load_predict_s": predicted - read, "rows": len(first),
    "imports_cpu_s": cpu1 - cpu0, "load_predict_cpu_s": cpu3 - cpu2,
    "heavy": sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[3].split(","))),
}))
"""


def make_panel(n_series: int, length: int, seed: int = 0) -> pd.DataFrame:
    """Daily series with a weekly season on a random walk, in long format."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    level = rng.uniform(50, 150, size=(n_series, 1))
    season = rng.uniform(1, 10, size=(n_series, 1)) * np.sin(2 * np.pi * t / 7)
    y = level + season + rng.standard_normal((n_series, length)).cumsum(axis=1)
    return pd.DataFrame(
        {
            "unique_id": np.repeat([f"s{i:05d}" for i in range(n_series)], length),
            "ds": np.tile(pd.date_range("2024-01-01", periods=length, freq="D"), n_series),
            "y": y.reshape(-1),
        }
    )


def prepare(folder: Path, n_series: int, length: int) -> tuple[Path, Path]:
    """The Parquet panel and the saved LSTM fitted on it."""
    df = make_panel(n_series, length)
    data, model_path = folder / "panel.parquet", folder / "model.safetensors"
    df.to_parquet(data, index=False)
    fit_and_save(data, model_path)
    return data, model_path


def fit_and_save(data: Path, model_path: Path) -> None:
    """Fit the benchmark's LSTM on the panel in ``data`` with whichever ``forecast`` is
    first on the path, and save it: the baseline fits its own, since a model file written
    by newer code need not load in older code."""
    from forecast import LSTMForecaster

    df = pd.read_parquet(data)
    model = LSTMForecaster(
        seq_len=SEQ_LEN,
        horizon=HORIZON,
        id_col="unique_id",
        time_col="ds",
        target="y",
        freq="D",
        hidden_size=HIDDEN,
        batch_size=256,
        max_epochs=1,
        validation_size=0,
        progress_bar=False,
        random_state=0,
        trainer_kwargs={"max_steps": STEPS},
    )
    model.fit(df).save(model_path)


def baseline_model(data: Path, baseline: Path, folder: Path) -> Path:
    """The benchmark's model fitted and saved by the baseline code, in a child process."""
    path = folder / "baseline-model.safetensors"
    script = (
        f"import sys; sys.path.insert(1, {str(Path(__file__).parent)!r}); import cli_latency; "
        f"cli_latency.fit_and_save(*map(__import__('pathlib').Path, sys.argv[1:]))"
    )
    env = _env(baseline)
    subprocess.run(
        [sys.executable, "-c", script, str(data), str(path)], env=env, cwd=folder, check=True
    )
    return path


def extract(ref: str, folder: Path) -> Path:
    """The ``forecast/`` package at commit ``ref``, extracted under ``folder``, compiled."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", ref, "forecast"],
        capture_output=True,
        check=True,
    ).stdout
    target = folder / f"baseline-{ref}"
    target.mkdir()
    archive_path = folder / "baseline.tar"
    archive_path.write_bytes(archive)
    with tarfile.open(archive_path) as tar:
        tar.extractall(target, filter="data")
    compileall.compile_dir(target, quiet=1)  # as this checkout's: no first-run compiling
    return target


def _env(pythonpath: Path | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "OMP_NUM_THREADS")}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return {**env, **extra}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, str]:
    """Wall and CPU (user + system) seconds of ``command`` in a fresh process, and its
    stdout; fails loudly. CPU seconds move less than wall seconds when others share the
    cores (not nothing: caches and memory bandwidth are shared too)."""
    start, cpu = time.perf_counter(), _children_cpu()
    proc = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd)
    wall, cpu = time.perf_counter() - start, _children_cpu() - cpu
    if proc.returncode != 0:
        raise RuntimeError(f"{command} exited {proc.returncode}:\n{proc.stderr}")
    return wall, cpu, proc.stdout


def measure(
    data: Path, model: Path, folder: Path, runs: int, baseline: Path | None, floors: bool
) -> dict[str, list]:
    """Every measurement of every run, by variant name."""
    python = sys.executable
    predict = [python, "-m", "forecast", "predict", "--model", str(model), "--data", str(data)]
    variants: dict[str, tuple[list[str], dict[str, str]]] = {
        "cli: this checkout": ([*predict, "--out", str(folder / "new.csv")], _env(REPO)),
        "cli: this checkout, OMP_NUM_THREADS=1": (
            [*predict, "--out", str(folder / "new1.csv")],
            _env(REPO, OMP_NUM_THREADS="1"),
        ),
    }
    child = [python, "-c", PYTHON_CHILD, str(model), str(data), ",".join(HEAVY)]
    children = {"python: this checkout": (child, _env(REPO))}
    if baseline is not None:
        old_model = baseline_model(data, baseline, folder)
        old_predict = [python, "-m", "forecast", "predict", "--model", str(old_model)]
        variants["cli: baseline"] = (
            [*old_predict, "--data", str(data), "--out", str(folder / "old.csv")],
            _env(baseline),
        )
        old_child = [python, "-c", PYTHON_CHILD, str(old_model), str(data), ",".join(HEAVY)]
        children["python: baseline"] = (old_child, _env(baseline))
    results: dict[str, list] = {name: [] for name in [*variants, *children]}
    if floors:
        results |= {f"import: {name}": [] for name in FLOORS}
    for _ in range(runs):
        for name, (command, env) in variants.items():
            results[name].append(timed(command, env, folder)[:2])
        for name, (command, env) in children.items():
            results[name].append(json.loads(timed(command, env, folder)[2]))
        if floors:
            for name, statement in FLOORS.items():
                results[f"import: {name}"].append(
                    timed([python, "-c", statement], _env(REPO), folder)[:2]
                )
    # The forecasts, without the run's metadata columns (created_at differs run to run).
    metadata = ["forecast_origin", "model_checksum", "library_version", "created_at"]
    frames = {
        name: pd.read_csv(folder / name).drop(columns=metadata, errors="ignore")
        for name in ("new.csv", "new1.csv", "old.csv")
        if (folder / name).exists()
    }
    assert frames["new.csv"].equals(frames["new1.csv"]), "the thread settings changed forecasts"
    if "old.csv" in frames:  # its own fit, by older code: reported, not required to be equal
        old, new = frames["old.csv"], frames["new.csv"]
        numeric = new.select_dtypes("number").columns
        results["baseline forecasts, max abs difference"] = [
            float((old[numeric] - new[numeric]).abs().max().max())
        ]
    return results


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def table(results: dict[str, list]) -> str:
    """The medians (min-max) as a Markdown table: wall seconds, and CPU seconds of the
    processes timed from outside."""
    lines = ["| what | wall s, median (min-max) | CPU s, median (min-max) |", "|---|---|---|"]
    for name, values in results.items():
        if not values:
            continue
        if isinstance(values[0], dict):
            for key in ("imports", "load", "predict", "predict_again", "load_predict"):
                wall = _spread([v[f"{key}_s"] for v in values])
                cpu = (
                    _spread([v[f"{key}_cpu_s"] for v in values])
                    if f"{key}_cpu_s" in values[0]
                    else ""
                )
                lines.append(f"| {name}: {key} | {wall} | {cpu} |")
            heavy = ", ".join(values[0]["heavy"])
            lines.append(f"| {name}: heavy packages imported | {heavy} | |")
        elif not isinstance(values[0], (list, tuple)):
            lines.append(f"| {name} | {values[0]:.3g} | |")
        else:
            walls, cpus = ([v[i] for v in values] for i in (0, 1))
            lines.append(f"| {name} | {_spread(walls)} | {_spread(cpus)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=2000)
    parser.add_argument("--length", type=int, default=120)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline-ref", help="a commit to compare with, e.g. a8b7c87")
    parser.add_argument("--no-floors", action="store_true", help="skip the import floors")
    parser.add_argument("--json", type=Path, help="write every measurement here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cli_latency-") as tmp:
        folder = Path(tmp)
        data, model = prepare(folder, args.series, args.length)
        baseline = extract(args.baseline_ref, folder) if args.baseline_ref else None
        load_before = os.getloadavg()
        start = time.perf_counter()
        results = measure(data, model, folder, args.runs, baseline, not args.no_floors)
        minutes = (time.perf_counter() - start) / 60
        load_after = os.getloadavg()
    print(
        f"{args.series} daily series x {args.length} days, LSTM seq_len {SEQ_LEN} horizon "
        f"{HORIZON} hidden {HIDDEN}; {args.runs} runs in {minutes:.1f} min; "
        f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()}); load average "
        f"(1, 5, 15 min) {load_before[0]:.1f} {load_before[1]:.1f} {load_before[2]:.1f} "
        f"before, {load_after[0]:.1f} {load_after[1]:.1f} {load_after[2]:.1f} after"
        + (f"; baseline: {args.baseline_ref}" if args.baseline_ref else "")
    )
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
