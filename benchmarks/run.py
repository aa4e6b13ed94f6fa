"""Accuracy and cost on the M3 competition: our recurrent models against the baselines.

One command prints one table per M3 frequency and writes ``benchmarks/RESULTS.md``::

    .venv/bin/python benchmarks/run.py                          # all frequencies, seed 0
    .venv/bin/python benchmarks/run.py --freq monthly --seeds 0,1,2
    .venv/bin/python benchmarks/run.py --smoke                  # seconds: a few series, steps
                                           # (written to benchmarks/.cache/RESULTS.smoke.md)

Rows: seasonal naive (ours, :class:`forecast.baselines.SeasonalNaiveForecaster`),
statsforecast's ``Theta`` and ``AutoETS``, our ``RNNForecaster``, ``GRUForecaster`` and
``LSTMForecaster`` (one global model per frequency over all its series, long format), and
NeuralForecast's LSTM and Darts' ``BlockRNNModel`` (LSTM) from the peers environment
(``benchmarks/peers/setup.sh``; one script per peer in ``benchmarks/peers/``, its settings
in its docstring) unless ``--skip-peers`` or that environment is missing. Columns: sMAPE
and MASE (see :mod:`m3`), fit and predict seconds, and the peak resident memory of the
process that ran the model.

Every (model, frequency, seed) runs in a fresh child process (``--child``), so that the
peak RSS is that model's and one model's caches cannot speed up the next; only the
training part of each series reaches the child's model. Our recurrent models use the
settings of :func:`forecast.presets.panel_params` (the documented rule for panels of short
series), nothing else. With several seeds, the table shows the median with min-max.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import m3  # noqa: E402
from peak_memory import peak_rss_mb  # noqa: E402

OURS = ("rnn", "gru", "lstm")
# EnsembleForecaster(LSTM, n_members=3): one run, seeded by the first seed (members seed,
# seed+1, seed+2), so that its members are the single LSTM's seeds of a --seeds 0,1,2 run.
ENSEMBLES = ("lstm_x3", "lstm_quality")
# CombinedForecaster(LSTM, ThetaForecaster): the network (or the accuracy mode) and our Theta.
COMBINED = {"lstm_theta": 0.5, "lstm_quality_theta": 0.2}  # Theta weighs as one more member
ENSEMBLE_MEMBERS = 3
# forecast.presets.panel_forecaster: the network (1/2), and Theta (the optimised Theta without
# a season), the damped trend and ETS (1/6 each).
PANEL = ("lstm_stats",)
# The accuracy mode's 4 networks and panel_forecaster's statistical partner (panel_partner:
# Theta or without a season the optimised Theta, the damped trend and ETS) at weight 1/3.
QUALITY_STATS = "lstm_quality_stats"
LOCAL = ("seasonal_naive", "theta_ours", "otheta_ours", "damped_ours", "ets_ours")
STATS = (*LOCAL, "theta", "autoets")
PEERS = ("nf_lstm", "darts_blockrnn")  # each runs benchmarks/peers/<name>.py in the peers' venv
PEER_PACKAGES = (
    "neuralforecast",
    "statsforecast",
    "darts",
    "pandas",
    "numpy",
    "torch",
    "pytorch-lightning",
)
LABELS = {
    "seasonal_naive": "seasonal naive (ours)",
    "theta_ours": "ThetaForecaster (ours)",
    "otheta_ours": "OptimisedThetaForecaster (ours)",
    "damped_ours": "DampedTrendForecaster (ours)",
    "ets_ours": "ETSForecaster (ours)",
    "theta": "statsforecast Theta",
    "autoets": "statsforecast AutoETS",
    "rnn": "RNNForecaster (ours)",
    "gru": "GRUForecaster (ours)",
    "lstm": "LSTMForecaster (ours)",
    "lstm_x3": "LSTM, median of 3 seeds (ours)",
    "lstm_quality": "LSTM, accuracy mode: 4 members (ours)",
    "lstm_theta": "LSTM + Theta, mean (ours)",
    "lstm_quality_theta": "accuracy mode + Theta, weight 0.2 (ours)",
    "lstm_stats": "panel_forecaster: LSTM + Theta + damped trend + ETS (ours)",
    "lstm_quality_stats": "accuracy mode + Theta + damped trend + ETS, weight 1/3 (ours)",
    "nf_lstm": "NeuralForecast LSTM",
    "darts_blockrnn": "Darts BlockRNN (LSTM)",
}
# Without a season the Theta of both is the optimised one (forecast.presets.panel_partner).
LABELS_NO_SEASON = {
    "lstm_stats": "panel_forecaster: LSTM + optimised Theta + damped trend + ETS (ours)",
    "lstm_quality_stats": "accuracy mode + optimised Theta + damped trend + ETS, weight 1/3 (ours)",
}
PEERS_PYTHON = HERE / "peers" / ".venv" / "bin" / "python"
SMOKE_SERIES = 12
MARKER = "<!-- run.py writes the text above this line; the text below is kept -->"
SMOKE_STEPS = 5


# ---------------------------------------------------------------------------- children


def _run_ours(model: str, data: m3.M3Subset, seed: int, smoke: bool) -> tuple[object, float]:
    import torch

    from forecast import CombinedForecaster, EnsembleForecaster, RNNForecaster, ThetaForecaster
    from forecast.presets import (
        panel_ensemble_params,
        panel_forecaster,
        panel_params,
        panel_partner,
        statistical_partner,
    )

    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
    lengths = data.train.groupby("unique_id").size().to_numpy()
    params = panel_params(season_length=data.season, horizon=data.horizon, lengths=lengths)
    if smoke:
        params["trainer_kwargs"] = {"max_steps": SMOKE_STEPS}
    if model in PANEL:
        estimator = panel_forecaster(
            data.season,
            data.horizon,
            lengths,
            progress_bar=False,
            random_state=seed,
            **{k: v for k, v in _theta_data(data).items() if k != "horizon"},
            **({"trainer_kwargs": params["trainer_kwargs"]} if smoke else {}),
        )
        start = time.perf_counter()
        estimator.fit(data.train)
        return estimator, time.perf_counter() - start
    estimator = RNNForecaster(
        cell=model.split("_")[0],
        id_col="unique_id",
        time_col="ds",
        target="y",
        freq=data.freq,
        progress_bar=False,
        random_state=seed,
        **params,
    )
    if model in ("lstm_quality", "lstm_quality_theta", QUALITY_STATS):
        network = estimator
        quality = panel_ensemble_params(data.season, data.horizon)
        estimator = EnsembleForecaster(estimator, **quality)
        if model == QUALITY_STATS:
            partner = statistical_partner(network, panel_partner(data.season), data.season)
            estimator = CombinedForecaster(estimator, partner, partner_weight=1 / 3)
    elif model in ENSEMBLES:
        estimator = EnsembleForecaster(estimator, n_members=ENSEMBLE_MEMBERS)
    if model in COMBINED:
        theta = ThetaForecaster(season_length=data.season, **_theta_data(data))
        estimator = CombinedForecaster(estimator, theta, partner_weight=COMBINED[model])
    start = time.perf_counter()
    estimator.fit(data.train)
    fit_s = time.perf_counter() - start
    # Series too short for a training window are left out of training (drop_short), and
    # forecast from their own history like every other series: predict(df) reads the last
    # seq_len points of each series of df, scaled by that window alone.
    return estimator, fit_s


def _theta_data(data: m3.M3Subset) -> dict:
    """The data parameters ``ThetaForecaster`` shares with the networks above."""
    return {
        "horizon": data.horizon,
        "id_col": "unique_id",
        "time_col": "ds",
        "target": "y",
        "freq": data.freq,
    }


def _child(spec: dict) -> dict:
    """Fit and forecast one model on one frequency; the training parts only."""
    warnings.simplefilter("ignore")
    n_series = SMOKE_SERIES if spec["smoke"] else None
    data = m3.load(spec["freq"], n_series=n_series)
    model, seed = spec["model"], spec["seed"]
    if model in (*OURS, *ENSEMBLES, *COMBINED, *PANEL, QUALITY_STATS):
        estimator, fit_s = _run_ours(model, data, seed, spec["smoke"])
        start = time.perf_counter()
        frame = estimator.predict(data.train)
        predict_s = time.perf_counter() - start
        forecasts = m3.to_matrix(frame, data, "y")
    elif model in LOCAL:
        from forecast.baselines import (
            DampedTrendForecaster,
            ETSForecaster,
            OptimisedThetaForecaster,
            SeasonalNaiveForecaster,
            ThetaForecaster,
        )

        baseline = {
            "seasonal_naive": SeasonalNaiveForecaster,
            "theta_ours": ThetaForecaster,
            "otheta_ours": OptimisedThetaForecaster,
            "damped_ours": DampedTrendForecaster,
            "ets_ours": ETSForecaster,
        }[model]
        estimator = baseline(season_length=data.season, **_theta_data(data))
        start = time.perf_counter()
        estimator.fit(data.train)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        forecasts = m3.to_matrix(estimator.predict(), data, "y")
        predict_s = time.perf_counter() - start
    elif model in ("theta", "autoets"):
        from statsforecast import StatsForecast
        from statsforecast.models import AutoETS, Theta

        stat = Theta if model == "theta" else AutoETS
        sf = StatsForecast(models=[stat(season_length=data.season)], freq=data.freq, n_jobs=1)
        start = time.perf_counter()
        sf.fit(data.train)  # includes numba's compilation on first use
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        frame = sf.predict(h=data.horizon)
        predict_s = time.perf_counter() - start
        if "unique_id" not in frame.columns:
            frame = frame.reset_index()
        column = next(c for c in frame.columns if c not in ("unique_id", "ds"))
        forecasts = m3.to_matrix(frame, data, column)
    else:
        raise ValueError(f"unknown model {model!r}")
    return {
        "forecasts": forecasts.tolist(),
        "fit_s": fit_s,
        "predict_s": predict_s,
        "peak_rss_mb": peak_rss_mb(),
    }


def _spawn(spec: dict, python: str, script: Path) -> dict:
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    result = subprocess.run(
        [python, str(script), "--child", json.dumps(spec)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if result.returncode != 0:
        tail = result.stderr.strip().splitlines()[-5:]
        raise RuntimeError(f"{spec} failed:\n" + "\n".join(tail))
    return json.loads(result.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------- parent


def median_range(values: list[float], digits: int) -> str:
    """``median (min–max)``, or the value alone for one run (the benchmarks' table cells)."""
    med = statistics.median(values)
    if len(values) == 1:
        return f"{med:.{digits}f}"
    return f"{med:.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def run(
    freqs: list[str],
    seeds: list[int],
    smoke: bool,
    skip_peers: bool,
    models: list[str] | None = None,
    peer_seeds: int | None = None,
) -> list[dict]:
    """Every model on every frequency; one row per (frequency, model), seeds summarised."""
    peers = not skip_peers and PEERS_PYTHON.is_file()
    if models is None:
        models = [*STATS, *OURS, *ENSEMBLES, *COMBINED, *PANEL, *PEERS]
    if not peers:
        missing = [m for m in models if m in PEERS]
        if missing and not skip_peers:
            print(
                f"  {missing} skipped: no peers environment (bash benchmarks/peers/setup.sh)",
                file=sys.stderr,
            )
        models = [m for m in models if m not in PEERS]
    rows = []
    for freq in freqs:
        data = m3.load(freq, n_series=SMOKE_SERIES if smoke else None)
        for model in models:
            # The deterministic baselines need one run; seeds matter to the networks only.
            seeded = model in OURS or model in PEERS or model in ("lstm_theta", *PANEL)
            model_seeds = seeds if seeded else seeds[:1]
            if model in PEERS and peer_seeds is not None:
                model_seeds = seeds[:peer_seeds]
            runs = []
            for seed in model_seeds:
                spec = {"model": model, "freq": freq, "seed": seed, "smoke": smoke}
                if model in PEERS:
                    out = _spawn(spec, str(PEERS_PYTHON), HERE / "peers" / f"{model}.py")
                elif model in ("theta", "autoets") and PEERS_PYTHON.is_file():
                    # statsforecast pins pandas < 3: it lives in the peers' environment.
                    out = _spawn(spec, str(PEERS_PYTHON), Path(__file__))
                else:
                    out = _spawn(spec, sys.executable, Path(__file__))
                out.update(m3.score(data, np.asarray(out.pop("forecasts"))))
                note = out.pop("note", None)  # a child's word on what it did (short series)
                runs.append(out)
                print(
                    f"  {freq:9s} {model:15s} seed {seed}: sMAPE {out['smape']:.2f} "
                    f"MASE {out['mase']:.3f} fit {out['fit_s']:.1f}s"
                    + (f"\n    {note}" if note else ""),
                    file=sys.stderr,
                    flush=True,
                )
            rows.append(
                {
                    "freq": freq,
                    "model": model,
                    "n_series": len(data.ids),
                    "horizon": data.horizon,
                    "seeds": model_seeds,
                    "runs": runs,
                }
            )
    return rows


