"""Predict-time forward pass: the NumPy one predict runs against torch's, on a big panel.

Run: ``flock /tmp/forecast-bench.lock .venv/bin/python benchmarks/numpy_forward.py``
(about a minute). Random weights (the time does not depend on their values), random
float32 windows, batches of ``_PREDICT_BATCH`` windows as ``predict`` makes them; each
forward is timed ``--runs`` times, interleaved, and the median printed with the largest
absolute difference between the two outputs. The machine may be shared: compare the
ratios of one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import torch

from forecast.forecasters._network_forecast import _PREDICT_BATCH
from forecast.neural.inference import NumpyNetwork, RecurrentConfig
from forecast.neural.network import RecurrentRegressor


def _batched(forward, x: np.ndarray) -> np.ndarray:
    return np.concatenate(
        [forward(x[a : a + _PREDICT_BATCH]) for a in range(0, len(x), _PREDICT_BATCH)]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=100_000)
    parser.add_argument("--seq-len", type=int, default=28)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--horizon", type=int, default=14)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    print(
        f"{args.windows} windows x {args.seq_len} steps, hidden {args.hidden}, "
        f"{args.layers} layers, horizon {args.horizon}; batches of {_PREDICT_BATCH}; "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), numpy "
        f"{np.__version__}; load average {os.getloadavg()}"
    )
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.windows, args.seq_len, 1), dtype=np.float32)
    print("| cell | torch s | numpy s | numpy / torch | max abs diff |")
    print("|---|---|---|---|---|")
    for cell in ("rnn", "lstm", "gru"):
        config = RecurrentConfig(
            cell=cell,
            input_size=1,
            hidden_size=args.hidden,
            num_layers=args.layers,
            horizon=args.horizon,
        )
        torch.manual_seed(0)
        net = RecurrentRegressor(config).eval()
        numpy_net = NumpyNetwork(config, {k: v.numpy() for k, v in net.state_dict().items()})

        def torch_forward(batch: np.ndarray, net: RecurrentRegressor = net) -> np.ndarray:
            with torch.inference_mode():
                return net(torch.from_numpy(batch)).numpy()

        times: dict[str, list[float]] = {"torch": [], "numpy": []}
        outputs = {}
        for _ in range(args.runs):
            for name, forward in (("torch", torch_forward), ("numpy", numpy_net)):
                start = time.perf_counter()
                outputs[name] = _batched(forward, x)
                times[name].append(time.perf_counter() - start)
        t, n = statistics.median(times["torch"]), statistics.median(times["numpy"])
        diff = float(np.abs(outputs["torch"] - outputs["numpy"]).max())
        print(f"| {cell} | {t:.2f} | {n:.2f} | {n / t:.2f} | {diff:.1e} |")
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
