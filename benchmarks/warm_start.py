"""Warm starts on M3 monthly (or ``--data``): retrain a model on new data from yesterday's weights.

The nightly-retraining question: when six more months of every series arrive, does a
warm start (``warm_start=True``: start from the fitted weights) with a quarter of the
step budget forecast as well as a cold fit on everything, in a quarter of its time?

1. **old**: ``LSTMForecaster(**panel_params(12, 18))`` fitted cold on the M3 monthly training
   parts without their last 6 months ("yesterday's model");
2. **cold full**: the same, fitted cold on the whole training parts (the reference);
3. **warm**: a copy of *old* with ``warm_start=True``, ``max_steps`` a quarter of the budget
   (of the optimiser steps the cold full fit took: the 3,000 ``max_steps`` of
   ``panel_params``, or fewer where its cap of ``max_epochs`` passes over the windows
   stops the fit first, as on M1 monthly) and ``swa_start=0`` (the whole warm run
   averaged), fitted on the whole training parts:
   once with the default ``warm_start_shrink=0.45`` (shrink and perturb: the run starts
   from 0.45 of the old weights plus 0.55 of a fresh initialisation; the row the target is
   read on), once with ``warm_start_shrink=1`` (continuing the old weights exactly, the recipe
   before 2026-12-04: it overfits, see ``forecast/forecasters/_warm_start.py``);
4. **cold quarter**: a cold fit with that quarter budget (what the warm start is worth).

Each forecasts from the end of the whole training parts (*old* too: yesterday's model on
today's data, not refitted), scored on M3's test parts (the 18 months after), as in
``benchmarks/m3.py``. Target: warm within 0.1 sMAPE of cold full, in at most 25 % of its fit
time. Run under ``flock /tmp/forecast-bench.lock`` on the shared build machine.

``--data NAME`` runs the same on another subset, anything ``m3.load`` accepts
(``"m1:monthly"``, ``"quarterly"``, ...; default ``"monthly"``, M3's): *old* then lacks
the last 6 periods of every series for monthly data, as above, and for the other
frequencies the last third of the horizon, rounded (3 of 8 quarters, 2 of 6 years, 3 of 8
periods of M3's "other"). The default 0.45 was chosen on M3 monthly; M1 monthly is the
check on data it was not tuned on (``benchmarks/RESULTS.md``).

    python benchmarks/warm_start.py [--seed 0] [--data monthly] [--smoke] [--recent-rows 41 24]
        [--shrink 0.5 ...] [--no-perturb 0.5 ...] [--swa 0.67 ...] [--older] [--train-loss]
        [--diagnose] [--warm-fraction 0.25] [--carry-moments]

Trial rows (2026-12-04; none kept beyond the default above):

* ``--recent-rows K ...``: the exact-continuation warm row fine-tuned only on the windows
  whose targets start in each series' last K rows;
* ``--shrink S ...``: the target's warm row with ``warm_start_shrink=S``;
* ``--no-perturb L ...``: the exact-continuation warm row with the old weights multiplied
  by L (shrink without perturb; a benchmark patch, not an option);
* ``--swa F ...``: the target's warm row with ``swa_start=F``;
* ``--older``: the exact-continuation warm row trained on the old data again (the
  diagnosis: more steps on the same windows);
* ``--train-loss``: a column with each model's mean absolute error (on scaled values, as
  trained) over a fixed sample of 16,384 training windows of the whole training parts;
* ``--carry-moments``: the exact-continuation and the target's warm rows again, with the
  optimiser state (Adam's moments and step count) of *old*'s fit loaded into the warm
  run's (a benchmark patch, not an option: the library starts Adam afresh);
* ``--warm-fraction F``: the warm rows' and the short cold row's budget, instead of a
  quarter (a quarter costs a little more than a quarter of the time: each fit has a fixed
  cost of about 0.2 s);
* ``--diagnose`` (with ``--train-loss``): prints how far a warm fit of one step at a
  learning rate of 1e-12 moves *old*'s forecasts (nothing may be lost in the carry-over),
  and the error on that sample of the raw weights along the exactly continued warm run.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import m3  # noqa: E402 (the benchmarks folder is not a package)

DROP = 6  # months the old model has not seen (monthly data; see drop())
WARM = "warm: old + 1/4 budget on full"  # the row the target is read on (default shrink)
EXACT = "warm, continued exactly (warm_start_shrink=1)"
SAMPLE = 16_384  # training windows the --train-loss column is measured on


def drop(data) -> int:  # type: ignore[no-untyped-def]
    """Periods of each series *old* has not seen: 6 months for monthly data, else the
    horizon's third, rounded (a third of M3 monthly's 18 is the same 6)."""
    return DROP if data.name == "monthly" else round(data.horizon / 3)


def _fit(model, frame) -> tuple[float, float]:
    """Wall and CPU seconds of ``model.fit(frame)``: CPU seconds move less than wall ones
    when other processes share the cores, so the time ratio is read on both."""
    start, cpu = time.perf_counter(), time.process_time()
    model.fit(frame)
    return time.perf_counter() - start, time.process_time() - cpu


def _steps_taken():
    """A Lightning callback that records how many optimiser steps a fit took (it reads
    the trainer only: the fit is unchanged)."""
    import lightning as L

    class Steps(L.Callback):
        taken = 0

        def on_train_end(self, trainer, pl_module):  # type: ignore[no-untyped-def]
            Steps.taken = trainer.global_step

    return Steps()


def _window_sample():
    """A Lightning callback that keeps a fixed sample of the fit's training windows (drawn
    with NumPy's generator, so the fit's own random draws are not moved)."""
    import lightning as L
    import numpy as np

    class Sample(L.Callback):
        batch = None

        def on_train_start(self, trainer, pl_module):  # type: ignore[no-untyped-def]
            data = trainer.train_dataloader.dataset
            n = min(SAMPLE, len(data))
            rows = np.random.RandomState(123).choice(len(data), n, replace=False)
            Sample.batch = data.__getitems__(list(rows))

    return Sample()


def _train_loss(model, batch) -> float:
    """Mean absolute error of ``model``'s network on a batch of scaled training windows."""
    import torch

    x, y = (batch["x"], batch["y"]) if isinstance(batch, dict) else batch
    with torch.no_grad():
        return float((model.network_.eval()(x) - y).abs().mean())


