"""Experiment (issue 22): an ES-RNN-style hybrid (Smyl 2020) on M3/M1, outside the library.

Per series, a Holt-Winters level and multiplicative season whose smoothing coefficients and
starting season are parameters learned with the network; each window is divided by the
level at its last input and by the season, logged, and an LSTM (last step -> Linear) emits
the horizon's log ratios. Loss: pinball at tau on the log ratios, plus Smyl's penalty on
the level's wiggle. The forecasts of the last ``--average`` epochs are averaged.

Writes ``benchmarks/.cache/accuracy/<data>/<name>_s<seed>.json`` in ``accuracy.py``'s format,
so ``accuracy.py score`` can combine it with the cached members and partners::

    .venv/bin/python benchmarks/esrnn_experiment.py --data m3:monthly --seed 0
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import accuracy  # noqa: E402
import m3  # noqa: E402
from peak_memory import peak_rss_mb  # noqa: E402


class ESRNN(nn.Module):
    def __init__(
        self, init_season: np.ndarray, seq_len: int, horizon: int, hidden: int, layers: int
    ):
        super().__init__()
        n_series, season = init_season.shape
        self.season, self.seq_len, self.horizon = season, seq_len, horizon
        self.level_logit = nn.Parameter(torch.zeros(n_series))
        self.season_logit = nn.Parameter(torch.full((n_series,), -1.0))
        self.log_season0 = nn.Parameter(torch.tensor(np.log(init_season), dtype=torch.float32))
        self.lstm = nn.LSTM(1, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, horizon)

    def smooth(self, ids: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Levels (B, T) and seasonal factors (B, T + season) of left-aligned series y."""
        alpha = torch.sigmoid(self.level_logit[ids])
        m = self.season
        if m == 1:
            seasons = [torch.ones_like(y[:, 0])] * (y.shape[1] + 1)
            gamma = None
        else:
            gamma = torch.sigmoid(self.season_logit[ids])
            seasons = list(torch.exp(self.log_season0[ids]).unbind(1))
        level = y[:, 0] / seasons[0]
        levels = [level]
        if gamma is not None:
            seasons.append(gamma * y[:, 0] / level + (1 - gamma) * seasons[0])
        for t in range(1, y.shape[1]):
            level = alpha * y[:, t] / seasons[t] + (1 - alpha) * level
            levels.append(level)
            if gamma is not None:
                seasons.append(gamma * y[:, t] / level + (1 - gamma) * seasons[t])
        return torch.stack(levels, 1), torch.stack(seasons[: y.shape[1] + m], 1)

    def forward(self, ids, y, rows, ends):
        """Log-ratio forecasts (W, h) of the windows ending at ``ends`` of batch rows ``rows``,
        and what divides them back: level (W,) and future seasons (W, h)."""
        levels, seasons = self.smooth(ids, y)
        lags = torch.arange(-self.seq_len + 1, 1)
        pos = ends[:, None] + lags[None, :]
        inside = pos >= 0
        pos = pos.clamp(min=0)
        level = levels[rows, ends]
        x = torch.log(y[rows[:, None], pos] / (seasons[rows[:, None], pos] * level[:, None]))
        x = torch.where(inside, x, torch.zeros_like(x))
        out, _ = self.lstm(x.unsqueeze(-1))
        k = torch.arange(self.horizon)
        future = ends[:, None] + 1 + k[None, :] % self.season
        return self.head(out[:, -1, :]), level, seasons[rows[:, None], future], levels


def pinball(pred: torch.Tensor, target: torch.Tensor, tau: float) -> torch.Tensor:
    d = target - pred
    return torch.maximum(tau * d, (tau - 1) * d).mean()


