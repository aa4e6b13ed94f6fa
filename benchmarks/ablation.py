"""What each of :func:`forecast.presets.panel_params`'s choices buys on M3 monthly (LSTM).

Each step fits one LSTM on M3 monthly's training parts and scores it on the test parts, as
``benchmarks/run.py`` does; step 0 is where we started (per-window std scaling, MAE, 36
input steps, 1000 steps of batch 256 at learning rate 1e-3, no validation), each later
step changes one thing from the one it names (or from the row above), and the last is
``panel_params`` itself. Several seeds give the median (min-max) over them.

    .venv/bin/python benchmarks/ablation.py                            # every step, seed 0
    .venv/bin/python benchmarks/ablation.py --steps 8,10,11 --seeds 0,1,2
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import m3
from run import median_range

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
# The rule of 2026-11-29 06:00 (step 5): every later step starts from it. ``max_epochs=20``
# is panel_params' cap, which does not bind on monthly (3000 steps are ~9 epochs).
TWO_SEASONS = {
    "trainer_kwargs": {"max_steps": 3000},
    "learning_rate": 3e-3,
    "scaler": "window_level",
    "seq_len": 24,
    "max_epochs": 20,
}


def _ema(decay: float) -> object:
    """A fresh callback for an exponential moving average of the weights (Lightning's)."""
    from lightning.pytorch.callbacks import WeightAveraging
    from torch.optim.swa_utils import get_ema_multi_avg_fn

    return WeightAveraging(multi_avg_fn=get_ema_multi_avg_fn(decay))


STEPS = [
    ("start: window scaler, MAE, L=36, 1000 steps, lr 1e-3", {}),
    ("L=24 instead of 36 (not kept)", {"seq_len": 24}),
    ("3000 steps", {"trainer_kwargs": {"max_steps": 3000}}),
    ("3000 steps, lr 3e-3", {"trainer_kwargs": {"max_steps": 3000}, "learning_rate": 3e-3}),
    (
        "3000 steps, lr 3e-3, window_level scaler",
        {"trainer_kwargs": {"max_steps": 3000}, "learning_rate": 3e-3, "scaler": "window_level"},
    ),
    ("+ L=24, two seasons (panel_params until SWA)", TWO_SEASONS),
    ("step 5, median of 3 seeds (EnsembleForecaster)", {**TWO_SEASONS, "n_members": 3}),
    ("step 5 + cosine learning-rate decay (not kept)", {**TWO_SEASONS, "lr_schedule": "cosine"}),
    ("step 5 + SWA over the last third (not kept alone)", {**TWO_SEASONS, "swa_start": 0.67}),
    (
        "step 5 + EMA of the weights, decay 0.999 (not kept)",
        {**TWO_SEASONS, "ema_decay": 0.999},
    ),
    ("step 5 + lr 6e-3 (not kept alone)", {**TWO_SEASONS, "learning_rate": 6e-3}),
    (
        "step 5 + lr 6e-3 + SWA over the last third",
        {**TWO_SEASONS, "learning_rate": 6e-3, "swa_start": 0.67},
    ),
    (
        "step 5 + lr 1e-2 + SWA over the last third (= panel_params)",
        {**TWO_SEASONS, "learning_rate": 1e-2, "swa_start": 0.67},
    ),
]


def run_step(index: int, seed: int, n_series: int | None = None) -> dict:
    """Fit and score one step; returns its sMAPE, MASE and fit seconds."""
    import torch

    from forecast import LSTMForecaster
    from forecast.forecasters.ensemble import EnsembleForecaster

    torch.set_num_threads(2)
    warnings.simplefilter("ignore")
    data = m3.load("monthly", n_series=n_series)
    params = {**START, **STEPS[index][1]}
    n_members = params.pop("n_members", None)
    ema_decay = params.pop("ema_decay", None)
    if ema_decay is not None:  # a callback holds state: one per fit
        params["trainer_kwargs"] = {**params["trainer_kwargs"], "callbacks": [_ema(ema_decay)]}
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
    parser.add_argument("--seeds", default="0", help="comma-separated; median (min-max) of them")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    print("| step | change | sMAPE | MASE | fit s |\n|---|---|---|---|---|")
    for i in (int(s) for s in args.steps.split(",")):
        runs = [run_step(i, seed) for seed in seeds]
        smape, mase, fit = ([r[k] for r in runs] for k in ("smape", "mase", "fit_s"))
        print(
            f"| {i} | {STEPS[i][0]} | {median_range(smape, 2)} | {median_range(mase, 3)} | "
            f"{median_range(fit, 0)} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
