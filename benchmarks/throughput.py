"""Training throughput: our ``fit`` against a hand-written PyTorch loop, windows per second.

Both train the same network (:class:`forecast.nn.RecurrentRegressor`) with Adam, MSE and
gradient-norm clipping at 1.0, batch 256, for ``--steps`` optimiser steps, on 2 threads:

* **plain loop**: the windows of a synthetic panel pre-built once as tensors ``X (N, L, 1)``
  and ``y (N, H, 1)`` (already scaled), a random batch drawn per step, forward, backward,
  clip, step with ``torch.optim.Adam(params, lr)`` as a user writes it: the least any
  trainer can do;
* **plain loop, fused Adam**: the same with the fused Adam kernel that ``fit`` uses, so
  that ours over it measures the trainer alone, not the optimiser's implementation;
* **ours**: ``RNNForecaster(...).fit(frame)`` on the same panel as a long DataFrame, with
  validation off and ``max_steps`` set: everything counted, from validating the frame and
  indexing windows to gathering and scaling each batch and Lightning's loop.

Each repeat is one fit with the two plain loops' steps run inside it: 10 steps of each
after every 10 of the fit's, by a callback (:class:`Interleave`), their time taken off the
fit's. This machine's speed drifts by up to 2x over seconds, so whole runs seconds apart
see different machines; steps a fraction of a second apart see the same one. The order of
the two plain loops alternates between repeats (an even ``--repeats`` balances it); the
callback is one more in our fit, a cost counted against ours. Each ratio is computed within
its repeat and its median reported with min-max.

``--triples`` runs the three whole, one after another, in triples whose order rotates
(plain, plain fused, ours; then plain fused, ours, plain; ...), each ratio within its
triple: the design of the earlier runs in RESULTS.md, whose ratios spread 3-8x wider. A
``--repeats`` that is a multiple of 3 then puts each runner first, second and last
equally often.

Two rates are reported for ours: the whole ``fit`` (the user's wait) and its training loop
alone (from Lightning's ``on_train_start`` to ``on_train_end``, timed by a callback), which
is what the plain loop's timer covers. Their difference is ``fit``'s fixed setup (frame
checks, window index, Trainer), a cost per fit, not per window.

    .venv/bin/python benchmarks/throughput.py                 # LSTM/GRU/RNN, 64x2 and 16x2, ~27 min
    .venv/bin/python benchmarks/throughput.py --hidden 16              # the small cells, ~7 min
    .venv/bin/python benchmarks/throughput.py --cells lstm --hidden 64 --triples --repeats 3
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import lightning as L
import numpy as np
import pandas as pd
import torch
from run import median_range

from forecast import RNNForecaster
from forecast.neural.network import RecurrentConfig, RecurrentRegressor

SEQ_LEN, HORIZON, BATCH, LAYERS = 48, 12, 256, 2


def panel(n_series: int = 200, length: int = 400, seed: int = 0) -> pd.DataFrame:
    """Random-walk series with a yearly season, long format."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    y = (
        rng.uniform(50, 150, (n_series, 1))
        + rng.uniform(1, 10, (n_series, 1)) * np.sin(2 * np.pi * t / 12)
        + rng.standard_normal((n_series, length)).cumsum(axis=1)
    )
    return pd.DataFrame(
        {
            "unique_id": np.repeat(np.arange(n_series), length),
            "ds": np.tile(pd.date_range("1990-01-01", periods=length, freq="D"), n_series),
            "y": y.reshape(-1),
        }
    )


def window_tensors(frame: pd.DataFrame) -> tuple[torch.Tensor, torch.Tensor]:
    """Every window of every series, standardised per series: ``X (N, L, 1)``, ``y (N, H, 1)``."""
    xs, ys = [], []
    for _, g in frame.groupby("unique_id", sort=True):
        v = g["y"].to_numpy(np.float32)
        v = (v - v.mean()) / v.std()
        w = np.lib.stride_tricks.sliding_window_view(v, SEQ_LEN + HORIZON)
        xs.append(w[:, :SEQ_LEN])
        ys.append(w[:, SEQ_LEN:])
    X = torch.from_numpy(np.concatenate(xs)).unsqueeze(-1).contiguous()
    y = torch.from_numpy(np.concatenate(ys)).unsqueeze(-1).contiguous()
    return X, y


