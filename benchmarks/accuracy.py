"""Accuracy experiments on M3 and M1: fit one configuration, keep its forecasts, combine them.

Each ``fit`` runs in its own process and writes the forecasts of one (data set, configuration,
seed) to ``benchmarks/.cache/accuracy/<data>/<config>_s<seed>.json`` with its fit seconds (wall
and CPU) and peak RSS; ``score`` reads any set of them back and prints sMAPE, MASE and MAPE of
their median (one member: the member itself). A configuration is ``panel_params`` with the
overrides of :data:`CONFIGS`, so the ablation table's rows are reproducible by name::

    .venv/bin/python benchmarks/accuracy.py fit --data m3:monthly --config default --seed 0
    .venv/bin/python benchmarks/accuracy.py score --data m3:monthly default:0 default:1
    .venv/bin/python benchmarks/accuracy.py score --data m3:monthly default:0-4   # 5 seeds
    .venv/bin/python benchmarks/accuracy.py table --data m3:monthly default:0-4  # each alone
    .venv/bin/python benchmarks/accuracy.py table --data m3:monthly default:0-4 \
        --partner theta+damped --partner-weight 0.5   # each combined as panel_forecaster does
    .venv/bin/python benchmarks/accuracy.py weights --data m3:monthly default:0  # needs @val fits

``--data`` is ``m3:<frequency>`` or ``m1:<frequency>`` (:func:`m3.load`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import m3  # noqa: E402
from peak_memory import peak_rss_mb  # noqa: E402

CACHE = HERE / ".cache" / "accuracy"

# Overrides of panel_params(season, horizon) by configuration name ("default": none). A value
# that is a string starting with "x" multiplies panel_params' value (e.g. seq_len "x1.5").
# Keys starting with "_" are experiment hooks (see _hooks), not estimator parameters.
# panel_params' loss depends on the season ("mae" with one, "mape" without, since commit
# 71b2821), so rows measured before it without a season as "default" or "wdiff" are now
# "lmae" and "lmae_wdiff".
CONFIGS: dict[str, dict[str, Any]] = {
    "default": {},
    "lmae": {"loss": "mae"},
    "lmae_wdiff": {"loss": "mae", "scaler": "window_diff"},
    "balanced": {"_sampling": "series"},
    "h128": {"hidden_size": 128},
    "layers2": {"num_layers": 2},
    "steps6k": {"trainer_kwargs": {"max_steps": 6000}},
    "steps2k": {"trainer_kwargs": {"max_steps": 2000}},
    "steps1.5k": {"trainer_kwargs": {"max_steps": 1500}},
    "L1.5": {"seq_len": "x1.5"},
    "L0.75": {"seq_len": "x0.75"},
    "L0.5": {"seq_len": "x0.5"},
    "L2": {"seq_len": "x2"},
    "deseason": {"_deseason": True},
    "gru": {"cell": "gru"},
    "gru_deseason": {"cell": "gru", "_deseason": True},
    "log": {"target_transform": "log"},
    "log_diff": {"target_transform": "log", "_scale": "diff"},
    "seasoncov": {"_season_cov": True},
    "deseason_diff": {"_deseason": True, "_scale": "diff"},
    "recent1.5": {"_recent": 1.5},
    "diffscale": {"_scale": "diff"},
    "sdiff": {"_scale": "diff", "_lag": "season"},
    "diff_L0.5": {"_scale": "diff", "seq_len": "x0.5"},
    "diff_L0.75": {"_scale": "diff", "seq_len": "x0.75"},
    "recent3": {"_recent": 3},
    "recent6": {"_recent": 6},
    "huber": {"loss": "huber"},
    "wdiff": {"scaler": "window_diff"},
    "mse": {"loss": "mse"},
    "deseason_huber": {"_deseason": True, "loss": "huber"},
    "loclast": {"_loc": "last"},
    "locewm": {"_loc": "ewm"},
    "smape": {"_loss": "smape"},
    "mape": {"_loss": "mape"},
    "maemape": {"_loss": "mae+mape"},
    "lmape": {"loss": "mape"},
    "lmape_deseason": {"loss": "mape", "_deseason": True},
    "lsmape": {"loss": "smape"},
    "lmape_wdiff": {"loss": "mape", "scaler": "window_diff"},
    "lsmape_deseason": {"loss": "smape", "_deseason": True},
    "smape_deseason": {"_loss": "smape", "_deseason": True},
    "mape_deseason": {"_loss": "mape", "_deseason": True},
    # partial_horizons=True (issue 22, update 5): windows whose horizon runs past the end
    "ph": {"partial_horizons": True},
    "ph_deseason": {"partial_horizons": True, "_deseason": True},
    "ph_lmape": {"partial_horizons": True, "loss": "mape"},
    "ph_lmape_deseason": {"partial_horizons": True, "loss": "mape", "_deseason": True},
    # the default with as many epochs as partial horizons' extra windows take: equal steps
    "E1.27": {"max_epochs": "x1.27"},
    "E1.5": {"max_epochs": "x1.5"},
    "E1.55": {"max_epochs": "x1.55"},
    "E1.8": {"max_epochs": "x1.8"},
    "ph_L1.5": {"partial_horizons": True, "seq_len": "x1.5"},
    "ph_deseason_L1.5": {"partial_horizons": True, "_deseason": True, "seq_len": "x1.5"},
    # the season taken off additively where a series holds a value <= 0 (multiplicatively
    # elsewhere, as "deseason"): forecast.data.seasonality.season_map
    "deseason_add": {"_deseason": "components"},
    # regularisation (panel_params has none): dropout before the head, input noise
    "drop0.1": {"dropout": 0.1},
    "drop0.3": {"dropout": 0.3},
    "h128_drop0.3": {"hidden_size": 128, "dropout": 0.3},
    "noise0.03": {"_noise": 0.03},
    "noise0.1": {"_noise": 0.1},
    "cosine": {"lr_schedule": "cosine", "swa_start": None},
}


def seasonal_indices(x: np.ndarray, season: int) -> np.ndarray:
    """Classical multiplicative seasonal indices of ``x`` (mean 1), or ones when not seasonal.

    The library's ``forecast.data.seasonality.seasonal_indices`` gives the same indices, bit
    for bit, on every series of the ten data sets; this copy is here because
    ``benchmarks/peers/statsforecast_partner.py`` runs in the peers' venv, which has no
    ``forecast``.

    As the M3 Theta method decides: seasonal when the autocorrelation at lag ``season`` is
    significant at 90 % (Bartlett's variance), with at least 3 seasons of data.
    """
    n = len(x)
    if season <= 1 or n < 3 * season or np.any(x <= 0):
        return np.ones(season)
    d = x - x.mean()
    acf = np.array([np.sum(d[k:] * d[: n - k]) for k in range(season + 1)]) / np.sum(d * d)
    limit = 1.645 * np.sqrt((1 + 2 * np.sum(acf[1:season] ** 2)) / n)
    if abs(acf[season]) <= limit:
        return np.ones(season)
    # Centred moving average (2 x season when even), then the mean ratio per position.
    if season % 2 == 0:
        w = np.r_[0.5, np.ones(season - 1), 0.5] / season
    else:
        w = np.ones(season) / season
    trend = np.convolve(x, w, mode="valid")
    lead = (len(w) - 1) // 2
    ratios = x[lead : lead + len(trend)] / trend
    positions = (np.arange(len(trend)) + lead) % season
    idx = np.array([ratios[positions == p].mean() for p in range(season)])
    return idx / idx.mean()


def deseasonalised(
    data: m3.M3Subset, components: bool = False
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The training frame with each series' season taken off, and by series id what was
    taken off: each season position's divisor and offset ``(m, 2)``, taken off as
    ``(y - offset) / divisor``. Without ``components``, the divisors are the
    :func:`seasonal_indices` (ones where a series is not seasonal) and the offsets 0; with
    them, a series with a value ``<= 0`` or an index under 0.01 gets additive offsets
    instead, as the library's :func:`forecast.data.seasonality.season_map` decides.
    """
    factors, parts = {}, []
    for key, g in data.train.groupby("unique_id", sort=False):
        x = g["y"].to_numpy()
        if components:  # imported here: the peers' venv (statsforecast_partner.py) has no forecast
            from forecast.data.seasonality import season_map

            factors[key] = season_map(x, data.season)
        else:
            factors[key] = np.stack([seasonal_indices(x, data.season), np.zeros(data.season)], 1)
        season = factors[key][np.arange(len(g)) % data.season]
        parts.append(g.assign(y=(x - season[:, 1]) / season[:, 0]))
    return pd.concat(parts, ignore_index=True), factors


def reseasonalise(forecasts: np.ndarray, data: m3.M3Subset, factors: dict[str, np.ndarray]) -> None:
    """Put back on the ``(S, H)`` forecasts (in ``data``'s series order), in place, what
    :func:`deseasonalised` took off, at each forecast step's season position."""
    for i, (key, history) in enumerate(zip(data.ids, data.history, strict=True)):
        season = factors[key][(len(history) + np.arange(data.horizon)) % data.season]
        forecasts[i] = forecasts[i] * season[:, 0] + season[:, 1]


def _hooks(params: dict[str, Any]) -> None:
    """Apply (and remove) the experiment hooks of a configuration."""
    if params.pop("_sampling", "uniform") == "series":
        import torch

        import forecast.data.windowing as windowing

        class SeriesBalancedSampler(windowing.ShuffledWindowSampler):  # type: ignore[misc]
            """Series drawn uniformly, then one of its windows (with replacement): sMAPE
            weighs series equally, a uniform draw of windows weighs them by length."""

            def __iter__(self):  # type: ignore[no-untyped-def]
                windows = self.data_source.windows  # type: ignore[attr-defined]
                counts = np.diff(windows.cumulative)
                series = np.flatnonzero(counts > 0)
                n = len(self.data_source)
                for start in range(0, n, self.CHUNK):
                    size = min(self.CHUNK, n - start)
                    pick = torch.randint(len(series), (size,), generator=self.generator).numpy()
                    chosen = series[pick]
                    u = torch.rand(size, generator=self.generator, dtype=torch.float64).numpy()
                    within = np.minimum((u * counts[chosen]).astype(np.int64), counts[chosen] - 1)
                    yield from (windows.cumulative[chosen] + within).tolist()

        windowing.ShuffledWindowSampler = SeriesBalancedSampler  # type: ignore[misc]
    scale = params.pop("_scale", None)
    lag = params.pop("_lag", 1)
    if scale == "diff":  # window_level's centre, MASE's naive scale (lag: its season)
        import forecast.data.scaling as scaling

        stats = scaling.SeriesScaler.window_stats

        def window_stats(self, x, series):  # type: ignore[no-untyped-def]
            if self.method != "window_level":
                return stats(self, x, series)
            x64 = x.astype(np.float64)
            loc = x64.mean(axis=1, keepdims=True)
            diff = np.abs(x64[:, lag:] - x64[:, :-lag]).mean(axis=1, keepdims=True)
            return loc, scaling._safe_scale(diff)

        scaling.SeriesScaler.window_stats = window_stats  # type: ignore[method-assign]
    centre = params.pop("_loc", None)
    if centre is not None:  # the window's centre: its last value, or an EWMA ending there
        import forecast.data.scaling as scaling

        stats_before = scaling.SeriesScaler.window_stats

        def centred_stats(self, x, series):  # type: ignore[no-untyped-def]
            loc, scale = stats_before(self, x, series)
            if self.method != "window_level":
                return loc, scale
            x64 = x.astype(np.float64)
            if centre == "last":
                return x64[:, -1:], scale
            weights = 0.7 ** np.arange(x64.shape[1])[::-1]  # EWMA, alpha 0.3
            weights = (weights / weights.sum())[None, :, None]
            return (x64 * weights).sum(axis=1, keepdims=True), scale

        scaling.SeriesScaler.window_stats = centred_stats  # type: ignore[method-assign]
    metric_loss = params.pop("_loss", None)
    if metric_loss is not None:  # sMAPE or MAPE of the unscaled values, as N-BEATS trains
        import torch

        import forecast.neural.objectives as objectives

        class MetricLoss(torch.nn.Module):
            """Under ``window_level`` a positive window's centre equals its scale, so a
            scaled value ``z`` is ``y / loc - 1``: sMAPE and MAPE need ``1 + z`` only."""

            def forward(self, pred, target):  # type: ignore[no-untyped-def]
                diff = (pred - target).abs()
                actual = (1.0 + target).abs()
                if metric_loss == "mape":
                    return (diff / actual.clamp_min(1e-3)).mean()
                if metric_loss == "mae+mape":  # scaled MAE and MAPE, half each
                    return (0.5 * diff * (1.0 + 1.0 / actual.clamp_min(1e-3))).mean()
                both = actual + (1.0 + pred).abs()
                return (2.0 * diff / both.clamp_min(1e-3)).mean()

        objectives.LOSSES["mae"] = MetricLoss  # params keep loss="mae"
    noise = params.pop("_noise", None)
    if noise is not None:  # Gaussian noise on the scaled inputs of each training batch
        import torch

        import forecast.neural.module as module

        step = module.RecurrentModule.training_step

        def noisy_step(self, batch, batch_idx):  # type: ignore[no-untyped-def]
            if isinstance(batch, dict):
                batch = dict(batch, x=batch["x"] + noise * torch.randn_like(batch["x"]))
            else:  # (x, y)
                batch = (batch[0] + noise * torch.randn_like(batch[0]), *batch[1:])
            return step(self, batch, batch_idx)

        module.RecurrentModule.training_step = noisy_step  # type: ignore[method-assign]
    recent = params.pop("_recent", None)
    if recent is not None:  # train only on windows whose targets start in the last recent*h
        import forecast.forecasters.recurrent as recurrent

        build = recurrent.WindowIndex.build
        horizon = params["horizon"]

        class Recent(recurrent.WindowIndex):  # type: ignore[misc,valid-type]
            @classmethod
            def build(cls, offsets, seq_len, h, end_margin=0, first_target=None):  # type: ignore[no-untyped-def]
                if first_target is None:
                    first_target = np.diff(offsets) - int(recent * horizon)
                return build(offsets, seq_len, h, end_margin=end_margin, first_target=first_target)

        recurrent.WindowIndex = Recent  # type: ignore[misc]


def _params(data: m3.M3Subset, config: str) -> dict[str, Any]:
    from forecast.presets import panel_params

    # As benchmarks/run.py: seq_len capped by the lengths; a validation split (``@val``) keeps
    # the full training parts' settings, as a model validated before its final fit would.
    lengths = [len(h) + data.horizon * data.holdout for h in data.history]
    params = panel_params(season_length=data.season, horizon=data.horizon, lengths=lengths)
    for key, value in CONFIGS[config].items():
        if value == "season":
            value = data.season
        if isinstance(value, str) and value.startswith("x"):
            value = max(1, round(params[key] * float(value[1:])))
        params[key] = value
    return params


def fit(data_name: str, config: str, seed: int) -> dict[str, Any]:
    """Fit one configuration on the training parts; return its forecasts and costs."""
    import torch

    from forecast import RNNForecaster

    warnings.simplefilter("ignore")
    torch.set_num_threads(int(os.environ.get("ACCURACY_THREADS", "1")))
    data = m3.load(data_name)
    params = _params(data, config)
    params.setdefault("cell", "lstm")
    deseason = params.pop("_deseason", False)
    season_cov = params.pop("_season_cov", False)
    _hooks(params)
    train = data.train
    if deseason:  # take each series' season off (training part only)
        train, factors = deseasonalised(data, components=deseason == "components")
    future_frame = None
    if season_cov:  # each row's seasonal index as a known-future covariate
        parts, futures = [], []
        for key, g in data.train.groupby("unique_id", sort=False):
            idx = seasonal_indices(g["y"].to_numpy(), data.season)
            g = g.copy()
            g["sidx"] = idx[np.arange(len(g)) % data.season]
            parts.append(g)
            times = pd.date_range(g["ds"].iloc[-1], periods=data.horizon + 1, freq=data.freq)[1:]
            phase = (len(g) + np.arange(data.horizon)) % data.season
            futures.append(pd.DataFrame({"unique_id": key, "ds": times, "sidx": idx[phase]}))
        train = pd.concat(parts, ignore_index=True)
        future_frame = pd.concat(futures, ignore_index=True)
        params["future_covariates"] = ["sidx"]
    estimator = RNNForecaster(
        id_col="unique_id",
        time_col="ds",
        target="y",
        freq=data.freq,
        progress_bar=False,
        random_state=seed,
        **params,
    )
    wall, cpu = time.perf_counter(), time.process_time()
    estimator.fit(train)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    forecasts = m3.to_matrix(estimator.predict(train, future_covariates=future_frame), data, "y")
    if deseason:
        reseasonalise(forecasts, data, factors)
    return {
        "data": data_name,
        "config": config,
        "seed": seed,
        "params": _params(data, config),
        "fit_s": wall,
        "fit_cpu_s": cpu,
        "peak_rss_mb": peak_rss_mb(),
        "forecasts": forecasts.tolist(),
    }


def _path(data_name: str, config: str, seed: int) -> Path:
    return CACHE / data_name.replace(":", "_") / f"{config}_s{seed}.json"


def _members(specs: list[str]) -> list[tuple[str, int]]:
    """``name:0-4`` or ``name:0,2`` or ``name:3`` as (name, seed) pairs."""
    out = []
    for spec in specs:
        name, _, seeds = spec.rpartition(":")
        for part in seeds.split(","):
            lo, _, hi = part.partition("-")
            out.extend((name, s) for s in range(int(lo), int(hi or lo) + 1))
    return out


def _load(data_name: str, name: str, seed: int) -> dict[str, Any]:
    path = _path(data_name, name, seed)
    if not path.exists():
        raise SystemExit(
            f"{path} is missing: run `accuracy.py fit --data {data_name} "
            f"--config {name} --seed {seed}` first."
        )
    return json.loads(path.read_text())


# The library's local models, and statsforecast's models from the cache, which
# benchmarks/peers/statsforecast_partner.py fills in the peers' venv (not a dependency).
LOCAL = ("theta", "otheta", "damped", "ets")
CACHED = ("sf_ets", "sf_ets_zzn", "sf_ces_zzn", "sf_arima_zzn", "sf_dotm_zzn")


def partner_name(value: str) -> str:
    """A partner: ``+``-joined names of :data:`LOCAL` and :data:`CACHED`."""
    names = value.split("+")
    unknown = [n for n in names if n not in (*LOCAL, *CACHED)]
    if unknown or len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(
            f"{value!r}: join distinct names of {', '.join((*LOCAL, *CACHED))} with '+'"
        )
    return value


def padded(data: m3.M3Subset) -> tuple[np.ndarray, np.ndarray]:
    """The training parts as :func:`right_aligned` puts them."""
    return right_aligned(data.history)


def right_aligned(histories: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``histories`` right-aligned in one ``(S, L)`` array, as the library pads them, and
    where each holds a value: what the local models' array functions take."""
    width = max(len(h) for h in histories)
    x = np.zeros((len(histories), width))
    seen = np.zeros(x.shape, dtype=bool)
    for i, history in enumerate(histories):
        x[i, width - len(history) :] = history
        seen[i, width - len(history) :] = True
    return x, seen


def local_methods() -> dict[str, Any]:
    """The library's local models' array functions by :data:`LOCAL` name: ``(x, seen,
    horizon, season)`` -> ``(forecasts, coefficients)``."""
    from forecast.forecasters.damped import damped_trend_forecasts
    from forecast.forecasters.ets import ets_forecasts
    from forecast.forecasters.optimised_theta import optimised_theta_forecasts
    from forecast.forecasters.theta import theta_forecasts

    return {
        "theta": theta_forecasts,
        "otheta": optimised_theta_forecasts,
        "damped": damped_trend_forecasts,
        "ets": ets_forecasts,
    }


def partner_forecasts(data_name: str, data: m3.M3Subset, partner: str) -> np.ndarray:
    """``(S, H)`` forecasts of the statistical partner from each series' training part: the
    mean of the models named, each of Theta, the optimised Theta (``otheta``), the damped
    trend, ETS (the library's; ``forecast.presets.panel_forecaster`` combines
    ``theta+damped+ets`` on seasonal data and ``otheta+damped+ets`` without a season) or a
    statsforecast model read from the cache (:data:`CACHED`)."""
    x, seen = padded(data)
    methods = local_methods()
    parts = []
    for name in partner.split("+"):
        if name in methods:
            parts.append(methods[name](x, seen, data.horizon, data.season)[0])
            continue
        path = CACHE / data_name.replace(":", "_") / f"partner_{name}.json"
        if not path.exists():
            sys.exit(
                f"{path} is missing: run `benchmarks/peers/.venv/bin/python "
                f"benchmarks/peers/statsforecast_partner.py --data {data_name} --model {name}`"
            )
        parts.append(np.asarray(json.loads(path.read_text())["forecasts"]))
    return np.mean(parts, axis=0)


def score(
    data_name: str,
    specs: list[str],
    aggregate: str = "median",
    partner: str | None = None,
    partner_weight: float = 0.5,
    side: list[str] | None = None,
    side_weight: float = 0.0,
) -> dict[str, float]:
    """Metrics of the median (or mean) of the members' forecasts, combined with a statistical
    partner at ``partner_weight`` when one is named, and with the mean of the ``side``
    members (``config:seeds``, not in the median) at ``side_weight``."""
    data = m3.load(data_name)
    runs = [_load(data_name, n, s) for n, s in _members(specs)]
    combine = np.mean if aggregate == "mean" else np.median
    forecasts = combine(np.stack([np.asarray(r["forecasts"]) for r in runs]), axis=0)
    weight = partner_weight if partner is not None else 0.0
    if bool(side) != (side_weight > 0) or weight + side_weight >= 1:
        raise SystemExit(
            f"--side needs a --side-weight in (0, 1 - partner weight {weight}), and the "
            f"weight needs --side; got {side} at {side_weight}."
        )
    parts = [(1 - weight - side_weight) * forecasts]
    if side:
        side_runs = [_load(data_name, n, s) for n, s in _members(side)]
        side_mean = np.mean([np.asarray(r["forecasts"]) for r in side_runs], axis=0)
        parts.append(side_weight * side_mean)
        runs += side_runs
    if partner is not None:
        parts.append(weight * partner_forecasts(data_name, data, partner))
    forecasts = np.sum(parts, axis=0)
    return m3.score(data, forecasts) | {
        "members": len(runs),
        "fit_s": sum(r["fit_s"] for r in runs),
        "fit_cpu_s": sum(r["fit_cpu_s"] for r in runs),
    }


def chosen_weights(data_name: str, specs: list[str], partner: str) -> dict[str, float]:
    """The partner's weight picked on a validation split, scored on the test.

    The members' median is combined with ``partner`` at weights 0, 0.05, ..., 1, for the
    whole horizon and for each step; the weights with the best sMAPE on ``<data>@val`` (the
    members refitted without the last h training points: ``fit --data <data>@val``) are
    scored on the test, against 1/3 and against the best weights on the test itself.
    """
    from forecast.metrics import smape

    grid = np.round(np.linspace(0.0, 1.0, 21), 2)
    per_step = {}  # split -> (weights, steps) sMAPE
    for split in ("val", "test"):
        name = f"{data_name}@val" if split == "val" else data_name
        data = m3.load(name)
        runs = [_load(name, n, s) for n, s in _members(specs)]
        members = np.median(np.stack([np.asarray(r["forecasts"]) for r in runs]), axis=0)
        other = partner_forecasts(name, data, partner)
        per_step[split] = np.stack(
            # each step's sMAPE over the series (columns: steps)
            [
                smape(data.test, (1 - w) * members + w * other, multioutput="raw_values")
                for w in grid
            ]
        )
        if split == "test":
            third = smape(data.test, (2 * members + other) / 3)
    val, test = per_step["val"], per_step["test"]
    pick = int(val.mean(axis=1).argmin())
    steps = val.argmin(axis=0)
    return {
        "weight_picked": float(grid[pick]),
        "test_picked": float(test[pick].mean()),
        "test_third": float(third),
        "test_best": float(test.mean(axis=1).min()),
        "test_picked_per_step": float(test[steps, np.arange(test.shape[1])].mean()),
        "test_best_per_step": float(test.min(axis=0).mean()),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    f = sub.add_parser("fit")
    f.add_argument("--data", required=True)
    f.add_argument("--config", required=True, nargs="+")
    f.add_argument("--seed", default="0", help="seeds: 0 or 0-4 or 0,2")
    f.add_argument("--force", action="store_true", help="refit even when cached")
    f.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    for name in ("score", "table"):
        s = sub.add_parser(name)
        s.add_argument("--data", required=True, help="comma-separated: m3:monthly,m1:monthly")
        s.add_argument("members", nargs="+", help="config:seeds, e.g. default:0-4")
        s.add_argument("--aggregate", choices=("median", "mean"), default="median")
        s.add_argument("--partner", type=partner_name, help="statistical models, e.g. theta+damped")
        s.add_argument("--partner-weight", type=float, default=0.5)
        s.add_argument("--side", nargs="+", help="config:seeds averaged beside the median")
        s.add_argument("--side-weight", type=float, default=0.0)
    w = sub.add_parser("weights", help="the partner's weight picked on a validation split")
    w.add_argument("--data", required=True)
    w.add_argument("members", nargs="+", help="config:seeds, fitted on <data> and <data>@val")
    w.add_argument("--partner", type=partner_name, default="theta+damped")
    args = parser.parse_args(argv)
    if args.command == "weights":
        result = chosen_weights(args.data, args.members, args.partner)
        print(args.data, " ".join(f"{k} {v:.3f}" for k, v in result.items()))
        return
    if args.command == "fit":
        for config in args.config:
            for _, seed in _members([f"x:{args.seed}"]):
                path = _path(args.data, config, seed)
                if args.child:
                    result = fit(args.data, config, seed)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(json.dumps(result))
                    continue
                if path.exists() and not args.force:
                    print(f"{args.data} {config} s{seed}: cached", flush=True)
                    continue
                cmd = [
                    sys.executable,
                    __file__,
                    "fit",
                    "--data",
                    args.data,
                    "--config",
                    config,
                    "--seed",
                    str(seed),
                    "--child",
                ]
                subprocess.run(cmd, check=True, env=dict(os.environ, PYTHONWARNINGS="ignore"))
                r = json.loads(path.read_text())
                m = m3.score(m3.load(args.data), np.asarray(r["forecasts"]))
                print(
                    f"{args.data} {config} s{seed}: sMAPE {m['smape']:.3f} MASE "
                    f"{m['mase']:.4f} MAPE {m['mape']:.3f} fit {r['fit_s']:.0f} s "
                    f"(cpu {r['fit_cpu_s']:.0f} s)",
                    flush=True,
                )
        return
    for data_name in args.data.split(","):
        if args.command == "score":
            r = score(
                data_name,
                args.members,
                args.aggregate,
                args.partner,
                args.partner_weight,
                args.side,
                args.side_weight,
            )
            print(
                f"{data_name} {args.aggregate} of {r['members']}: sMAPE {r['smape']:.3f} MASE "
                f"{r['mase']:.4f} MAPE {r['mape']:.3f} fit {r['fit_s']:.0f} s"
            )
        else:
            rows = [
                score(data_name, [f"{n}:{s}"], "median", args.partner, args.partner_weight)
                for n, s in _members(args.members)
            ]
            keys = ("smape", "mase", "mape", "fit_s")
            print(
                data_name,
                " ".join(
                    f"{k} {statistics.median(r[k] for r in rows):.3f} "
                    f"({min(r[k] for r in rows):.3f}-{max(r[k] for r in rows):.3f})"
                    for k in keys
                ),
            )


if __name__ == "__main__":
    main()