def _freq_label(freq: str) -> str:
    """``monthly`` (M3's, the default competition) or ``M1 monthly``."""
    competition, _, name = freq.rpartition(":")
    if competition in ("", "m3"):
        return name
    return f"{'Tourism' if competition == 'tourism' else competition.upper()} {name}"


def table(rows: list[dict]) -> str:
    """Markdown table: one line per (frequency, model)."""
    lines = [
        "| frequency | model | sMAPE | MASE | MAPE | fit s | predict s | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        runs = row["runs"]
        no_season = m3.SEASON[row["freq"].rpartition(":")[2]] == 1
        labels = LABELS | LABELS_NO_SEASON if no_season else LABELS
        cells = [
            f"{_freq_label(row['freq'])} ({row['n_series']}, h={row['horizon']})",
            labels[row["model"]],
            median_range([r["smape"] for r in runs], 2),
            median_range([r["mase"] for r in runs], 3),
            median_range([r["mape"] for r in runs], 2),
            median_range([r["fit_s"] for r in runs], 1),
            median_range([r["predict_s"] for r in runs], 2),
            median_range([r["peak_rss_mb"] for r in runs], 0),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _versions(
    names: tuple[str, ...] = (
        "forecast-rnn",  # our distribution (the import name is forecast)
        "torch",
        "lightning",
        "numpy",
        "pandas",
        "statsforecast",
    ),
) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def _peer_versions() -> str:
    """The peers' venv versions, as its own Python reports them (``run.py --versions``)."""
    if not PEERS_PYTHON.is_file():
        return "no peers environment"
    result = subprocess.run(
        [str(PEERS_PYTHON), str(Path(__file__)), "--versions"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        return "unavailable (" + " ".join(result.stderr.strip().splitlines()[-1:]) + ")"
    versions = json.loads(result.stdout.strip().splitlines()[-1])
    return ", ".join(f"{k} {v}" for k, v in versions.items())


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if "model name" in line)
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}"


def report(rows: list[dict], argv: list[str], elapsed: float, smoke: bool) -> str:
    from forecast.presets import panel_ensemble_params, panel_params

    versions = ", ".join(f"{k} {v}" for k, v in _versions().items())
    lines = []
    for freq in dict.fromkeys(r["freq"] for r in rows):
        data = m3.load(freq, n_series=SMOKE_SERIES if smoke else None)
        lengths = data.train.groupby("unique_id").size().to_numpy()
        params = panel_params(data.season, data.horizon, lengths=lengths)
        quality = panel_ensemble_params(data.season, data.horizon)["member_params"]
        lines.append(
            f"- {_freq_label(freq)} (season {data.season}): `{params}`; accuracy mode's "
            f"members cycle through `{quality}`"
        )
    rules = "\n".join(lines)
    threads = os.environ.get("BENCH_THREADS", "2")
    return f"""# Benchmarks: M3 and M1

{"**Smoke run** (a few series, a few steps): numbers are meaningless. " if smoke else ""}\
Written by `{" ".join(["python", "benchmarks/run.py", *argv])}` on \
{datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")} ({elapsed / 60:.1f} min).

- Machine: {_machine()}; torch threads: {threads}; other jobs shared the CPUs (timings are noisy).
- Versions: {versions}.
- Peers' venv versions: {_peer_versions()}.
- Split: the competitions' own (the last h points of each series are the test set; models
  see only the training part, which also holds any validation tail). sMAPE as in M3; MASE
  with the in-sample seasonal-naive scale (season 12 monthly, 4 quarterly, 1 otherwise);
  MAPE the mean over series of each series' MAPE (M1 and M3 hold no zeros).
- Our recurrent models: `forecast.presets.panel_params(season_length, horizon,
  lengths=<each series' training length>)`, nothing else:
{rules}
- Seeds: median (min–max) over seeds for the networks; the baselines are deterministic.
- `LSTM, accuracy mode`: `EnsembleForecaster(LSTMForecaster(**panel_params(...)),
  **panel_ensemble_params(season_length, horizon))`: 4 members seeded from the first seed,
  one per view above, median-combined; one run, its fit time the four fits'.
- `panel_forecaster`: `forecast.presets.panel_forecaster(season_length, horizon, lengths)`:
  the network at 1/2, Theta, the damped trend and ETS (ours) at 1/6 each; without a season
  the optimised Theta in place of Theta (`forecast.presets.panel_partner`).
- `accuracy mode + Theta + damped trend + ETS`: `CombinedForecaster(<the accuracy mode>,
  statistical_partner(network, panel_partner(season_length), season_length),
  partner_weight=1/3)`: the statistical models weigh 1/9 each.
- `LSTM, median of 3 seeds`: `EnsembleForecaster(LSTMForecaster(**panel_params(...)),
  n_members=3)` seeded with the first seed (members: that seed and the next two), one run;
  its fit time is the three fits'.
- Peak RSS: of the process that ran the model (imports included).

{table(rows)}
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--freq", default=",".join(m3.FREQS), help="comma-separated subsets")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds of the networks")
    parser.add_argument("--smoke", action="store_true", help="a few series and steps")
    parser.add_argument("--skip-peers", action="store_true", help="no NeuralForecast or Darts rows")
    parser.add_argument(
        "--peer-seeds", type=int, default=None, help="the peers run the first N seeds only"
    )
    parser.add_argument(
        "--models",
        default=",".join(STATS + OURS + ENSEMBLES + tuple(COMBINED) + PANEL + PEERS),
        help="comma-separated rows",
    )
    parser.add_argument(
        "--output",
        help="markdown report (default: RESULTS.md; with --smoke, .cache/RESULTS.smoke.md, so "
        "that a smoke run never replaces the measured table)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--versions", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.versions:  # run by the parent with the peers' Python: that venv's versions
        print(json.dumps(_versions(PEER_PACKAGES)))
        return 0
    if args.child:
        print(json.dumps(_child(json.loads(args.child))))
        return 0
    freqs = [f.strip() for f in args.freq.split(",") if f.strip()]
    known = [*m3.FREQS, *(f"m1:{f}" for f in m3.M1_FREQS)]
    known += [f"tourism:{f}" for f in m3.TOURISM_FREQS]
    unknown = sorted(set(freqs) - set(known))
    if unknown:
        parser.error(f"unknown --freq {unknown}; choose from {known}")
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = sorted(set(models) - set(LABELS))
    if unknown:
        parser.error(f"unknown --models {unknown}; choose from {list(LABELS)}")
    seeds = [int(s) for s in args.seeds.split(",")]
    start = time.perf_counter()
    rows = run(freqs, seeds, args.smoke, args.skip_peers, models, args.peer_seeds)
    shown = sys.argv[1:] if argv is None else argv
    text = report(rows, shown, time.perf_counter() - start, args.smoke)
    print(table(rows))
    output = Path(args.output) if args.output else HERE / "RESULTS.md"
    if args.smoke and not args.output:
        output = HERE / ".cache" / "RESULTS.smoke.md"
        output.parent.mkdir(parents=True, exist_ok=True)
    # Sections that other scripts' results were pasted into, after the marker, are kept.
    kept = ""
    if output.is_file() and MARKER in output.read_text():
        kept = output.read_text().split(MARKER, 1)[1]
    output.write_text(text + "\n" + MARKER + kept)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
