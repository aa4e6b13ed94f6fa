"""Missing values on M3 monthly: ``missing="mask"`` against the full data and interpolation.

Values are deleted from the training parts (the test parts are untouched) in three ways,
with a fixed seed: 10 % and 30 % of the rows at random, and contiguous gaps of 3-6 months
covering about 10 % of the rows. Deleted rows are *removed* (missing timestamps, the
commonest form of missing data), never the first or last row of a series, so that every
series keeps its start and its cutoff (the forecast's timestamps) and the test part stays
where it was. Rows, each fitted on the training parts and scored on the test parts as
``benchmarks/run.py`` does:

* ``LSTM full``: ``LSTMForecaster(**panel_params(12, 18))`` on the complete data;
* ``LSTM mask``: the same with ``missing="mask"`` on the data with gaps;
* ``LSTM interp``: ``forecast.fill_gaps`` then per-series linear interpolation
  (``groupby(...).transform(lambda s: s.interpolate())``), then the normal fit: the
  simplest thing a user would try;
* ``seasonal naive interp`` and ``Theta interp``: those on the interpolated data
  (statsforecast's Theta runs in the peers' environment, ``benchmarks/peers/setup.sh``;
  without it that row is left out and the report says so).

    .venv/bin/python benchmarks/missing_values.py                  # seed 0, about 10 min
    .venv/bin/python benchmarks/missing_values.py --smoke          # seconds: 12 series

``--hide-factor F --hide-cap C``: a masked fit hides in training F times each column's
missing share of its observed inputs, at most C (``forecast.data.hiding.RATE_FACTOR`` and
``MAX_RATE``; defaults 2 and 0.2, the library's; F = 0 hides none, as ``missing="mask"``
did before it hid any). ``--threads`` sets torch's threads (the sMAPE depends on it:
compare rows run with the same count).

Prints a markdown table (sMAPE, MASE, fit seconds) and the command.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import m3  # noqa: E402

SMOKE_SERIES, SMOKE_STEPS = 12, 20
VARIANTS = ("random 10%", "random 30%", "gaps 3-6 months")
METHODS = ("LSTM", "LSTM mask", "LSTM interp", "seasonal naive interp", "Theta interp")
PEERS_PYTHON = HERE / "peers" / ".venv" / "bin" / "python"


def delete(train: pd.DataFrame, variant: str, seed: int) -> pd.DataFrame:
    """``train`` (long, sorted by series and time) without the rows ``variant`` deletes."""
    rng = np.random.default_rng(seed)
    ids = train["unique_id"].to_numpy()
    first = np.r_[True, ids[1:] != ids[:-1]]
    last = np.r_[ids[1:] != ids[:-1], True]
    inner = np.flatnonzero(~first & ~last)  # never a series' first or last row
    drop = np.zeros(len(train), dtype=bool)
    if variant.startswith("random"):
        share = int(variant.split()[1].rstrip("%")) / 100
        drop[rng.choice(inner, size=round(share * len(train)), replace=False)] = True
    else:  # contiguous gaps of 3-6 months until ~10 % of the rows are gone
        allowed = np.zeros(len(train), dtype=bool)
        allowed[inner] = True
        while drop.sum() < 0.10 * len(train):
            start, size = int(rng.choice(inner)), int(rng.integers(3, 7))
            span = np.arange(start, min(start + size, len(train)))
            if allowed[span].all():
                drop[span] = True
    return train.loc[~drop].reset_index(drop=True)


def interpolate(gappy: pd.DataFrame, freq: str) -> pd.DataFrame:
    """``fill_gaps`` then linear interpolation within each series."""
    from forecast import fill_gaps

    full = fill_gaps(gappy, freq=freq, id_col="unique_id", time_col="ds")
    full["y"] = full.groupby("unique_id")["y"].transform(lambda s: s.interpolate())
    return full


def lstm(
    train: pd.DataFrame, data: m3.M3Subset, seed: int, smoke: bool, missing: str
) -> tuple[np.ndarray, float]:
    from forecast import LSTMForecaster
    from forecast.presets import panel_params

    params = panel_params(season_length=data.season, horizon=data.horizon)
    if smoke:
        params["trainer_kwargs"] = {"max_steps": SMOKE_STEPS}
    model = LSTMForecaster(
        id_col="unique_id",
        time_col="ds",
        target="y",
        freq=data.freq,
        missing=missing,
        progress_bar=False,
        random_state=seed,
        **params,
    )
    start = time.perf_counter()
    model.fit(train)
    fit_s = time.perf_counter() - start
    return m3.to_matrix(model.predict(train), data, "y"), fit_s


def seasonal_naive(train: pd.DataFrame, data: m3.M3Subset) -> tuple[np.ndarray, float]:
    from forecast.baselines import SeasonalNaiveForecaster

    model = SeasonalNaiveForecaster(
        season_length=data.season,
        horizon=data.horizon,
        id_col="unique_id",
        time_col="ds",
        target="y",
        freq=data.freq,
    )
    start = time.perf_counter()
    model.fit(train)
    return m3.to_matrix(model.predict(), data, "y"), time.perf_counter() - start


_THETA = """
import sys, pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import Theta
train = pd.read_csv(sys.argv[1], parse_dates=["ds"])
sf = StatsForecast(models=[Theta(season_length=int(sys.argv[3]))], freq=sys.argv[4], n_jobs=1)
frame = sf.fit(train).predict(h=int(sys.argv[5]))
frame = frame.reset_index() if "unique_id" not in frame.columns else frame
frame.rename(columns={"Theta": "y"}).to_csv(sys.argv[2], index=False)
"""


def _has_statsforecast() -> bool:
    if not PEERS_PYTHON.exists():
        return False
    probe = subprocess.run([str(PEERS_PYTHON), "-c", "import statsforecast"], capture_output=True)
    return probe.returncode == 0


def theta(train: pd.DataFrame, data: m3.M3Subset) -> tuple[np.ndarray, float] | None:
    """statsforecast's Theta in the peers' environment; None without it."""
    if not _has_statsforecast():
        return None
    with tempfile.TemporaryDirectory(prefix="missing-values-") as tmp:
        src, out = os.path.join(tmp, "train.csv"), os.path.join(tmp, "forecast.csv")
        train.to_csv(src, index=False)
        start, horizon = time.perf_counter(), [str(data.horizon)]
        subprocess.run(
            [str(PEERS_PYTHON), "-c", _THETA, src, out, str(data.season), data.freq, *horizon],
            check=True,
            capture_output=True,
            env=dict(os.environ, PYTHONWARNINGS="ignore"),
        )
        seconds = time.perf_counter() - start
        frame = pd.read_csv(out, parse_dates=["ds"])
    return m3.to_matrix(frame, data, "y"), seconds


def run(
    seed: int = 0,
    smoke: bool = False,
    variants: tuple[str, ...] = VARIANTS,
    with_theta: bool = True,
    methods: tuple[str, ...] = METHODS,
    threads: int = 2,
    hide_factor: float = 2.0,
    hide_cap: float = 0.2,
) -> list[dict]:
    """One row per (variant, method): sMAPE, MASE, fit seconds, share of rows deleted."""
    warnings.simplefilter("ignore")
    import torch

    torch.set_num_threads(threads)
    from forecast.data import hiding

    hiding.RATE_FACTOR, hiding.MAX_RATE = hide_factor, hide_cap
    data = m3.load("monthly", n_series=SMOKE_SERIES if smoke else None)
    rows = []

    def add(variant: str, method: str, share: float, result: tuple | None) -> None:
        if result is None:
            return
        forecasts, seconds = result
        rows.append(
            {"variant": variant, "method": method, "deleted": share, "fit_s": seconds}
            | m3.score(data, forecasts)
        )

    if "LSTM" in methods:
        add("full data", "LSTM", 0.0, lstm(data.train, data, seed, smoke, "raise"))
    for variant in variants:
        gappy = delete(data.train, variant, seed)
        share = 1 - len(gappy) / len(data.train)
        filled = interpolate(gappy, data.freq)
        if "LSTM mask" in methods:
            add(variant, "LSTM mask", share, lstm(gappy, data, seed, smoke, "mask"))
        if "LSTM interp" in methods:
            add(variant, "LSTM interp", share, lstm(filled, data, seed, smoke, "raise"))
        if "seasonal naive interp" in methods:
            add(variant, "seasonal naive interp", share, seasonal_naive(filled, data))
        if with_theta and "Theta interp" in methods:
            add(variant, "Theta interp", share, theta(filled, data))
    return rows


def table(rows: list[dict]) -> str:
    lines = [
        "| data | method | rows deleted | sMAPE | MASE | fit s |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['variant']} | {r['method']} | {100 * r['deleted']:.1f}% | {r['smape']:.2f} "
            f"| {r['mase']:.3f} | {r['fit_s']:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="12 series, 20 steps")
    parser.add_argument("--json", help="also write the rows to this file")
    parser.add_argument(
        "--variants", nargs="+", choices=VARIANTS, default=VARIANTS, help="default: all"
    )
    parser.add_argument(
        "--methods", nargs="+", choices=METHODS, default=METHODS, help="default: all"
    )
    parser.add_argument(
        "--threads", type=int, default=2, help="torch threads (default 2; the sMAPE depends on it)"
    )
    parser.add_argument(
        "--hide-factor",
        type=float,
        default=2.0,
        help="masked fits hide this times each column's missing share of observed inputs",
    )
    parser.add_argument(
        "--hide-cap", type=float, default=0.2, help="... at most this share (default 0.2)"
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    rows = run(
        seed=args.seed,
        smoke=args.smoke,
        variants=tuple(args.variants),
        methods=tuple(args.methods),
        threads=args.threads,
        hide_factor=args.hide_factor,
        hide_cap=args.hide_cap,
    )
    print(table(rows))
    print(
        f"\n{len(rows)} rows in {time.perf_counter() - start:.0f} s; theta: "
        + (
            "statsforecast in the peers venv"
            if _has_statsforecast()
            else "left out (no peers venv)"
        )
    )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
