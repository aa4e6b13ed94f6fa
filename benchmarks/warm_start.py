"""Warm starts on M3 monthly: retrain a model on new data from yesterday's weights.

The nightly-retraining question: when six more months of every series arrive, does a
warm start (``warm_start=True``: continue from the fitted weights) with a quarter of the
step budget forecast as well as a cold fit on everything, in a quarter of its time?

1. **old**: ``LSTMForecaster(**panel_params(12, 18))`` fitted cold on the M3 monthly training
   parts without their last 6 months ("yesterday's model");
2. **cold full**: the same, fitted cold on the whole training parts (the reference);
3. **warm**: a copy of *old* with ``warm_start=True`` and ``max_steps`` a quarter of the
   budget, fitted on the whole training parts: once with *old*'s other parameters, once
   with ``swa_start=0`` (the weights averaged over the whole warm run, which is the recipe
   the target is read on: the warm run starts from trained weights, so there is no early
   exploring phase to leave out of the average);
4. **cold quarter**: a cold fit with that quarter budget (what the warm start is worth).

Each forecasts from the end of the whole training parts (*old* too: yesterday's model on
today's data, not refitted), scored on M3's test parts (the 18 months after), as in
``benchmarks/m3.py``. Target: warm within 0.1 sMAPE of cold full, in at most 25 % of its fit
time. Run under ``flock /tmp/forecast-bench.lock`` on the shared build machine.

    python benchmarks/warm_start.py [--seed 0] [--smoke] [--recent-rows 41 24]

``--recent-rows K ...`` adds, for each K, the target's warm row fine-tuned only on the windows
whose targets start in each series' last K rows (a trial of 2026-12-04: not kept).
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

DROP = 6  # months the old model has not seen
WARM = "warm, swa_start=0: old + 1/4 budget on full"  # the row the target is read on


def _fit(model, frame) -> tuple[float, float]:
    """Wall and CPU seconds of ``model.fit(frame)``: CPU seconds move less than wall ones
    when other processes share the cores, so the time ratio is read on both."""
    start, cpu = time.perf_counter(), time.process_time()
    model.fit(frame)
    return time.perf_counter() - start, time.process_time() - cpu


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


def run(seed: int, smoke: bool, recent_rows: tuple[int, ...] = ()) -> list[dict]:
    from forecast import LSTMForecaster
    from forecast.presets import panel_params

    data = m3.load("monthly", n_series=40 if smoke else None)
    params = panel_params(season_length=data.season, horizon=data.horizon)
    params.update(random_state=seed, progress_bar=False)
    budget = 40 if smoke else params["trainer_kwargs"]["max_steps"]
    params["trainer_kwargs"] = {"max_steps": budget}
    quarter = {"max_steps": budget // 4}
    full = data.train
    older = full[full.groupby("unique_id").cumcount(ascending=False) >= DROP]

    def scored(name: str, model, seconds: tuple[float, float]) -> dict:
        forecast = m3.to_matrix(model.predict(full), data, "y")  # from the same history
        wall, cpu = seconds
        return {"model": name, "fit_s": wall, "fit_cpu_s": cpu, **m3.score(data, forecast)}

    old = LSTMForecaster(**params)
    rows = [scored(f"old: without the last {DROP} months, not refitted", old, _fit(old, older))]
    cold = LSTMForecaster(**params)
    rows.append(scored("cold full", cold, _fit(cold, full)))
    warm = copy.deepcopy(old).set_params(warm_start=True, trainer_kwargs=quarter)
    rows.append(scored("warm, as fitted: old + 1/4 budget on full", warm, _fit(warm, full)))
    # The recipe: a warm start continues from weights that are past the exploring phase of
    # the old fit, so its whole run is averaged (swa_start=0) rather than its last third.
    averaged = copy.deepcopy(old).set_params(warm_start=True, trainer_kwargs=quarter, swa_start=0.0)
    rows.append(scored(WARM, averaged, _fit(averaged, full)))
    short = LSTMForecaster(**{**params, "trainer_kwargs": quarter})
    rows.append(scored("cold, 1/4 budget on full", short, _fit(short, full)))
    for k in recent_rows:
        recent = copy.deepcopy(old).set_params(
            warm_start=True, trainer_kwargs=quarter, swa_start=0.0
        )
        with _recent_windows(k):
            seconds = _fit(recent, full)
        rows.append(
            scored(f"warm, swa_start=0, windows of the last {k} rows only", recent, seconds)
        )
    return rows


def table(rows: list[dict]) -> str:
    reference = next(r for r in rows if r["model"] == "cold full")
    lines = [
        "| model | sMAPE | MASE | fit s (CPU s) | fit time / cold full, wall (CPU) |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = r["fit_s"] / reference["fit_s"]
        cpu_ratio = r["fit_cpu_s"] / reference["fit_cpu_s"]
        lines.append(
            f"| {r['model']} | {r['smape']:.2f} | {r['mase']:.3f} | {r['fit_s']:.1f} "
            f"({r['fit_cpu_s']:.1f}) | {ratio:.2f} ({cpu_ratio:.2f}) |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="40 series, 40 steps")
    parser.add_argument("--recent-rows", type=int, nargs="*", default=[], help="trial rows")
    args = parser.parse_args(argv)
    rows = run(args.seed, args.smoke, tuple(args.recent_rows))
    print(table(rows))
    warm = next(r for r in rows if r["model"] == WARM)
    cold = next(r for r in rows if r["model"] == "cold full")
    print(
        f"\nwarm - cold full sMAPE: {warm['smape'] - cold['smape']:+.2f} (target <= 0.1); "
        f"fit time ratio {warm['fit_s'] / cold['fit_s']:.2f} wall, "
        f"{warm['fit_cpu_s'] / cold['fit_cpu_s']:.2f} CPU (target <= 0.25)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