def _probe(batch_of, steps: tuple[int, ...]):
    """A callback recording the sample error of the raw weights before the first and after
    the given optimiser steps (it reads the weights only: the run is unchanged)."""
    import lightning as L
    import torch

    class Probe(L.Callback):
        def __init__(self) -> None:
            self.errors: dict[int, float] = {}

        def _record(self, step: int, net) -> None:  # type: ignore[no-untyped-def]
            x, y = (lambda b: (b["x"], b["y"]) if isinstance(b, dict) else b)(batch_of())
            with torch.no_grad():
                self.errors[step] = float((net(x) - y).abs().mean())

        def on_train_start(self, trainer, pl_module):  # type: ignore[no-untyped-def]
            self._record(0, pl_module.net)

        def on_train_batch_end(self, trainer, pl_module, *args):  # type: ignore[no-untyped-def]
            if trainer.global_step in steps:
                self._record(trainer.global_step, pl_module.net)

    return Probe()


def _moments():
    """Two callbacks: one keeps the optimiser state at the end of a fit, the other loads
    it into a later fit's optimiser when that fit starts."""
    import lightning as L

    kept: dict = {}

    class Keep(L.Callback):
        def on_train_end(self, trainer, pl_module):  # type: ignore[no-untyped-def]
            kept["state"] = copy.deepcopy(trainer.optimizers[0].state_dict())

    class Load(L.Callback):
        def on_train_start(self, trainer, pl_module):  # type: ignore[no-untyped-def]
            trainer.optimizers[0].load_state_dict(kept["state"])

    return Keep(), Load()


def _no_perturb(model, factor: float) -> None:
    """Multiply the fitted weights by ``factor`` (a trial of shrinking without perturbing)."""
    import torch

    with torch.no_grad():
        for value in model.network_.state_dict().values():
            value.mul_(factor)


def _recent_windows(rows: int):
    """A context in which the recurrent fit trains only on windows whose targets start in
    each series' last ``rows`` rows (a benchmark patch of its window index, not an option)."""
    import contextlib

    import numpy as np

    import forecast.forecasters.recurrent as recurrent

    original = recurrent.WindowIndex

    class Recent(original):  # type: ignore[misc,valid-type]
        @classmethod
        def build(cls, offsets, seq_len, horizon, end_margin=0, first_target=None):  # type: ignore[no-untyped-def]
            if first_target is None:
                first_target = np.diff(offsets) - rows
            return original.build(offsets, seq_len, horizon, end_margin, first_target)

    @contextlib.contextmanager
    def patched():  # type: ignore[no-untyped-def]
        recurrent.WindowIndex = Recent  # type: ignore[misc]
        try:
            yield
        finally:
            recurrent.WindowIndex = original  # type: ignore[misc]

    return patched()


