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

_ORIGINAL = otheta._cross_products
C0 = 0.5
PARTNER = "otheta+damped+ets"  # panel_forecaster's without a season, at weight 1/2


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
        for kappa in (float(v) for v in argv[1].split(",")):
            # accuracy.partner_forecasts calls the patched model, alone and in the partner.
            otheta._cross_products = ridge(kappa)
            alone = m3.score(data, accuracy.partner_forecasts(name, data, "otheta"))
            panel = [
                accuracy.score(name, [f"default:{seed}"], partner=PARTNER, partner_weight=0.5)
                for seed in range(5)
            ]
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
