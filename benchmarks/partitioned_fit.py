"""A fit from Parquet parts on 2 DDP ranks against a single-process fit of the same panel.

Two measurements (issue 21), each in fresh processes:

``memory``
    The 1,000 x 5,000 panel of ``panel_scale.memory_case`` written as 8 Parquet parts
    (whole series each), and its LSTM (50 steps of batch 256, ``validation_size=0``).
    *Single process*: a child imports everything, notes its resident memory (VmRSS: the
    baseline after imports), reads the folder with ``pandas.read_parquet`` and fits, as a
    user with one machine would; its peak (VmHWM) at the end of training, minus the
    baseline, is the data-dependent memory. *Two ranks*: ``fit(forecast.parts(folder))``
    under ``ddp_spawn`` on 2 CPU processes; each rank's baseline is its peak before it reads
    its parts (``RankRead.base_rss``: imports, the process group), its peak is read by a
    callback at the end of training (``VmHWM``, written to a file per rank).
``m3 single|two_ranks FOLDER``
    M3 monthly (1,428 series), the LSTM with ``panel_params`` (3,000 steps of batch 256, the
    weight average over the last third), seed 0: one process on the frame vs 2 ranks on 4
    parts (series by id hash), the same total steps; sMAPE of ``predict(train)``, as
    ``run.py`` scores. Two runs (each under 10 minutes); the second compares the forecasts.

    flock /tmp/forecast-bench.lock .venv/bin/python -u benchmarks/partitioned_fit.py memory
    flock /tmp/forecast-bench.lock .venv/bin/python -u benchmarks/partitioned_fit.py \
        m3 single /tmp/m3-partitioned
    flock /tmp/forecast-bench.lock .venv/bin/python -u benchmarks/partitioned_fit.py \
        m3 two_ranks /tmp/m3-partitioned

``limit [SERIES [MB]]``
    The panel of ``memory`` with ``SERIES`` series (default 2,000: 10M rows), each
    process under an address-space limit
    (``RLIMIT_AS``, set by ``resource.setrlimit`` before the process imports anything;
    the ranks ``ddp_spawn`` starts inherit it): a literal "larger than one process's
    memory" run. First, without a limit, each process's peak address space (``VmPeak``) is
    measured: the single process, the two ranks and the 2-rank run's calling process. The
    limit (``MB``, or else half-way between the largest 2-rank process and the single
    process) is then set in fresh processes: the single-process fit must fail with a
    ``MemoryError`` (or torch's allocation error) and the 2-rank fit finish. Every process
    runs with ``MALLOC_ARENA_MAX=2`` (glibc reserves 64 MiB of address space per malloc
    arena, one per thread by default: noise of hundreds of MB otherwise).

    flock /tmp/forecast-bench.lock .venv/bin/python -u benchmarks/partitioned_fit.py limit 2000

``drift STEPS...``
    The same two M3 fits with short budgets (``drift 20 200``): the largest relative
    difference of their forecasts and of their weights, one thread per process in both.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

import lightning as L

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from peak_memory import status_mb  # noqa: E402

TWO_RANKS = {"accelerator": "cpu", "devices": 2, "strategy": "ddp_spawn"}


class PeakAtEnd(L.Callback):
    """Writes this process's peak resident memory (MiB) at the end of training, per rank."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        path = Path(self.folder) / f"peak-{trainer.global_rank}.txt"
        path.write_text(str(status_mb("VmHWM")))
        path = Path(self.folder) / f"vmpeak-{trainer.global_rank}.txt"
        path.write_text(str(status_mb("VmPeak")))  # peak address space, for ``limit``


def write_parts(df: Any, folder: Path, n_parts: int) -> None:
    """``df`` as ``n_parts`` Parquet files, each series in one (by a hash of its id)."""
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    ids = df["unique_id"].astype(str)
    hashes = np.array([zlib.crc32(i.encode()) % n_parts for i in ids.unique()])
    part_of = dict(zip(ids.unique(), hashes, strict=True))
    which = ids.map(part_of).to_numpy()
    for k in range(n_parts):
        df[which == k].to_parquet(folder / f"part-{k}.parquet", index=False)


