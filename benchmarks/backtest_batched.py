"""Backtest without refit: one batched forward pass vs a loop of ``predict`` per cutoff.

A fitted LSTM forecasts ``--windows`` cutoffs (one step apart) of ``--series`` daily series,
each cutoff from its own history, as ``backtest(..., refit=False)`` does after its single
fit. Both ways produce the same numbers (checked); the script prints the median time of
each over ``--repeats`` runs and their ratio.

    .venv/bin/python benchmarks/backtest_batched.py            # 50 cutoffs x 100 series
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd
import torch

from forecast import LSTMForecaster
from forecast.data.panel import to_panel
from forecast.evaluation.backtest import _forecast_windows
from forecast.evaluation.folds import make_folds


def panel_frame(n_series: int, length: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "unique_id": f"s{i:03d}",
                    "ds": pd.date_range("2020-01-01", periods=length, freq="D"),
                    "y": 10
                    + np.sin(2 * np.pi * t / 7 + rng.uniform(0, 6))
                    + 0.1 * rng.standard_normal(length),
                }
            )
            for i in range(n_series)
        ],
        ignore_index=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=100)
    parser.add_argument("--windows", type=int, default=50)
    parser.add_argument("--seq-len", type=int, default=28)
    parser.add_argument("--horizon", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    length = 3 * args.seq_len + args.windows + args.horizon
    df = panel_frame(args.series, length)
    ids = {"id_col": "unique_id", "time_col": "ds"}
    panel, layout = to_panel(df, **ids, dtype=np.float64)
    folds = make_folds(
        panel,
        n_windows=args.windows,
        step=1,
        horizon=args.horizon,
        window_length=None,
        sliding=False,
    )
    model = LSTMForecaster(
        seq_len=args.seq_len,
        horizon=args.horizon,
        hidden_size=32,
        max_epochs=1,
        validation_size=0,
        progress_bar=False,
        random_state=0,
        **ids,
    )
    first_cutoff = panel.times[panel.offsets[:-1] + folds.ends[0] - 1].max()
    model.fit(df[df["ds"] <= first_cutoff])  # the single fit of refit=False

    windows = range(args.windows)
    timings: dict[bool, list[float]] = {True: [], False: []}
    results = {}
    for _ in range(args.repeats):
        for batched in (True, False):
            start = time.perf_counter()
            results[batched] = _forecast_windows(
                model, df, panel, layout, folds, windows, batched=batched
            )
            timings[batched].append(time.perf_counter() - start)
    np.testing.assert_allclose(results[True], results[False], rtol=1e-5)

    batched, looped = (statistics.median(timings[b]) for b in (True, False))
    print(
        f"{args.windows} cutoffs x {args.series} series (seq_len={args.seq_len}, "
        f"horizon={args.horizon}, LSTM hidden 32, {args.threads} threads), "
        f"median of {args.repeats}:"
    )
    print(f"  batched, one forward pass : {batched * 1000:8.1f} ms")
    print(f"  loop of predict per cutoff: {looped * 1000:8.1f} ms")
    print(f"  ratio loop / batched      : {looped / batched:8.1f}x")


if __name__ == "__main__":
    main()