def run(
    seed: int,
    smoke: bool,
    recent_rows: tuple[int, ...] = (),
    shrinks: tuple[float, ...] = (),
    no_perturb: tuple[float, ...] = (),
    swas: tuple[float, ...] = (),
    older_row: bool = False,
    train_loss: bool = False,
    diagnose: bool = False,
    fraction: float = 0.25,
    carry_moments: bool = False,
    data_name: str = "monthly",
) -> list[dict]:
    from forecast import LSTMForecaster
    from forecast.presets import panel_params

    data = m3.load(data_name, n_series=40 if smoke else None)
    params = panel_params(season_length=data.season, horizon=data.horizon)
    params.update(random_state=seed, progress_bar=False)
    budget = 40 if smoke else params["trainer_kwargs"]["max_steps"]
    params["trainer_kwargs"] = {"max_steps": budget}
    share = "1/4 budget" if fraction == 0.25 else f"{fraction:g} of the budget"
    full = data.train
    dropped = drop(data)
    unit = "months" if data.name == "monthly" else "periods"
    older = full[full.groupby("unique_id").cumcount(ascending=False) >= dropped]
    sample = _window_sample() if train_loss else None

    def scored(name: str, model, seconds: tuple[float, float]) -> dict:
        forecast = m3.to_matrix(model.predict(full), data, "y")  # from the same history
        wall, cpu = seconds
        row = {"model": name, "fit_s": wall, "fit_cpu_s": cpu, **m3.score(data, forecast)}
        if sample is not None and sample.batch is not None:  # drawn by the cold full fit
            row["train_loss"] = _train_loss(model, sample.batch)
        return row

    def warm(**changes):  # type: ignore[no-untyped-def]
        """A copy of old set to warm-start with a quarter budget: the target's recipe."""
        changes = {"trainer_kwargs": quarter, "swa_start": 0.0, **changes}
        return copy.deepcopy(old).set_params(warm_start=True, **changes)

    old = LSTMForecaster(**params)
    keep, load = _moments()
    if carry_moments:  # the callback reads the optimiser only: old is fitted as without it
        old.set_params(trainer_kwargs={**params["trainer_kwargs"], "callbacks": [keep]})
    name = f"old: without the last {dropped} {unit}, not refitted"
    rows = [scored(name, old, _fit(old, older))]
    cold = LSTMForecaster(**params)
    steps = _steps_taken()
    # the sample callback draws from the windows of the whole training parts
    callbacks = [steps] if sample is None else [steps, sample]
    cold.set_params(trainer_kwargs={**params["trainer_kwargs"], "callbacks": callbacks})
    rows.append(scored("cold full", cold, _fit(cold, full)))
    # The share is of the steps the cold full fit took: max_steps (3,000 on M3 monthly), or
    # fewer where max_epochs passes over the windows come first (1,580 on M1 monthly).
    quarter = {"max_steps": round(steps.taken * fraction)}
    print(f"cold full took {steps.taken} optimiser steps; the short rows {quarter['max_steps']}")
    if sample is not None:  # the old model's error there, now that the sample is drawn
        rows[0]["train_loss"] = _train_loss(old, sample.batch)
    # The recipe: the default warm_start_shrink (0.45), and the whole warm run averaged
    # (swa_start=0): the run starts from trained weights, with no exploring phase to skip.
    target = warm()
    rows.append(scored(WARM.replace("1/4 budget", share), target, _fit(target, full)))
    exact = warm(warm_start_shrink=1.0)
    probe = None
    if diagnose and sample is not None:
        steps = (1, 2, 5, 10, 20, 50, 100, 200, 400, quarter["max_steps"])
        probe = _probe(lambda: sample.batch, steps)
        exact.set_params(trainer_kwargs={**quarter, "callbacks": [probe]})
    rows.append(scored(EXACT, exact, _fit(exact, full)))
    if probe is not None:
        print("sample error of the raw weights along the exactly continued warm run:")
        print(", ".join(f"step {k}: {v:.4f}" for k, v in sorted(probe.errors.items())))
        one = warm(warm_start_shrink=1.0, learning_rate=1e-12, trainer_kwargs={"max_steps": 1})
        one.fit(full)
        before, after = (m3.to_matrix(m.predict(full), data, "y") for m in (old, one))
        print(f"one warm step at lr 1e-12 moves old's forecasts by {abs(after - before).max():g}")
    short = LSTMForecaster(**{**params, "trainer_kwargs": quarter})
    rows.append(scored(f"cold, {share} on full", short, _fit(short, full)))
    for k in recent_rows:
        recent = warm(warm_start_shrink=1.0)
        with _recent_windows(k):
            seconds = _fit(recent, full)
        rows.append(scored(f"{EXACT}, windows of the last {k} rows only", recent, seconds))
    for shrink in shrinks:
        model = warm(warm_start_shrink=shrink)
        rows.append(scored(f"warm, warm_start_shrink={shrink:g}", model, _fit(model, full)))
    for factor in no_perturb:
        model = warm(warm_start_shrink=1.0)
        _no_perturb(model, factor)
        rows.append(scored(f"{EXACT}, weights x {factor:g}", model, _fit(model, full)))
    for swa in swas:
        model = warm(swa_start=swa)
        name = WARM.replace("1/4 budget", share)
        rows.append(scored(f"{name}, swa_start={swa:g}", model, _fit(model, full)))
    if carry_moments:
        for shrink, name in ((1.0, EXACT), (None, WARM.replace("1/4 budget", share))):
            changes = {} if shrink is None else {"warm_start_shrink": shrink}
            model = warm(**changes, trainer_kwargs={**quarter, "callbacks": [load]})
            rows.append(scored(f"{name}, Adam's moments of old", model, _fit(model, full)))
    if older_row:
        model = warm(warm_start_shrink=1.0)
        rows.append(scored(f"{EXACT}, on the old data", model, _fit(model, older)))
    return rows