class PlainLoop:
    """The bare loop, a few steps at a time (:func:`plain_loop` runs it in one go).

    ``fused=False`` is Adam as a user writes it (``torch.optim.Adam(params, lr)``); ``True``
    is the fused Adam that ``fit`` uses, so that ours / plain then measures the trainer alone.
    """

    def __init__(
        self, cell: str, hidden: int, X: torch.Tensor, y: torch.Tensor, fused: bool = False
    ) -> None:
        torch.manual_seed(0)
        config = RecurrentConfig(
            cell=cell, input_size=1, hidden_size=hidden, num_layers=LAYERS, horizon=HORIZON
        )
        self.net = RecurrentRegressor(config)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=1e-3, fused=fused or None)
        self.loss_fn = torch.nn.MSELoss()
        self.X, self.y = X, y
        self.steps, self.seconds = 0, 0.0

    def run(self, steps: int) -> float:
        """Seconds for ``steps`` more optimiser steps (also added to ``self.seconds``)."""
        net, opt, loss_fn, X, y = self.net, self.opt, self.loss_fn, self.X, self.y
        start = time.perf_counter()
        for _ in range(steps):
            idx = torch.randint(0, len(X), (BATCH,))
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(X[idx]), y[idx])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
        seconds = time.perf_counter() - start
        self.steps += steps
        self.seconds += seconds
        return seconds


def plain_loop(
    cell: str, hidden: int, X: torch.Tensor, y: torch.Tensor, steps: int, fused: bool = False
) -> float:
    """Seconds for ``steps`` optimiser steps of the bare loop (:class:`PlainLoop`)."""
    return PlainLoop(cell, hidden, X, y, fused=fused).run(steps)


class LoopTimer(L.Callback):
    """Seconds between Lightning's ``on_train_start`` and ``on_train_end``."""

    def __init__(self) -> None:
        self.start = self.seconds = float("nan")

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.start = time.perf_counter()

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.seconds = time.perf_counter() - self.start


class Interleave(L.Callback):
    """Runs ``chunk`` steps of each plain loop after every ``chunk`` steps of the fit.

    The machine's speed drifts over seconds; steps a fraction of a second apart see the
    same machine, which whole runs seconds apart do not. ``inserted`` is the time spent in
    the plain loops, to take off the fit's.
    """

    CHUNK = 10

    def __init__(self, loops: list[PlainLoop], chunk: int = CHUNK) -> None:
        self.loops, self.chunk, self.inserted = loops, chunk, 0.0

    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: object, batch_idx: int
    ) -> None:
        if trainer.global_step and trainer.global_step % self.chunk == 0:
            start = time.perf_counter()
            for loop in self.loops:
                loop.run(self.chunk)
            self.inserted += time.perf_counter() - start


def ours(
    cell: str, hidden: int, frame: pd.DataFrame, steps: int, interleave: Interleave | None = None
) -> tuple[float, float]:
    """Seconds for a whole ``fit`` of ``steps`` optimiser steps, and for its training loop.

    With ``interleave``, the plain loops' steps run inside the fit and their time is not
    counted in either.
    """
    timer = LoopTimer()
    model = RNNForecaster(
        cell=cell,
        seq_len=SEQ_LEN,
        horizon=HORIZON,
        id_col="unique_id",
        time_col="ds",
        target="y",
        freq="D",
        hidden_size=hidden,
        num_layers=LAYERS,
        batch_size=BATCH,
        validation_size=0,
        max_epochs=100_000,
        progress_bar=False,
        random_state=0,
        trainer_kwargs={
            "max_steps": steps,
            "callbacks": [timer, *([interleave] if interleave else [])],
        },
    )
    start = time.perf_counter()
    model.fit(frame)
    inserted = interleave.inserted if interleave else 0.0
    return time.perf_counter() - start - inserted, timer.seconds - inserted