def _child(spec: dict[str, Any]) -> dict[str, Any]:
    import torch
    from panel_scale import memory_case

    import forecast

    torch.set_num_threads(1 if spec["ranks"] == 2 else 2)
    model = _bare_model() if "series" in spec else memory_case()[1]
    folder = Path(spec["folder"])
    model.set_params(validation_size=0)
    out = Path(spec["out"])
    if spec["ranks"] == 1:
        import pandas as pd

        base = status_mb("VmRSS")
        model.set_params(trainer_kwargs={"max_steps": 50, "callbacks": [PeakAtEnd(spec["out"])]})
        start = time.perf_counter()
        try:
            model.fit(pd.read_parquet(folder))
        except (MemoryError, RuntimeError) as exc:  # RuntimeError: torch's allocator
            if "limit_mb" not in spec:
                raise
            error = f"{type(exc).__name__}: {str(exc)[:200]}"
            seconds = time.perf_counter() - start
            return {
                "ranks": 1,
                "error": error,
                "vmpeak_mb": [status_mb("VmPeak")],
                "fit_s": seconds,
            }
        seconds = time.perf_counter() - start
        peak = float((out / "peak-0.txt").read_text())
        return {
            "ranks": 1,
            "base_mb": [base],
            "peak_mb": [peak],
            "vmpeak_mb": [max(float((out / "vmpeak-0.txt").read_text()), status_mb("VmPeak"))],
            "fit_s": seconds,
        }
    kwargs = {**TWO_RANKS, "max_steps": 50, "callbacks": [PeakAtEnd(spec["out"])]}
    model.set_params(trainer_kwargs=kwargs)
    source = forecast.parts(folder)
    start = time.perf_counter()
    model.fit(source)
    seconds = time.perf_counter() - start
    reads = sorted(source.reads, key=lambda r: r.rank)
    peaks = [float((out / f"peak-{r.rank}.txt").read_text()) for r in reads]
    vmpeaks = [float((out / f"vmpeak-{r.rank}.txt").read_text()) for r in reads]
    return {
        "ranks": 2,
        "base_mb": [r.base_rss / 2**20 for r in reads],
        "peak_mb": peaks,
        "vmpeak_mb": vmpeaks,
        "caller_vmpeak_mb": status_mb("VmPeak"),
        "rows": [r.rows for r in reads],
        "fit_s": seconds,
    }


def memory() -> None:
    from panel_scale import memory_case

    with tempfile.TemporaryDirectory(prefix="partitioned-fit-") as tmp:
        df, _ = memory_case()
        write_parts(df, Path(tmp) / "parts", 8)
        print(f"panel: {len(df):,} rows, {df['unique_id'].nunique():,} series, 8 parts")
        del df
        for ranks in (1, 2):
            out = Path(tmp) / f"out-{ranks}"
            out.mkdir()
            spec = {"ranks": ranks, "folder": str(Path(tmp) / "parts"), "out": str(out)}
            result = _spawn(spec)
            extra = [p - b for p, b in zip(result["peak_mb"], result["base_mb"], strict=True)]
            print(json.dumps({**result, "data_mb": extra}))


def _bare_model() -> Any:
    """The LSTM of ``panel_scale.memory_case``, without making its panel (``limit``'s
    processes must not hold a panel of their own: it would count against their limit)."""
    from panel_scale import HORIZON, SEQ_LEN

    from forecast import LSTMForecaster

    return LSTMForecaster(
        seq_len=SEQ_LEN, horizon=HORIZON, id_col="unique_id", time_col="ds", target="y",
        freq="D", max_epochs=1, batch_size=256, progress_bar=False, random_state=0,
        trainer_kwargs={"max_steps": 50},
    )  # fmt: skip


def limit(limit_mb: float | None, n_series: int) -> None:
    """Both fits without a limit (their peak address space), then under ``limit_mb``."""
    import numpy as np
    from panel_scale import MEMORY_LENGTH, monthly_panel

    with tempfile.TemporaryDirectory(prefix="partitioned-limit-") as tmp:
        df = monthly_panel(n_series, MEMORY_LENGTH)  # as memory_case, n_series of them
        steps = np.tile(np.arange(MEMORY_LENGTH), n_series)
        df["ds"] = steps * np.timedelta64(1, "D") + np.datetime64("2000-01-01")
        write_parts(df, Path(tmp) / "parts", 8)
        print(f"panel: {len(df):,} rows, {df['unique_id'].nunique():,} series, 8 parts, "
              f"{df.memory_usage(deep=True).sum() / 2**20:.0f} MiB as a pandas frame")  # fmt: skip
        del df
        runs = [(r, None) for r in (1, 2)] if limit_mb is None else []
        results: dict[int, dict[str, Any]] = {}
        for ranks, cap in [*runs, (1, "limit"), (2, "limit")]:
            if cap is not None and limit_mb is None:  # half-way between the two needs
                two = max([*results[2]["vmpeak_mb"], results[2]["caller_vmpeak_mb"]])
                limit_mb = (two + results[1]["vmpeak_mb"][0]) / 2
            out = Path(tmp) / f"out-{ranks}-{cap}"
            out.mkdir()
            spec: dict[str, Any] = {"ranks": ranks, "folder": str(Path(tmp) / "parts")}
            spec["series"] = n_series
            spec["out"] = str(out)
            if cap is not None:
                spec["limit_mb"] = limit_mb
            start = time.perf_counter()
            try:
                result = _spawn(spec)
            except RuntimeError as exc:  # a failure outside the fit: its last lines
                result = {"ranks": ranks, "error": str(exc)[-600:]}
            result["wall_s"] = round(time.perf_counter() - start, 1)
            if cap is None:
                results[ranks] = result
            print(json.dumps({"limit_mb": spec.get("limit_mb"), **result}), flush=True)


