"""Ways of combining the network with the statistical models, on the cached networks.

``panel_forecaster`` weighs its network 1/2 and Theta, the damped trend and ETS 1/6 each.
This scores other rules on the same forecasts: each data set's cached ``default`` networks
(``accuracy.py fit --config default``; one per seed, the median of the seeds' scores is
printed, as the top table's rows are medians over seeds) with the library's three local
models refitted here::

    .venv/bin/python benchmarks/partner_rules.py --data m3:other,m3:yearly --seeds 0-2
    .venv/bin/python benchmarks/partner_rules.py --data m3:other --rules mean6,no_theta

``net`` is the network alone, ``n`` in the rules below, ``t``, ``d``, ``e`` Theta, the damped
trend and ETS.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import accuracy
import m3

Rule = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def _middle(parts: list[np.ndarray]) -> np.ndarray:
    """The mean of all but the lowest and the highest, elementwise."""
    return np.sort(np.stack(parts), axis=0)[1:-1].mean(axis=0)


RULES: dict[str, Rule] = {
    "mean6": lambda n, t, d, e: n / 2 + (t + d + e) / 6,  # panel_forecaster
    "net_median3": lambda n, t, d, e: n / 2 + np.median([t, d, e], axis=0) / 2,
    "median4": lambda n, t, d, e: np.median([n, t, d, e], axis=0),
    "median5": lambda n, t, d, e: np.median([n, n, t, d, e], axis=0),  # the network twice
    "mean4": lambda n, t, d, e: (n + t + d + e) / 4,  # also the network at 1/4
    "trimmed5": lambda n, t, d, e: _middle([n, n, t, d, e]),
    "no_theta": lambda n, t, d, e: n / 2 + (d + e) / 4,
    "damped": lambda n, t, d, e: n / 2 + d / 2,
    "ets": lambda n, t, d, e: n / 2 + e / 2,
    "net0.4": lambda n, t, d, e: 0.4 * n + 0.2 * (t + d + e),
    "net0.33": lambda n, t, d, e: n / 3 + 2 * (t + d + e) / 9,
    "stats3": lambda n, t, d, e: (t + d + e) / 3,
    "net": lambda n, t, d, e: n,
    "theta_alone": lambda n, t, d, e: t,
    "damped_alone": lambda n, t, d, e: d,
    "ets_alone": lambda n, t, d, e: e,
}


def rule_scores(data_name: str, seeds: list[int], rules: list[str]) -> dict[str, dict[str, float]]:
    """Each rule's sMAPE, MASE and MAPE, the median over ``seeds``' networks."""
    data = m3.load(data_name)
    local = [
        accuracy.partner_forecasts(data_name, data, name) for name in ("theta", "damped", "ets")
    ]
    networks = [np.asarray(accuracy._load(data_name, "default", s)["forecasts"]) for s in seeds]
    out = {}
    for name in rules:
        scores = [m3.score(data, RULES[name](n, *local)) for n in networks]
        out[name] = {k: float(np.median([s[k] for s in scores])) for k in ("smape", "mase", "mape")}
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="comma-separated: m3:other,m1:yearly")
    parser.add_argument("--seeds", default="0-2", help="the cached default networks: 0-2 or 0,1")
    parser.add_argument("--rules", default=",".join(RULES), help=f"of {', '.join(RULES)}")
    args = parser.parse_args(argv)
    seeds = [s for _, s in accuracy._members([f"default:{args.seeds}"])]
    rules = args.rules.split(",")
    unknown = [r for r in rules if r not in RULES]
    if unknown:
        parser.error(f"unknown rules {unknown}; choose from {', '.join(RULES)}")
    print("| data | rule | sMAPE | MASE | MAPE |\n|---|---|---|---|---|")
    for data_name in args.data.split(","):
        for name, s in rule_scores(data_name, seeds, rules).items():
            print(
                f"| {data_name} | {name} | {s['smape']:.3f} | {s['mase']:.3f} | {s['mape']:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