def measure(
    cells: list[str],
    hiddens: list[int],
    steps: int,
    repeats: int,
    n_series: int = 200,
    interleaved: bool = True,
) -> list[dict]:
    """Alternating timed runs; windows/s and the pairwise ratios ours / plain.

    ``ratio`` is the whole ``fit``'s rate over the plain loop's, ``loop_ratio`` that of
    ``fit``'s training loop alone, ``loop_fused_ratio`` the training loop's over the plain
    loop with fused Adam. ``interleaved``: each repeat is one fit with both plain loops'
    steps run in chunks of 10 between its own (:class:`Interleave`; ``steps`` must exceed
    10), else a triple of whole runs.
    """
    if interleaved and steps <= Interleave.CHUNK:
        raise ValueError(
            f"Interleaving runs the plain loops every {Interleave.CHUNK} steps of the fit: "
            f"steps must exceed {Interleave.CHUNK}, got {steps}. Use --triples for fewer."
        )
    torch.set_num_threads(2)
    warnings.simplefilter("ignore")
    frame = panel(n_series=n_series)
    X, y = window_tensors(frame)
    ours("rnn", 8, frame.head(SEQ_LEN + HORIZON + 5), 2)  # pays Lightning's lazy imports
    rows = []
    for cell in cells:
        for hidden in hiddens:
            rates: dict[str, list[float]] = {
                k: [] for k in ("plain", "plain_fused", "ours", "ours_loop")
            }
            runners = ("plain", "plain_fused", "ours")
            for k in range(repeats):
                if interleaved:
                    loops = [PlainLoop(cell, hidden, X, y, fused=f) for f in (False, True)]
                    # Which plain loop runs first in each chunk alternates between repeats.
                    interleave = Interleave(loops if k % 2 == 0 else loops[::-1])
                    fit_s, loop_s = ours(cell, hidden, frame, steps, interleave)
                    rates["ours"].append(steps * BATCH / fit_s)
                    rates["ours_loop"].append(steps * BATCH / loop_s)
                    for name, loop in zip(("plain", "plain_fused"), loops, strict=True):
                        rates[name].append(loop.steps * BATCH / loop.seconds)
                    continue
                # The order rotates each repeat (a, b, c; b, c, a; ...): none is always first
                # or last when the machine's speed drifts within a triple.
                for runner in runners[k % 3 :] + runners[: k % 3]:
                    if runner == "ours":
                        fit_s, loop_s = ours(cell, hidden, frame, steps)
                        rates["ours"].append(steps * BATCH / fit_s)
                        rates["ours_loop"].append(steps * BATCH / loop_s)
                    else:
                        fused = runner == "plain_fused"
                        seconds = plain_loop(cell, hidden, X, y, steps, fused=fused)
                        rates[runner].append(steps * BATCH / seconds)

            def ratio(a: str, b: str, rates: dict[str, list[float]] = rates) -> list[float]:
                return [num / den for num, den in zip(rates[a], rates[b], strict=True)]

            rows.append(
                {
                    "cell": cell,
                    "hidden": f"{hidden}x{LAYERS}",
                    "plain_windows_s": rates["plain"],
                    "plain_fused_windows_s": rates["plain_fused"],
                    "ours_windows_s": rates["ours"],
                    "ours_loop_windows_s": rates["ours_loop"],
                    "ratio": ratio("ours", "plain"),
                    "loop_ratio": ratio("ours_loop", "plain"),
                    "loop_fused_ratio": ratio("ours_loop", "plain_fused"),
                }
            )
    return rows


def table(rows: list[dict]) -> str:
    """Markdown table of :func:`measure`'s rows."""
    lines = [
        "| cell | hidden | plain loop windows/s | ours: fit windows/s | ours / plain "
        "| ours: training loop windows/s | loop / plain "
        "| plain loop, fused Adam, windows/s | loop / plain fused |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['cell']} | {r['hidden']} | {median_range(r['plain_windows_s'], 0)} | "
            f"{median_range(r['ours_windows_s'], 0)} | {median_range(r['ratio'], 2)} | "
            f"{median_range(r['ours_loop_windows_s'], 0)} | {median_range(r['loop_ratio'], 2)} | "
            f"{median_range(r['plain_fused_windows_s'], 0)} | "
            f"{median_range(r['loop_fused_ratio'], 2)} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cells", default="lstm,gru,rnn")
    parser.add_argument("--hidden", default="64,16")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=6)
    parser.add_argument("--series", type=int, default=200, help="series in the panel")
    parser.add_argument(
        "--triples",
        action="store_true",
        help="whole runs in rotating triples instead of steps interleaved in each fit",
    )
    parser.add_argument("--json", action="store_true", help="print the raw rows too")
    args = parser.parse_args(argv)
    rows = measure(
        args.cells.split(","),
        [int(h) for h in args.hidden.split(",")],
        args.steps,
        args.repeats,
        args.series,
        interleaved=not args.triples,
    )
    print(table(rows))
    if args.json:
        print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
