"""The fitted model is a function of the data set, not of its rows' order (issue 18, case 4).

Series used to be numbered by first appearance, and the numbering decides the order of the
windows' shuffle: the same panel with its rows shuffled trained another model (forecasts
3% apart in median, 44% at worst, on 40 Tourism-like series).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast import NaiveForecaster, RNNForecaster
from forecast.backtest import backtest
from forecast.data.panel import to_panel
from tests.conftest import FAST

LONG = {"id_col": "unique_id", "time_col": "ds"}


def tourism_like(n_series: int = 40, seed: int = 0) -> pd.DataFrame:
    """Monthly series of different levels, trends, lengths and start dates."""
    rng = np.random.default_rng(seed)
    parts = []
    for i in range(n_series):
        n = int(rng.integers(36, 60))
        t = np.arange(n)
        level = rng.uniform(50, 5000)
        y = level * (1 + 0.3 * np.sin(2 * np.pi * t / 12 + rng.uniform(0, 6)) + 0.005 * t)
        start = pd.Timestamp("2000-01-01") + pd.DateOffset(months=int(rng.integers(0, 24)))
        parts.append(
            pd.DataFrame(
                {
                    "unique_id": f"T{i:03d}",
                    "ds": pd.date_range(start, periods=n, freq="MS"),
                    "y": y * rng.lognormal(0, 0.05, n),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _shuffled(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    # Interleaved by date with series in a random order: no time goes backwards within a
    # series, so no "sorted" warning, but first appearances are all different.
    ids = frame["unique_id"].unique()
    rank = dict(zip(np.random.default_rng(seed).permutation(ids), range(len(ids)), strict=True))
    return (
        frame.assign(_r=frame["unique_id"].map(rank)).sort_values(["ds", "_r"]).drop(columns="_r")
    )


@pytest.mark.slow
def test_shuffled_rows_train_the_same_model() -> None:
    frame = tourism_like()
    params = {**FAST, "seq_len": 12, "horizon": 6, "batch_size": 128, **LONG}
    reference = RNNForecaster(**params).fit(frame).predict()
    for seed in (1,):
        again = RNNForecaster(**params).fit(_shuffled(frame, seed)).predict()
        pd.testing.assert_frame_equal(again, reference)  # bitwise: the same training run


def test_series_are_numbered_by_sorted_id_whatever_the_row_order() -> None:
    frame = tourism_like(8)
    reference, _ = to_panel(frame, **LONG)
    for seed in range(3):
        panel, _ = to_panel(_shuffled(frame, seed), **LONG)
        assert panel.ids == sorted(frame["unique_id"].unique())
        np.testing.assert_array_equal(panel.values, reference.values)
        np.testing.assert_array_equal(panel.offsets, reference.offsets)


def test_forecasts_come_in_sorted_id_order() -> None:
    frame = tourism_like(5)
    out = NaiveForecaster(horizon=2, **LONG).fit(_shuffled(frame, 3)).predict()
    assert list(out["unique_id"].unique()) == sorted(frame["unique_id"].unique())


def test_ids_of_mixed_kinds_have_one_order() -> None:
    frame = tourism_like(4)
    frame["unique_id"] = (
        frame["unique_id"].map({"T000": 7, "T001": "b", "T002": 2.5, "T003": "a"}).astype(object)
    )
    orders = set()
    for seed in range(4):
        with pytest.warns(UserWarning, match="rows were sorted by time"):
            panel, _ = to_panel(frame.sample(frac=1.0, random_state=seed), **LONG)
        orders.add(tuple(map(repr, panel.ids)))
    assert orders == {("2.5", "7", "'a'", "'b'")}  # numbers, then strings: by (kind, text)


def test_backtests_of_shuffled_rows_agree() -> None:
    frame = tourism_like(6)
    params = {**FAST, "seq_len": 12, "horizon": 3, "max_epochs": 1, **LONG}
    a = backtest(RNNForecaster(**params), frame, n_windows=2).metrics
    b = backtest(RNNForecaster(**params), _shuffled(frame, 5), n_windows=2).metrics
    pd.testing.assert_frame_equal(a, b)
