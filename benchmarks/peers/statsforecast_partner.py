"""statsforecast's AutoETS as a statistical partner, for ``benchmarks/accuracy.py``'s combinations.

Run in the peers' venv (``benchmarks/peers/setup.sh``; statsforecast is not a dependency of
forecast: it pins ``pandas < 3``). Writes the ``(S, h)`` forecasts of one data set, from each
series' training part, to ``benchmarks/.cache/accuracy/<data>/partner_<model>.json``, where
``accuracy.py score --partner theta+damped+sf_ets`` reads them::

    benchmarks/peers/.venv/bin/python benchmarks/peers/statsforecast_partner.py \
        --data m3:monthly --model sf_ets

Models: ``sf_ets``, ``AutoETS(season_length=m)`` on the series as they are (its own season
in its states); ``sf_ets_zzn``, ``AutoETS(season_length=1)`` (error and trend chosen by
AICc, no season) on the series divided by their classical multiplicative seasonal indices
(``accuracy.deseasonalised``, what the library's local models take off), put back on the
forecasts. It is the check of how much of AutoETS's gain as a partner comes from choosing
the error and trend, which :class:`forecast.ETSForecaster` also does.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))

import m3  # noqa: E402
from accuracy import CACHE, deseasonalised, reseasonalise  # noqa: E402

# name -> (statsforecast model class, on the de-seasonalised series?)
SPECS = {
    "sf_ets": ("AutoETS", False),
    "sf_ets_zzn": ("AutoETS", True),
    "sf_ces_zzn": ("AutoCES", True),
    "sf_arima_zzn": ("AutoARIMA", True),
    "sf_dotm_zzn": ("DynamicOptimizedTheta", True),
}
MODELS = tuple(SPECS)


def forecasts(data: m3.M3Subset, model: str) -> np.ndarray:
    """``(S, h)`` forecasts of ``model`` in ``m3.load``'s series order."""
    from statsforecast import StatsForecast, models

    kind, adjusted = SPECS[model]
    train, factors = data.train, None
    if adjusted:
        train, factors = deseasonalised(data)
    season = 1 if adjusted else data.season
    engine = StatsForecast(
        models=[getattr(models, kind)(season_length=season)], freq=data.freq, n_jobs=1
    )
    frame = engine.forecast(df=train, h=data.horizon)
    frame = frame.reset_index() if "unique_id" not in frame.columns else frame
    column = next(c for c in frame.columns if c not in ("unique_id", "ds"))
    result = m3.to_matrix(frame.rename(columns={column: "y"}), data, "y")
    if factors is not None:
        reseasonalise(result, data, factors)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="m3:monthly, m1:yearly, tourism:...")
    parser.add_argument("--model", choices=MODELS, default="sf_ets")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    data = m3.load(args.data)
    start = time.perf_counter()
    result = forecasts(data, args.model)
    seconds = time.perf_counter() - start
    path = CACHE / args.data.replace(":", "_") / f"partner_{args.model}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"data": args.data, "model": args.model, "fit_s": seconds,
                                "forecasts": result.tolist()}))  # fmt: skip
    print(f"{args.data} {args.model}: {seconds:.1f} s -> {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
