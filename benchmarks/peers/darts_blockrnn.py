"""Darts' BlockRNNModel (LSTM) on one M3 frequency, run by ``benchmarks/run.py`` in the peers' venv.

Protocol of ``run.py``'s children (as ``nf_lstm.py``): ``--child '{"freq": ..., "seed": ...,
"smoke": ...}'`` prints one JSON line with the forecasts (S, h) in ``m3.load``'s order, fit
and predict seconds, the peak RSS and a ``note`` on the short series (also on stderr).

Settings, those of ``nf_lstm.py`` where Darts has them: ``BlockRNNModel(model="LSTM")``,
``input_chunk_length = max(3 * season, 2 * h)``, ``output_chunk_length = h`` (one shot, no
autoregression), 2 layers of 128 units, 1000 optimiser steps (Darts trains by epochs:
``pl_trainer_kwargs={"max_steps": 1000}`` with ``n_epochs`` = the steps, so that the step
budget always binds first), ``random_state`` = the seed, no progress bar, no model summary,
no logger and no checkpoints (Darts' defaults), 2 torch threads. Darts' defaults otherwise:
batches of 32 windows, Adam at lr 1e-3, MSE loss, no dropout, no hidden fully connected
layers. One global model over the list of the frequency's series, given as float32
``TimeSeries`` (a Darts model takes the dtype of its series; float32 as ours and
NeuralForecast's). Smoke: 12 series, 5 steps.

Scaling: Darts does not scale inside its models. Each series is scaled by Darts' own
``Scaler`` (sklearn's ``MinMaxScaler``, one per series: ``global_fit=False``), fitted on the
training parts only (the only part this child sees), and the forecasts are
inverse-transformed by the same scalers; both count in the fit and predict seconds.

Short series: Darts does not skip series too short for one training window
(``input_chunk_length + output_chunk_length`` points): ``fit`` raises ``ValueError`` ("too
short to extract even a single example") as soon as a list holds one, and ``predict`` raises
for a series shorter than ``input_chunk_length``. So the series too short for a training
window are left out of training (as ``drop_short`` does for ours) and forecast from their own
history like the others; with this input length that is 320 of 1428 series monthly, 52 of
756 quarterly, 313 of 645 yearly and 0 of 174 other. A series shorter than
``input_chunk_length`` (none in M3 with this rule) would be padded at its start with its
first value (NeuralForecast's start padding pads with zeros). The counts are printed to
stderr and returned as ``note``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

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
    from darts import TimeSeries
    from darts.dataprocessing.transformers import Scaler
    from darts.models import BlockRNNModel

    torch.set_num_threads(2)
    data = m3.load(spec["freq"], n_series=12 if spec["smoke"] else None)
    input_length = max(3 * data.season, 2 * data.horizon)
    steps = 5 if spec["smoke"] else 1000
    groups = {k: g for k, g in data.train.groupby("unique_id", sort=False)}
    series = [
        TimeSeries.from_times_and_values(
            times=pd.DatetimeIndex(groups[k]["ds"]),
            values=groups[k]["y"].to_numpy(np.float32),
            freq=data.freq,
        )
        for k in data.ids
    ]
    model = BlockRNNModel(
        input_chunk_length=input_length,
        output_chunk_length=data.horizon,
        model="LSTM",
        hidden_dim=128,
        n_rnn_layers=2,
        n_epochs=steps,  # an epoch has at least one step: max_steps stops the training
        random_state=spec["seed"],
        pl_trainer_kwargs={
            "max_steps": steps,
            "accelerator": "cpu",
            "enable_progress_bar": False,
            "enable_model_summary": False,
        },
    )
    trainable = [i for i, s in enumerate(series) if len(s) >= input_length + data.horizon]
    padded = [i for i, s in enumerate(series) if len(s) < input_length]
    note = (
        f"darts_blockrnn {spec['freq']}: {len(series) - len(trainable)} of {len(series)} series "
        f"shorter than {input_length + data.horizon} left out of training; {len(padded)} "
        f"shorter than {input_length} padded at the start with their first value for predict"
    )
    print(note, file=sys.stderr, flush=True)

    start = time.perf_counter()
    scaler = Scaler()  # MinMaxScaler, fitted per series
    scaled = scaler.fit_transform(series)
    model.fit([scaled[i] for i in trainable])
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    inputs = [
        s.prepend_values(np.full(input_length - len(s), s.values()[0, 0]))
        if len(s) < input_length
        else s
        for s in scaled
    ]
    predicted = scaler.inverse_transform(model.predict(n=data.horizon, series=inputs))
    predict_s = time.perf_counter() - start
    forecasts = np.stack([p.values()[: data.horizon, 0] for p in predicted])
    print(
        json.dumps(
            {
                "forecasts": forecasts.astype(np.float64).tolist(),
                "fit_s": fit_s,
                "predict_s": predict_s,
                "peak_rss_mb": peak_rss_mb(),
                "note": note,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
