"""NeuralForecast's LSTM on one M3 frequency, run by ``benchmarks/run.py`` in the peers' venv.

Protocol of ``run.py``'s children: ``--child '{"freq": ..., "seed": ..., "smoke": ...}'``
prints one JSON line with the forecasts (S, h) in ``m3.load``'s order, fit and predict
seconds and the peak RSS. Settings: NeuralForecast's defaults except the input length
``max(3 * season, 2 * h)`` (36 months; ours is now two seasons, see
``forecast.presets.panel_params``), 2 layers of 128 units, 1000 steps (the configuration of
the issue's reference numbers), start padding for short series.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import m3
from run import peak_rss_mb


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", required=True)
    spec = json.loads(parser.parse_args().child)
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    import torch
    from neuralforecast import NeuralForecast
    from neuralforecast.models import LSTM

    torch.set_num_threads(2)
    data = m3.load(spec["freq"], n_series=12 if spec["smoke"] else None)
    model = LSTM(
        h=data.horizon,
        input_size=max(3 * data.season, 2 * data.horizon),
        encoder_n_layers=2,
        encoder_hidden_size=128,
        max_steps=5 if spec["smoke"] else 1000,
        random_seed=spec["seed"],
        start_padding_enabled=True,
        enable_progress_bar=False,
        enable_model_summary=False,
        logger=False,
    )
    nf = NeuralForecast(models=[model], freq=data.freq)
    start = time.perf_counter()
    nf.fit(df=data.train)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    frame = nf.predict()
    predict_s = time.perf_counter() - start
    if "unique_id" not in frame.columns:
        frame = frame.reset_index()
    forecasts = m3.to_matrix(frame, data, "LSTM")
    print(
        json.dumps(
            {
                "forecasts": forecasts.tolist(),
                "fit_s": fit_s,
                "predict_s": predict_s,
                "peak_rss_mb": peak_rss_mb(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
