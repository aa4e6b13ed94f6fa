"""Writes the model files of ``tests/data/format1/``: models saved by the previous layout.

Run once with forecast at commit db125d2 (the last commit of the flat layout, model file
format version 1), from a checkout of that commit::

    python tests/data/format1/make_files.py tests/data/format1

It fits small models on data made here (no download), saves each as
``<name>.safetensors`` and writes what each predicted, from the end of its training data
and from a newer frame, to ``<name>.predict.csv`` and ``<name>.predict_df.csv``.
``tests/test_persistence_compat.py`` loads the files with today's code and checks that the
forecasts are the same, bit for bit.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd


def long_frame() -> pd.DataFrame:
    """Three monthly series of different lengths, with a past, a known-future and a static
    covariate."""
    rng = np.random.default_rng(0)
    parts = []
    for k, (sid, start, n) in enumerate(
        (("a", "2000-01-01", 60), ("b", "2001-06-01", 48), ("c", "2002-03-01", 40))
    ):
        t = np.arange(n)
        ds = pd.date_range(start, periods=n, freq="MS")
        y = (k + 1) * 10 + np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.1, n)
        parts.append(
            pd.DataFrame(
                {
                    "unique_id": sid,
                    "ds": ds,
                    "y": y,
                    "x": rng.normal(size=n),
                    "month": ds.month.astype(float),
                    "size": float(k + 1),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def wide_frame() -> pd.DataFrame:
    t = np.arange(150)
    index = pd.date_range("2020-01-01", periods=150, freq="D", name="date")
    return pd.DataFrame(
        {"y": np.sin(2 * np.pi * t / 20) + 0.01 * t, "x": np.cos(2 * np.pi * t / 20)}, index=index
    )


def main(out: Path) -> None:
    from forecast import (
        DriftForecaster,
        EnsembleForecaster,
        GRUForecaster,
        LSTMForecaster,
        NaiveForecaster,
        RNNForecaster,
        SeasonalNaiveForecaster,
    )

    small = {
        "hidden_size": 4,
        "max_epochs": 2,
        "batch_size": 32,
        "progress_bar": False,
        "random_state": 0,
    }
    long = {"id_col": "unique_id", "time_col": "ds"}
    lf, wf = long_frame(), wide_frame()
    future = lf.groupby("unique_id").tail(3)  # the last 3 months serve as "future" values
    cases = {
        "rnn_wide_quantiles": (
            RNNForecaster(seq_len=10, horizon=3, quantiles=[0.1, 0.9], **small),
            wf,
            {},
        ),
        "lstm_long_covariates_conformal": (
            LSTMForecaster(
                seq_len=6,
                horizon=3,
                target="y",
                future_covariates="month",
                static_covariates="size",
                intervals="conformal",
                coverage=0.8,
                calibration_windows=5,
                validation_size=0,
                **long,
                **small,
            ),
            lf,
            {"future_covariates": future},
        ),
        "naive_conformal": (
            NaiveForecaster(horizon=4, intervals="conformal", coverage=0.8, calibration_windows=10),
            wf,
            {},
        ),
        "seasonal_naive_long": (
            SeasonalNaiveForecaster(season_length=12, horizon=4, target="y", **long),
            lf,
            {},
        ),
        "drift_wide": (DriftForecaster(horizon=2), wf, {}),
        "ensemble_gru": (
            EnsembleForecaster(GRUForecaster(seq_len=10, horizon=2, **small), n_members=2),
            wf,
            {},
        ),
    }
    for name, (model, frame, kwargs) in cases.items():
        if "future_covariates" in kwargs:
            history = frame.drop(kwargs["future_covariates"].index)
        else:
            history = frame
        model.fit(history)
        model.save(out / f"{name}.safetensors")
        model.predict(**kwargs).to_csv(out / f"{name}.predict.csv")
        model.predict(history, **kwargs).to_csv(out / f"{name}.predict_df.csv")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
