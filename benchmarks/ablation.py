"""What each of :func:`forecast.presets.panel_params`'s choices buys on M3 monthly (LSTM).

Each step fits one LSTM on M3 monthly's training parts and scores it on the test parts, as
``benchmarks/run.py`` does; step 0 is where we started (per-window std scaling, MAE, 36
input steps, 1000 steps of batch 256 at learning rate 1e-3, no validation), each later
step changes one thing, and the last is ``panel_params`` itself.

    .venv/bin/python benchmarks/ablation.py            # every step, seed 0
    .venv/bin/python benchmarks/ablation.py --steps 3,4 --seed 1
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import m3

START = {
    "seq_len": 36,
    "scaler": "window",
    "loss": "mae",
    "learning_rate": 1e-3,
    "batch_size": 256,
    "validation_size": 0,
    "max_epochs": 100_000,
    "drop_short": True,
    "trainer_kwargs": {"max_steps": 1000},
}
STEPS = [
    ("start: window scaler, MAE, L=36, 1000 steps, lr 1e-3", {}),
    ("L=24 instead of 36 (not kept)", {"seq_len": 24}),
    ("3000 steps", {"trainer_kwargs": {"max_steps": 3000}}),
    ("3000 steps, lr 3e-3", {"trainer_kwargs": {"max_steps": 3000}, "learning_rate": 3e-3}),
    (
        "3000 steps, lr 3e-3, window_level scaler",
        {"trainer_kwargs": {"max_steps": 3000}, "learning_rate": 3e-3, "scaler": "window_level"},
    ),
    (
        "+ L=24, two seasons (= panel_params)",
        {
            "trainer_kwargs": {"max_steps": 3000},
            "learning_rate": 3e-3,
            "scaler": "window_level",
            "seq_len": 24,
        },
    ),
    ("panel_params, median of 3 seeds (EnsembleForecaster)", {"n_members": 3}),
    (
        "panel_params + cosine learning-rate decay (not kept)",
        {
            "trainer_kwargs": {"max_steps": 3000},
            "learning_rate": 3e-3,
            "scaler": "window_level",
            "seq_len": 24,
            "max_epochs": 20,
            "lr_schedule": "cosine",
        },
    ),
]


def run_step(index: int, seed: int, n_series: int | None = None) -> dict:
    """Fit and score one step; returns its sMAPE, MASE and fit seconds."""
    import torch

    from forecast import LSTMForecaster
    from forecast.ensemble import EnsembleForecaster
    from forecast.presets import panel_params

    torch.set_num_threads(2)
    warnings.simplefilter("ignore")
    data = m3.load("monthly", n_series=n_series)
    params = {**START, **STEPS[index][1]}
    n_members = params.pop("n_members", None)
    if n_members:
        params = panel_params(season_length=data.season, horizon=data.horizon)
    params.pop("horizon", None)
    model = LSTMForecaster(
        horizon=data.horizon,
        id_col="unique_id",
        time_col="ds",
        target="y",
        freq=data.freq,
        progress_bar=False,
        random_state=seed,
        **params,
    )
    if n_members:
        model = EnsembleForecaster(model, n_members=n_members)
    start = time.perf_counter()
    model.fit(data.train)
    fit_s = time.perf_counter() - start
    scores = m3.score(data, m3.to_matrix(model.predict(data.train), data, "y"))
    return {"step": index, "change": STEPS[index][0], **scores, "fit_s": fit_s}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", default=",".join(str(i) for i in range(len(STEPS))))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print("| step | change | sMAPE | MASE | fit s |\n|---|---|---|---|---|")
    for i in (int(s) for s in args.steps.split(",")):
        r = run_step(i, args.seed)
        print(f"| {i} | {r['change']} | {r['smape']:.2f} | {r['mase']:.3f} | {r['fit_s']:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
