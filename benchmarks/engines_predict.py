"""Predict of many short series on Spark and Dask against in-process pandas: series/s.

A synthetic panel of ``--series`` series of ``--steps`` daily steps (a noisy sine with its
own level per series) is written once as Parquet parts; a tiny LSTM (hidden 8, seq_len 12,
horizon 6, ``scaler="window_level"`` so that it forecasts series it was not fitted on) is
fitted on its first 500 series (not timed). Then the same forecast of every series is
timed:

* **pandas**: ``pd.read_parquet`` (timed apart) and ``model.predict(frame)`` in this process;
* **Spark local[1], local[2]**: a fresh session each (its start not timed);
  ``model.predict(spark.read.parquet(parts))``, which returns once the result is computed
  and persisted (reading, the shuffle by series, the forecasts, the message check);
* **Dask 1 and 2 workers**: a ``LocalCluster`` of processes (1 thread each; its start not
  timed); ``model.predict(dd.read_parquet(parts))``, likewise.

Every worker (and this process) runs torch on 1 thread (``OMP_NUM_THREADS=1``,
``torch.set_num_threads(1)``): on a 2-core machine two workers of 2 threads each would
fight for the cores. The pandas run is repeated with 2 torch threads for reference. The
results are checked against the pandas run (max abs difference). Only this process's peak
RSS is reported: a worker's ``ru_maxrss`` counts what it inherited from its parent at the
fork (the first run reported this process's 2,501 MB for every Dask worker).

``--future``: the panel gets a known-future covariate of its own (``promo``, 0/1), the model
reads it, and every predict is given its values over the horizon
(``future_covariates=``: a Parquet folder read by pandas, Spark or Dask, 6 rows per
series): the engines then partition both frames by the id's hash (Spark ``cogroup`` of
buckets, Dask paired shuffles) instead of one.

    flock /tmp/forecast-bench.lock .venv/bin/python -u benchmarks/engines_predict.py --series 200000
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # inherited by Spark's and Dask's workers
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

import numpy as np
import pandas as pd


def make_panel(n_series: int, steps: int, seed: int = 0, future: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(steps)
    level = rng.uniform(10, 100, n_series)[:, None]
    y = level * (1 + 0.1 * np.sin(2 * np.pi * t / 7)) + rng.standard_normal((n_series, steps))
    promo = rng.integers(0, 2, (n_series, steps)).astype(float)
    frame = pd.DataFrame(
        {
            "id": np.repeat([f"s{i}" for i in range(n_series)], steps),
            "ds": np.tile(
                pd.date_range("2024-01-01", periods=steps, freq="D").to_numpy(), n_series
            ),
            "y": (y + 5 * promo).ravel() if future else y.ravel(),
        }
    )
    return frame.assign(promo=promo.ravel()) if future else frame


def write_parts(panel: pd.DataFrame, folder: Path, n_parts: int) -> None:
    folder.mkdir(parents=True)
    bounds = np.linspace(0, len(panel), n_parts + 1).astype(int)
    for i in range(n_parts):
        part = panel.iloc[bounds[i] : bounds[i + 1]]
        part.to_parquet(folder / f"part-{i:03d}.parquet", index=False)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def check(got: pd.DataFrame, expected: pd.DataFrame) -> float:
    got = got.sort_values(["id", "ds"]).reset_index(drop=True)
    assert len(got) == len(expected), (len(got), len(expected))
    assert (got["id"].astype(str).to_numpy() == expected["id"].astype(str).to_numpy()).all()
    return float(np.abs(got["y"].to_numpy(float) - expected["y"].to_numpy(float)).max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=200_000)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--parts", type=int, default=8, help="Parquet parts written")
    parser.add_argument("--runs", default="pandas,spark1,spark2,dask1,dask2")
    parser.add_argument("--future", action="store_true", help="a known-future covariate")
    args = parser.parse_args()
    runs = args.runs.split(",")

    import torch

    from forecast import LSTMForecaster

    torch.set_num_threads(1)
    work = Path(tempfile.mkdtemp(prefix="forecast-engines-bench-"))
    try:
        start = time.perf_counter()
        panel = make_panel(args.series, args.steps, future=args.future)
        parts = work / "panel"
        write_parts(panel, parts, args.parts)
        promo = work / "future"  # each series' 6 steps after its end
        if args.future:
            ends = panel.groupby("id", sort=False)["ds"].max()
            rows = np.random.default_rng(1).integers(0, 2, 6 * len(ends)).astype(float)
            write_parts(
                pd.DataFrame(
                    {
                        "id": np.repeat(ends.index.to_numpy(), 6),
                        "ds": (
                            np.repeat(ends.to_numpy(), 6)
                            + np.tile(np.arange(1, 7), len(ends)) * np.timedelta64(1, "D")
                        ),
                        "promo": rows,
                    }
                ),
                promo,
                args.parts,
            )
        covariates = {"future_covariates": ["promo"]} if args.future else {}
        took = time.perf_counter() - start
        print(f"panel: {args.series} series x {args.steps} steps = {len(panel)} rows, "
              f"{args.parts} Parquet parts, {took:.1f} s", flush=True)  # fmt: skip
        model = LSTMForecaster(
            id_col="id", time_col="ds", seq_len=12, horizon=6, hidden_size=8, max_epochs=1,
            scaler="window_level", validation_size=0, progress_bar=False, random_state=0,
            **covariates,
        ).fit(panel[panel["id"].isin([f"s{i}" for i in range(500)])])  # fmt: skip
        del panel
        n = args.series
        results: dict[str, float] = {}

        start = time.perf_counter()
        frame = pd.read_parquet(parts)
        future = pd.read_parquet(promo) if args.future else None
        read = time.perf_counter() - start
        start = time.perf_counter()
        expected = model.predict(frame, future_covariates=future)
        expected = expected.sort_values(["id", "ds"]).reset_index(drop=True)
        results["pandas"] = time.perf_counter() - start
        took = results["pandas"]
        print(f"pandas (1 torch thread): read {read:.1f} s, predict {took:.1f} s, "
              f"{n / took:,.0f} series/s, peak RSS {rss_mb():.0f} MB", flush=True)  # fmt: skip
        if "pandas" in runs:
            torch.set_num_threads(2)
            start = time.perf_counter()
            model.predict(frame, future_covariates=future)
            two = time.perf_counter() - start
            torch.set_num_threads(1)
            print(f"pandas (2 torch threads): predict {two:.1f} s, {n / two:,.0f} series/s",
                  flush=True)  # fmt: skip
        del frame

        for run in [r for r in runs if r.startswith("spark")]:
            cores = int(run[len("spark") :])
            from pyspark.sql import SparkSession

            session = (
                SparkSession.builder.master(f"local[{cores}]")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.memory", "4g")
                .config("spark.sql.shuffle.partitions", str(4 * cores))
                .config("spark.sql.session.timeZone", "UTC")
                .getOrCreate()
            )
            session.sparkContext.setLogLevel("ERROR")
            start = time.perf_counter()
            given = session.read.parquet(str(promo)) if args.future else None
            out = model.predict(session.read.parquet(str(parts)), future_covariates=given)
            took = time.perf_counter() - start
            diff = check(out.toPandas(), expected)
            results[run] = took
            ratio = took / results["pandas"]
            print(f"Spark local[{cores}]: {took:.1f} s, {n / took:,.0f} series/s, "
                  f"{ratio:.2f}x in-process; max |diff| {diff:.1e}", flush=True)  # fmt: skip
            session.stop()
            SparkSession._instantiatedSession = None  # the next run gets a fresh one

        for run in [r for r in runs if r.startswith("dask")]:
            workers = int(run[len("dask") :])
            import dask.dataframe as dd
            from distributed import Client, LocalCluster

            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True,
                dashboard_address=None, memory_limit=0,
            )  # fmt: skip
            client = Client(cluster)
            client.run(lambda: __import__("torch").set_num_threads(1))
            start = time.perf_counter()
            given = dd.read_parquet(str(promo)) if args.future else None
            out = model.predict(dd.read_parquet(str(parts)), future_covariates=given)
            took = time.perf_counter() - start
            diff = check(out.compute(), expected)
            results[run] = took
            ratio = took / results["pandas"]
            print(f"Dask {workers} worker(s): {took:.1f} s, {n / took:,.0f} series/s, "
                  f"{ratio:.2f}x in-process; max |diff| {diff:.1e}", flush=True)  # fmt: skip
            client.close()
            cluster.close()
        print("per series (ms):", {k: round(1000 * v / n, 4) for k, v in results.items()})
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
