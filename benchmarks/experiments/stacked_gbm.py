"""Experiment (issue 22, RESULTS update 10): a global gradient-boosted model that reads each
input window and the statistical models' forecasts made at the window's origin, and learns
the correction to their mean: learned stacking on the training windows, not a recurrent
network, and not in the library.

For every series and every origin ``e`` whose next ``h`` values lie in the training part,
the partner's models (``panel_forecaster``'s: Theta or, without a season, the optimised
Theta; the damped trend; ETS) forecast from ``history[:e]``; the last ``seq_len`` values
before ``e`` are the window. Both are divided by the window's mean absolute value
(``window_level``'s scale), less 1. One ``HistGradientBoostingRegressor`` (absolute error)
per horizon step learns the scaled actual value minus the models' mean, from the window,
each model's forecast for that step and their mean. The forecast origin is the end of each
training part. Nothing reads a value at or after its row's origin, nor the test part
(``tests/test_benchmarks.py``).

It writes ``accuracy.py``'s cache (configuration ``stack_gbm``), so ``accuracy.py score
--side stack_gbm:0 --side-weight W`` combines it with cached networks and the partner::

    .venv/bin/python benchmarks/experiments/stacked_gbm.py --data m3:monthly,m1:monthly
    .venv/bin/python benchmarks/experiments/stacked_gbm.py --data m3:monthly,m1:monthly --table 0-2
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import accuracy
import m3
from peak_memory import peak_rss_mb

CONFIG = "stack_gbm"


def partner_of(data: m3.M3Subset) -> str:
    """``panel_forecaster``'s statistical models for the data's season (as ``accuracy.py``
    names them)."""
    return ("theta" if data.season > 1 else "otheta") + "+damped+ets"


def origins(data: m3.M3Subset, seq_len: int, every: int = 1) -> np.ndarray:
    """``(R, 2)`` rows of (series, origin): every ``every``-th origin with ``h`` training
    values after it and ``seq_len`` before it (counted back from the last), then each
    series' forecast origin (its training length)."""
    rows: list[tuple[int, int]] = []
    for i, history in enumerate(data.history):
        n = len(history)
        last = n - data.horizon
        rows.extend(
            (i, e) for e in range(last - (last - seq_len) // every * every, last + 1, every)
        )
        rows.append((i, n))
    return np.asarray(rows)


def statistical_forecasts(
    data: m3.M3Subset, rows: np.ndarray, chunk: int = 8000
) -> dict[str, np.ndarray]:
    """Each partner model's ``(R, h)`` forecasts from ``history[:origin]`` of each row."""
    methods = accuracy.local_methods()
    names = partner_of(data).split("+")
    out = {name: np.zeros((len(rows), data.horizon)) for name in names}
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        x, seen = accuracy.right_aligned([data.history[i][:e] for i, e in part])
        for name in names:
            out[name][start : start + chunk] = methods[name](x, seen, data.horizon, data.season)[0]
    return out


def windows(
    data: m3.M3Subset, rows: np.ndarray, seq_len: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's input window ``(R, seq_len)`` (a series shorter than it padded on the left
    with its first value; only at forecast origins, which have no training rows), its mean
    absolute value ``(R, 1)`` (1 for an all-zero window) and its next ``h`` values ``(R,
    h)`` (NaN at the forecast origins)."""
    x = np.zeros((len(rows), seq_len))
    y = np.full((len(rows), data.horizon), np.nan)
    for j, (i, e) in enumerate(rows):
        history = np.asarray(data.history[i], dtype=float)
        past = history[max(e - seq_len, 0) : e]
        x[j] = np.concatenate([np.full(seq_len - len(past), past[0]), past])
        if e + data.horizon <= len(history):
            y[j] = history[e : e + data.horizon]
    centre = np.abs(x).mean(axis=1, keepdims=True)
    centre[centre == 0] = 1.0  # an all-zero window: unscaled
    return x, centre, y


def config_name(input_factor: float, every: int = 1) -> str:
    """The cache's configuration name: ``stack_gbm``, ``stack_gbm_L1.5`` for an input 1.5
    times ``panel_params``' ``seq_len``, ``stack_gbm_every3`` for every third origin."""
    name = CONFIG if input_factor == 1 else f"{CONFIG}_L{input_factor:g}"
    return name if every == 1 else f"{name}_every{every}"


def fit(
    data_name: str, seed: int, input_factor: float = 1.0, max_iter: int = 300, every: int = 1
) -> dict[str, Any]:
    """Fit the stacker on ``data_name``'s training parts; its forecasts and costs.

    The input is ``panel_params``' ``seq_len`` times ``input_factor`` (at least 2); the
    training rows are every ``every``-th origin (:func:`origins`).
    """
    from sklearn.ensemble import HistGradientBoostingRegressor

    data = m3.load(data_name)
    seq_len = max(2, round(accuracy._params(data, "default")["seq_len"] * input_factor))
    start, cpu = time.perf_counter(), time.process_time()
    rows = origins(data, seq_len, every)
    stats = statistical_forecasts(data, rows)
    x, centre, y = windows(data, rows, seq_len)
    x = x / centre - 1
    models = np.stack([stats[name] / centre - 1 for name in stats])  # (M, R, h)
    mean = models.mean(axis=0)
    target = y / centre - 1 - mean
    lengths = np.array([len(history) for history in data.history])
    final = rows[:, 1] == lengths[rows[:, 0]]  # the forecast origins, one per series
    forecasts = np.zeros((int(final.sum()), data.horizon))
    for k in range(data.horizon):
        features = np.column_stack([x, models[:, :, k].T, mean[:, k]])
        model = HistGradientBoostingRegressor(
            loss="absolute_error",
            max_iter=max_iter,
            learning_rate=0.05,
            max_leaf_nodes=63,
            early_stopping=False,
            random_state=seed,
        )
        model.fit(features[~final], target[~final, k])
        forecasts[:, k] = model.predict(features[final]) + mean[final, k]
    forecasts = (forecasts + 1) * centre[final]
    return {
        "data": data_name,
        "config": config_name(input_factor, every),
        "seed": seed,
        "seq_len": seq_len,
        "rows": len(rows),
        "fit_s": time.perf_counter() - start,
        "fit_cpu_s": time.process_time() - cpu,
        "peak_rss_mb": peak_rss_mb(),  # the process's so far: every data set of the run
        "forecasts": forecasts.tolist(),
    }


def table(names: list[str], seeds: range, stacker: str = f"{CONFIG}:0") -> None:
    """Print, per data set, sMAPE / MASE / MAPE of the stacker (``config:seed``) alone, of
    ``panel_forecaster`` (the network ``default:S`` at 1/2, the partner 1/2) and of thirds
    (the network, the stacker and the partner at 1/3 each): medians over the seeds ``S``."""
    print("| data | stacker alone | network + partner, 1/2 each | thirds: + stacker |")
    print("|---|---|---|---|")
    for name in names:
        data = m3.load(name)
        partner = partner_of(data)
        alone = accuracy.score(name, [stacker])
        pairs = [
            accuracy.score(name, [f"default:{s}"], partner=partner, partner_weight=0.5)
            for s in seeds
        ]
        thirds = [
            accuracy.score(
                name,
                [f"default:{s}"],
                partner=partner,
                partner_weight=1 / 3,
                side=[stacker],
                side_weight=1 / 3,
            )
            for s in seeds
        ]
        cells = [
            " / ".join(
                f"{np.median([r[k] for r in runs]):.{3 if k == 'mase' else 2}f}"
                for k in ("smape", "mase", "mape")
            )
            for runs in ([alone], pairs, thirds)
        ]
        print(f"| {name} | {' | '.join(cells)} |", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="comma-separated: m3:monthly,m1:monthly")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--input", type=float, default=1.0, help="the input length, times panel_params' seq_len"
    )
    parser.add_argument("--every", type=int, default=1, help="train on every n-th origin")
    parser.add_argument(
        "--table",
        metavar="SEEDS",
        help="print the table of cached runs instead (the networks' seeds: 0-2; the "
        "stacker's run: the one --seed, --input and --every name)",
    )
    args = parser.parse_args(argv)
    if args.table:
        lo, _, hi = args.table.partition("-")
        stacker = f"{config_name(args.input, args.every)}:{args.seed}"
        table(args.data.split(","), range(int(lo), int(hi or lo) + 1), stacker)
        return
    for name in args.data.split(","):
        run = fit(name, args.seed, args.input, every=args.every)
        path = accuracy._path(name, run["config"], args.seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(run))
        metrics = m3.score(m3.load(name), np.asarray(run["forecasts"]))
        print(
            f"{name} {run['config']} s{args.seed}: sMAPE {metrics['smape']:.3f} MASE "
            f"{metrics['mase']:.4f} MAPE {metrics['mape']:.3f}; {run['rows']} rows, "
            f"fit {run['fit_s']:.0f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()