def run(args: argparse.Namespace) -> dict:
    torch.manual_seed(args.seed)
    # The legacy generator, seeded as the measured runs were (RESULTS.md, update 9).
    shuffle = np.random.RandomState(args.seed)
    torch.set_num_threads(1)
    data = m3.load(args.data, args.series)
    lengths = np.array([len(h) for h in data.history])
    width = lengths.max()
    y_np = np.empty((len(lengths), width))
    for i, h in enumerate(data.history):
        y_np[i, : len(h)] = h
        y_np[i, len(h) :] = h[-1]
    season = data.season if args.season else 1
    init = np.stack([accuracy.seasonal_indices(h, season) for h in data.history])
    y_all = torch.tensor(y_np, dtype=torch.float32)
    n_all = torch.tensor(lengths)
    h, L = data.horizon, args.seq_len
    model = ESRNN(init, L, h, args.hidden, args.layers)
    per_series = [model.level_logit, model.season_logit, model.log_season0]
    net = [*model.lstm.parameters(), *model.head.parameters()]
    optimiser = torch.optim.Adam(
        [{"params": net, "lr": args.lr}, {"params": per_series, "lr": args.lr_es}]
    )
    # Windows whose targets lie inside the training part; short series may pad the input.
    first_end = np.minimum(L - 1, np.maximum(lengths - h - 1, 0))
    S = len(lengths)
    wall, cpu = time.perf_counter(), time.process_time()
    kept = []
    for epoch in range(args.epochs):
        model.train()
        order = shuffle.permutation(S)
        for start in range(0, S, args.batch):
            chosen = order[start : start + args.batch]
            ends_list = [np.arange(first_end[i], lengths[i] - h) for i in chosen]
            rows = np.concatenate([np.full(len(e), j) for j, e in enumerate(ends_list)])
            ends = np.concatenate(ends_list)
            if len(ends) == 0:
                continue
            ids = torch.tensor(chosen)
            yb = y_all[ids]
            rows_t, ends_t = torch.tensor(rows), torch.tensor(ends)
            pred, level, fseason, levels = model(ids, yb, rows_t, ends_t)
            target_pos = ends_t[:, None] + 1 + torch.arange(h)[None, :]
            target = torch.log(yb[rows_t[:, None], target_pos] / (fseason * level[:, None]))
            loss = fit_loss = pinball(pred, target, args.tau)
            if args.penalty > 0:
                logl = torch.log(levels)
                d = logl[:, 1:] - logl[:, :-1]
                dd = (d[:, 1:] - d[:, :-1]) ** 2
                valid = torch.arange(dd.shape[1])[None, :] < (n_all[ids] - 2)[:, None]
                loss = loss + args.penalty * (dd * valid).sum() / valid.sum()
            optimiser.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 20.0)
            optimiser.step()
        if epoch >= args.epochs - args.average:
            kept.append(predict(model, y_all, n_all, args.batch))
        print(f"epoch {epoch}: loss {loss.item():.4f} pinball {fit_loss.item():.4f}", flush=True)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    forecasts = np.mean(kept, axis=0)
    if not np.all(np.isfinite(forecasts)):
        raise SystemExit("non-finite forecasts")
    return {
        "data": args.data,
        "config": args.name,
        "seed": args.seed,
        "params": vars(args),
        "fit_s": wall,
        "fit_cpu_s": cpu,
        "peak_rss_mb": peak_rss_mb(),
        "forecasts": forecasts.tolist(),
    }


@torch.no_grad()
def predict(model: ESRNN, y_all: torch.Tensor, n_all: torch.Tensor, batch: int) -> np.ndarray:
    model.eval()
    out = []
    for start in range(0, len(n_all), batch):
        ids = torch.arange(start, min(start + batch, len(n_all)))
        rows = torch.arange(len(ids))
        pred, level, fseason, _ = model(ids, y_all[ids], rows, n_all[ids] - 1)
        out.append((torch.exp(pred) * level[:, None] * fseason).double().numpy())
    model.train()
    return np.concatenate(out)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="m3:monthly")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--name", default="esrnn")
    p.add_argument("--seq-len", type=int, default=24)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--average", type=int, default=5)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--lr-es", type=float, default=1e-2)
    p.add_argument("--tau", type=float, default=0.48)
    p.add_argument("--penalty", type=float, default=50.0)
    p.add_argument("--season", type=int, default=1, help="0: level only")
    p.add_argument("--series", type=int, default=None, help="the longest N series (smoke runs)")
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    result = run(args)
    data = m3.load(args.data, args.series)
    print(
        args.name,
        args.seed,
        m3.score(data, np.asarray(result["forecasts"])),
        f"{result['fit_s']:.0f} s",
    )
    if args.series is not None:
        return  # a smoke run: not the forecasts of the whole data set that the cache holds
    path = accuracy._path(args.data, args.name, args.seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