def m3(which: str, folder: str) -> None:
    """One of the two M3 fits (``single`` or ``two_ranks``); its forecasts saved in ``folder``
    and, once both are there, compared."""
    import m3 as m3data
    import numpy as np
    import torch

    import forecast
    from forecast import LSTMForecaster
    from forecast.presets import panel_params

    torch.set_num_threads(2 if which == "single" else 1)  # one core per rank
    data = m3data.load("monthly")
    params = {
        **panel_params(season_length=data.season, horizon=data.horizon),
        "id_col": "unique_id",
        "time_col": "ds",
        "target": "y",
        "freq": data.freq,
        "progress_bar": False,
        "random_state": 0,
    }
    model = LSTMForecaster(**params)
    with tempfile.TemporaryDirectory(prefix="partitioned-m3-") as tmp:
        start = time.perf_counter()
        if which == "single":
            model.fit(data.train)
        else:
            write_parts(data.train, Path(tmp), 4)
            kwargs = {**params["trainer_kwargs"], **TWO_RANKS}
            model.set_params(trainer_kwargs=kwargs).fit(forecast.parts(tmp))
        fit_s = time.perf_counter() - start
    point = m3data.to_matrix(model.predict(data.train), data, "y")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / f"{which}.npy", point)
    print(which, json.dumps(m3data.score(data, point)), f"fit {fit_s:.1f} s", flush=True)
    if (out / "single.npy").is_file() and (out / "two_ranks.npy").is_file():
        diff = np.abs(np.load(out / "single.npy") - np.load(out / "two_ranks.npy"))
        print(f"largest forecast difference {diff.max():.3g} (median {np.median(data.test):.0f})")


def drift(steps: list[int]) -> None:
    """How far the 2-rank fit's weights and forecasts drift from one process's, by budget."""
    import m3 as m3data
    import numpy as np
    import torch

    import forecast
    from forecast import LSTMForecaster
    from forecast.presets import panel_params

    torch.set_num_threads(1)
    data = m3data.load("monthly")
    with tempfile.TemporaryDirectory(prefix="partitioned-drift-") as tmp:
        write_parts(data.train, Path(tmp), 4)
        for budget in steps:
            params = {
                **panel_params(season_length=data.season, horizon=data.horizon),
                "id_col": "unique_id",
                "time_col": "ds",
                "target": "y",
                "freq": data.freq,
                "progress_bar": False,
                "random_state": 0,
                "trainer_kwargs": {"max_steps": budget},
            }
            one = LSTMForecaster(**params).fit(data.train)
            two = LSTMForecaster(**{**params, "trainer_kwargs": {"max_steps": budget, **TWO_RANKS}})
            two.fit(forecast.parts(tmp))
            a, b = (m3data.to_matrix(m.predict(data.train), data, "y") for m in (one, two))
            weights = [
                np.concatenate([p.detach().numpy().ravel() for p in m.network_.parameters()])
                for m in (one, two)
            ]
            print(
                f"{budget} steps: largest relative forecast difference "
                f"{(np.abs(a - b) / np.abs(a)).max():.2e}, largest weight difference "
                f"{np.abs(weights[0] - weights[1]).max():.2e}, sMAPE "
                f"{m3data.score(data, a)['smape']:.3f} and {m3data.score(data, b)['smape']:.3f}",
                flush=True,
            )


def _spawn(spec: dict[str, Any]) -> dict[str, Any]:
    code = (
        "import json, resource, sys; spec = json.loads(sys.argv[1]); cap = spec.get('limit_mb')\n"
        "if cap: resource.setrlimit(resource.RLIMIT_AS, (int(cap * 2**20), int(cap * 2**20)))\n"
        f"sys.path.insert(0, {str(HERE)!r}); import partitioned_fit as p; "
        "print('RESULT' + json.dumps(p._child(spec)))"
    )
    env = {**os.environ, "MALLOC_ARENA_MAX": "2"}  # see ``limit``
    run = subprocess.run(
        [sys.executable, "-c", code, json.dumps(spec)], capture_output=True, text=True, env=env
    )
    lines = [line for line in run.stdout.splitlines() if line.startswith("RESULT")]
    if run.returncode or not lines:
        raise RuntimeError(run.stderr[-3000:])
    result: dict[str, Any] = json.loads(lines[-1][len("RESULT") :])
    return result


if __name__ == "__main__":
    if sys.argv[1] == "memory":
        memory()
    elif sys.argv[1] == "limit":
        series = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
        limit(float(sys.argv[3]) if len(sys.argv) > 3 else None, series)
    elif sys.argv[1] == "drift":
        drift([int(n) for n in sys.argv[2:]])
    else:
        m3(sys.argv[2], sys.argv[3])