def table(rows: list[dict]) -> str:
    reference = next(r for r in rows if r["model"] == "cold full")
    lines = [
        "| model | sMAPE | MASE | fit s (CPU s) | fit time / cold full, wall (CPU) | train MAE |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = r["fit_s"] / reference["fit_s"]
        cpu_ratio = r["fit_cpu_s"] / reference["fit_cpu_s"]
        lines.append(
            f"| {r['model']} | {r['smape']:.2f} | {r['mase']:.3f} | {r['fit_s']:.1f} "
            f"({r['fit_cpu_s']:.1f}) | {ratio:.2f} ({cpu_ratio:.2f}) | "
            + (f"{r['train_loss']:.4f} |" if "train_loss" in r else "|")
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default="monthly", help="m3.load's name, e.g. m1:monthly")
    parser.add_argument("--smoke", action="store_true", help="40 series, 40 steps")
    parser.add_argument("--recent-rows", type=int, nargs="*", default=[], help="trial rows")
    parser.add_argument("--shrink", type=float, nargs="*", default=[], help="trial rows")
    parser.add_argument("--no-perturb", type=float, nargs="*", default=[], help="trial rows")
    parser.add_argument("--swa", type=float, nargs="*", default=[], help="trial rows")
    parser.add_argument("--older", action="store_true", help="a trial row")
    parser.add_argument("--train-loss", action="store_true", help="a diagnostic column")
    parser.add_argument("--diagnose", action="store_true", help="with --train-loss")
    parser.add_argument("--warm-fraction", type=float, default=0.25, help="of the budget")
    parser.add_argument("--carry-moments", action="store_true", help="trial rows")
    args = parser.parse_args(argv)
    rows = run(
        args.seed,
        args.smoke,
        tuple(args.recent_rows),
        tuple(args.shrink),
        tuple(args.no_perturb),
        tuple(args.swa),
        args.older,
        args.train_loss,
        args.diagnose,
        args.warm_fraction,
        args.carry_moments,
        args.data,
    )
    print(table(rows))
    warm = rows[2]  # the target's row (WARM)
    cold = next(r for r in rows if r["model"] == "cold full")
    print(
        f"\nwarm - cold full sMAPE: {warm['smape'] - cold['smape']:+.2f} (target <= 0.1); "
        f"fit time ratio {warm['fit_s'] / cold['fit_s']:.2f} wall, "
        f"{warm['fit_cpu_s'] / cold['fit_cpu_s']:.2f} CPU (target <= 0.25)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
