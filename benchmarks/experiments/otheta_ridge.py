"""Experiment (issue 22, RESULTS update 9): the optimised Theta with ``c = 1 - 1/theta`` pulled
toward 0.5 (the classical ``theta = 2``), measured alone and as ``panel_forecaster`` combines
it without a season, on the cached ``default`` networks (``accuracy.py fit --data D --config
default --seed 0-4``). Not adopted: the library's model is unchanged.

The pull is a ridge term ``lam · (c - c0)^2`` added to each series' sum of squared one-step
errors, ``lam = kappa · dd / n`` (``dd / n``: the trend term's mean square over the ``n``
errors; ``kappa`` counts pseudo-errors). It enters the six sums the model solves exactly::

    .venv/bin/python benchmarks/experiments/otheta_ridge.py m3:yearly,m1:yearly 0,0.5,1,2
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import accuracy
import m3

import forecast.forecasters.optimised_theta as otheta
from forecast.forecasters.damped import damped_trend_forecasts
from forecast.forecasters.ets import ets_forecasts

_ORIGINAL = otheta._cross_products
C0 = 0.5


def ridge(kappa: float) -> Any:
    """``_cross_products`` with the ridge term of strength ``kappa`` in its sums."""

    def cross_products(x, seen, lines, alphas):  # type: ignore[no-untyped-def]
        sums, level = _ORIGINAL(x, seen, lines, alphas)
        if kappa > 0:
            n = np.maximum(seen.sum(axis=1) - otheta._FIRST_ERROR, 1)[:, None]
            lam = kappa * sums["dd"] / n
            sums = dict(sums)
            sums["dd"] = sums["dd"] + lam
            sums["rd"] = sums["rd"] + lam * C0
            sums["rr"] = sums["rr"] + lam * C0**2
        return sums, level

    return cross_products


def main(argv: list[str]) -> None:
    for name in argv[0].split(","):
        data = m3.load(name)
        x, seen = accuracy.padded(data)
        damped = damped_trend_forecasts(x, seen, data.horizon, data.season)[0]
        ets = ets_forecasts(x, seen, data.horizon, data.season)[0]
        nets = [np.asarray(accuracy._load(name, "default", s)["forecasts"]) for s in range(5)]
        for kappa in (float(v) for v in argv[1].split(",")):
            otheta._cross_products = ridge(kappa)
            o = otheta.optimised_theta_forecasts(x, seen, data.horizon, data.season)[0]
            alone = m3.score(data, o)
            panel = [m3.score(data, n / 2 + (o + damped + ets) / 6) for n in nets]
            med = {k: float(np.median([p[k] for p in panel])) for k in ("smape", "mase", "mape")}
            print(
                f"{name:16s} kappa={kappa:<5} alone {alone['smape']:.3f} / {alone['mase']:.4f} / "
                f"{alone['mape']:.3f}  panel (median of 5 seeds) {med['smape']:.3f} / "
                f"{med['mase']:.4f} / {med['mape']:.3f}",
                flush=True,
            )
    otheta._cross_products = _ORIGINAL


if __name__ == "__main__":
    main(sys.argv[1:])
