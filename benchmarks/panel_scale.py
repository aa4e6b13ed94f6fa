"""Scale of the panel path: predict 10,000 series at once, and peak memory of ``fit``.

Run: ``.venv/bin/python benchmarks/panel_scale.py`` (about 2 minutes on 2 CPU cores).

1. **Predict 10,000 series.** An LSTM (seq_len 36, horizon 18, 64 units) is fitted briefly on
   a 10,000-series monthly panel, then ``predict()`` (from the stored last windows) and
   ``predict(df)`` (validating and windowing a 1.2M-row frame first) are timed; medians of
   3 runs. For scale, the same forward passes done one series at a time (the loop a
   per-series API makes) are timed on 500 series and extrapolated.
2. **Peak memory of fit.** A 1,000 x 5,000-step panel (5M rows; float32 data = 20 MB) is
   fitted for 50 optimiser steps in a fresh process, after a first fit on 10 of its series
   (which pays the fixed cost of Lightning's lazy imports and torch's allocator, reported
   too). The peak resident memory during the big ``fit`` above the resident memory just
   before it is reported as a multiple of the float32 data size, next to what
   materialising every window would take.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time

import numpy as np
import pandas as pd

SEQ_LEN, HORIZON = 36, 18
MEMORY_SERIES, MEMORY_LENGTH = 1000, 5000


def monthly_panel(n_series: int, length: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    level = rng.uniform(50, 150, size=(n_series, 1))
    season = rng.uniform(1, 10, size=(n_series, 1)) * np.sin(2 * np.pi * t / 12)
    y = level + season + rng.standard_normal((n_series, length)).cumsum(axis=1)
    return pd.DataFrame(
        {
            "unique_id": np.repeat(np.arange(n_series), length),
            "ds": np.tile(pd.date_range("2000-01-01", periods=length, freq="MS"), n_series),
            "y": y.reshape(-1),
        }
    )


def memory_case() -> tuple[pd.DataFrame, object]:
    """The 1,000 x 5,000 panel and the (unfitted) LSTM whose ``fit`` memory is measured.

    Daily stamps: 5,000 months overflow pandas' dates. 50 optimiser steps of batch 256.
    Shared by the memory child below and ``memory_phases.py``.
    """
    from forecast import LSTMForecaster

    df = monthly_panel(MEMORY_SERIES, MEMORY_LENGTH)
    steps = np.tile(np.arange(MEMORY_LENGTH), MEMORY_SERIES)
    df["ds"] = steps * np.timedelta64(1, "D") + np.datetime64("2000-01-01")
    model = LSTMForecaster(
        seq_len=SEQ_LEN,
        horizon=HORIZON,
        id_col="unique_id",
        time_col="ds",
        target="y",
        freq="D",
        max_epochs=1,
        batch_size=256,
        progress_bar=False,
        random_state=0,
        trainer_kwargs={"max_steps": 50},
    )
    return df, model


def predict_many(n_series: int = 10_000, length: int = 120) -> dict[str, float]:
    import torch

    from forecast import LSTMForecaster

    torch.set_num_threads(2)
    df = monthly_panel(n_series, length)
    model = LSTMForecaster(
        seq_len=SEQ_LEN,
        horizon=HORIZON,
        id_col="unique_id",
        time_col="ds",
        target="y",
        max_epochs=1,
        batch_size=1024,
        progress_bar=False,
        random_state=0,
        trainer_kwargs={"max_steps": 20},
    ).fit(df)

    def median_time(fn, repeats: int = 3) -> float:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    out = {
        "series": n_series,
        "rows": len(df),
        "predict_s": median_time(model.predict),
        "predict_df_s": median_time(lambda: model.predict(df)),
    }
    assert len(model.predict()) == n_series * HORIZON

    # The per-series loop, for comparison: one forward pass per series.
    windows, series = model.last_window_[:500], np.arange(500)
    runner = model._runner()
    start = time.perf_counter()
    for i in range(500):
        runner.windows(windows[i : i + 1], series[i : i + 1])
    out["loop_per_series_ms"] = (time.perf_counter() - start) / 500 * 1000
    out["loop_extrapolated_s"] = out["loop_per_series_ms"] * n_series / 1000
    return out


_MEMORY_CHILD = """
import json, sys
import numpy as np
import torch
sys.path.insert(0, "benchmarks")
from panel_scale import memory_case, SEQ_LEN, HORIZON, MEMORY_SERIES, MEMORY_LENGTH
from peak_memory import reset_peak, status_mb
from sklearn.base import clone

def rss(field):  # bytes
    return status_mb(field) * 2**20
torch.set_num_threads(2)
n_series, length = MEMORY_SERIES, MEMORY_LENGTH
df, model = memory_case()
# A first fit on a small panel loads Lightning's lazily imported modules and torch's
# allocator pools: a fixed cost, reported apart from the cost that grows with the data.
small = df[df["unique_id"] < 10]
reset_peak()  # the peak (VmHWM) := the current RSS
before_small = rss("VmRSS")
clone(model).fit(small)
fixed = rss("VmHWM") - before_small
reset_peak()
before = rss("VmRSS")
model.fit(df)
peak = rss("VmHWM")
data_bytes = n_series * length * 4
n_windows = n_series * (length - SEQ_LEN - HORIZON + 1)
print(json.dumps({"rows": len(df), "float32_data_mb": data_bytes / 2**20,
                  "frame_mb": df.memory_usage(deep=True).sum() / 2**20,
                  "first_small_fit_peak_mb": fixed / 2**20,
                  "fit_peak_above_start_mb": (peak - before) / 2**20,
                  "ratio_to_float32_data": (peak - before) / data_bytes,
                  "all_windows_materialised_mb": n_windows * (SEQ_LEN + HORIZON) * 4 / 2**20}))
"""


def fit_memory() -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, "-c", _MEMORY_CHILD], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    print("predict:", json.dumps(predict_many(), indent=1))
    print("fit memory:", json.dumps(fit_memory(), indent=1))
