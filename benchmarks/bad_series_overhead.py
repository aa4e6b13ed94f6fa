"""What per-series isolation costs at predict: 2,000 daily series, with and without it.

``predict(df)`` against ``predict(df, on_bad_series="skip", max_staleness=1)`` on a clean
panel (the checks' cost when nothing is bad) and on one with 20 bad series (NaN, a gap,
stale, unseen: the bisection's cost). Median of 5 runs each, in one process.

    python benchmarks/bad_series_overhead.py
"""

from __future__ import annotations

import statistics
import time
import warnings

import numpy as np
import pandas as pd

from forecast import RNNForecaster


def panel(n_series: int = 2000, n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "unique_id": np.repeat([f"s{i:04d}" for i in range(n_series)], n),
            "ds": np.tile(pd.date_range("2024-01-01", periods=n, freq="D"), n_series),
            "y": 100 + rng.normal(size=n_series * n).cumsum(),
        }
    )


def timed(call) -> float:
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        call()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    df = panel()
    model = RNNForecaster(seq_len=14, horizon=7, hidden_size=16, max_epochs=1, random_state=0,
                          progress_bar=False, validation_size=0).fit(df)  # fmt: skip
    bad = df.copy()
    ids = [f"s{i:04d}" for i in range(0, 2000, 100)]  # 20 series
    for k, sid in enumerate(ids):
        rows = np.flatnonzero(bad.unique_id.to_numpy() == sid)
        if k % 3 == 0:
            bad.loc[rows[-5], "y"] = np.nan
        elif k % 3 == 1:
            bad = bad.drop(index=rows[-10])
        else:
            bad = bad.drop(index=rows[-3:])
    clean_plain = timed(lambda: model.predict(df))
    clean_iso = timed(lambda: model.predict(df, on_bad_series="skip", max_staleness=1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bad_iso = timed(lambda: model.predict(bad, on_bad_series="skip", max_staleness=1))
    print("2000 series x 60 days; median of 5 runs")
    print(f"predict(df), clean:                     {clean_plain:.3f} s")
    print(f"predict(df, on_bad_series='skip'), clean: {clean_iso:.3f} s")
    print(f"  the same, 20 bad series:               {bad_iso:.3f} s")


if __name__ == "__main__":
    main()
