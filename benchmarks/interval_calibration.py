"""Are the intervals calibrated? Coverage of 80 % intervals on a process with known quantiles.

The process is an AR(1) with heteroscedastic Gaussian noise,

    y[t] = phi · y[t-1] + (a + b · |y[t-1]|) · e[t],    e[t] ~ N(0, 1) i.i.d.,

so the one-step-ahead conditional quantiles are known exactly:
``q_tau(y[t] | past) = phi · y[t-1] + (a + b · |y[t-1]|) · z_tau``. Each method is fitted on
the first ``--train`` rows and forecasts every one of the next ``--test`` rows one step
ahead (``backtest(..., n_windows=test, step=1, refit=False)``: one fit, then forecasts from
each origin's own history). Reported per method: the empirical coverage of the 80 %
interval, its binomial standard error ``sqrt(c (1 - c) / n)``, the mean width and the
Winkler score, next to the oracle interval built from the true conditional quantiles.

Run:  .venv/bin/python benchmarks/interval_calibration.py [--train 5000 --test 20000]
(a few minutes on 2 CPU cores). ``tests/test_calibration.py`` is the fast version.
"""

from __future__ import annotations

import argparse
import time
from statistics import NormalDist

import numpy as np
import pandas as pd

from forecast import LSTMForecaster, NaiveForecaster
from forecast.backtest import backtest
from forecast.metrics import coverage, interval_width, winkler_score

PHI, A, B = 0.6, 0.5, 0.5  # phi² + b² < 1: a finite stationary variance


def ar1_heteroscedastic(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` daily steps of the process (after a burn-in of 500 steps)."""
    rng = np.random.default_rng(seed)
    e = rng.standard_normal(n + 500)
    y = np.zeros(n + 500)
    for t in range(1, n + 500):
        y[t] = PHI * y[t - 1] + (A + B * abs(y[t - 1])) * e[t]
    index = pd.date_range("2000-01-01", periods=n, freq="D", name="date")
    return pd.DataFrame({"y": y[500:]}, index=index)


def oracle_interval(previous: np.ndarray, c: float) -> tuple[np.ndarray, np.ndarray]:
    """The true conditional ``c`` interval of ``y[t]`` given ``y[t-1] = previous``."""
    half = NormalDist().inv_cdf((1 + c) / 2) * (A + B * np.abs(previous))
    return PHI * previous - half, PHI * previous + half


def models(seed: int = 0, max_epochs: int = 30, calibration_windows: int = 2000) -> dict:
    """The methods compared: quantile regression and conformal, with the same network."""
    network = {
        "seq_len": 4,
        "horizon": 1,
        "hidden_size": 16,
        "learning_rate": 1e-2,
        "batch_size": 256,
        "max_epochs": max_epochs,
        "validation_size": 0,
        "random_state": seed,
        "progress_bar": False,
    }
    return {
        "lstm quantiles=[0.1, 0.5, 0.9]": LSTMForecaster(quantiles=[0.1, 0.5, 0.9], **network),
        "lstm conformal": LSTMForecaster(
            intervals="conformal",
            coverage=0.8,
            calibration_windows=calibration_windows,
            **network,
        ),
        "naive conformal": NaiveForecaster(
            horizon=1,
            intervals="conformal",
            coverage=0.8,
            calibration_windows=calibration_windows,
        ),
    }


def evaluate(model: object, df: pd.DataFrame, n_test: int) -> dict[str, float]:
    """Coverage, width and Winkler score of the 80 % interval over the last ``n_test`` rows."""
    fc = backtest(model, df, n_windows=n_test, step=1, refit=False).forecasts
    y, lo, hi = fc["actual"], fc["forecast_q0.1"], fc["forecast_q0.9"]
    return {
        "coverage": coverage(y, lo, hi),
        "width": interval_width(lo, hi),
        "winkler": winkler_score(y, lo, hi, 0.8),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=5000)
    parser.add_argument("--test", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-epochs", type=int, default=30)
    parser.add_argument("--calibration-windows", type=int, default=2000)
    args = parser.parse_args()

    df = ar1_heteroscedastic(args.train + args.test, seed=args.seed)
    test = df["y"].to_numpy()[-args.test - 1 :]
    lo, hi = oracle_interval(test[:-1], 0.8)
    y = test[1:]
    rows = {
        "oracle (true quantiles)": {
            "coverage": coverage(y, lo, hi),
            "width": interval_width(lo, hi),
            "winkler": winkler_score(y, lo, hi, 0.8),
        }
    }
    for name, model in models(args.seed, args.max_epochs, args.calibration_windows).items():
        start = time.perf_counter()
        rows[name] = evaluate(model, df, args.test)
        rows[name]["seconds"] = time.perf_counter() - start
    table = pd.DataFrame(rows).T
    se = np.sqrt(0.8 * 0.2 / args.test)
    print(
        f"AR(1) phi={PHI}, noise sd = {A} + {B}|y[t-1]|; {args.train} training rows, "
        f"{args.test} one-step forecasts; nominal coverage 0.80, binomial SE {se:.4f}\n"
        + table.to_string(float_format=lambda v: f"{v:.4f}")
    )


if __name__ == "__main__":
    main()
