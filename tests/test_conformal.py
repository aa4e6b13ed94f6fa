"""Conformal intervals: the definition, no leakage, baselines, panels, backtests, errors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import FAST, make_long_frame, make_sine_frame
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from forecast import (
    DataError,
    DriftForecaster,
    EnsembleForecaster,
    GRUForecaster,
    InvalidParameterError,
    LSTMForecaster,
    NaiveForecaster,
    RNNForecaster,
    SeasonalNaiveForecaster,
)
from forecast.data.panel import to_panel
from forecast.evaluation.backtest import _forecast_windows_quantiles, backtest
from forecast.evaluation.conformal import coverage_levels
from forecast.evaluation.folds import make_folds
from forecast.metrics import coverage, interval_width, pinball_loss, winkler_score

LONG = {"id_col": "unique_id", "time_col": "ds"}
SMALL = {"seq_len": 8, "validation_size": 0, **FAST}


def random_walk(n: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    index = pd.date_range("2021-01-01", periods=n, freq="D", name="day")
    return pd.DataFrame({"y": 50 + np.cumsum(rng.standard_normal(n))}, index=index)


# ---------------------------------------------------------------------------- the definition


def test_naive_intervals_follow_the_split_conformal_definition():
    df, horizon, windows, levels = random_walk(), 2, 30, [0.5, 0.8]
    model = NaiveForecaster(
        horizon=horizon, intervals="conformal", coverage=levels, calibration_windows=windows
    ).fit(df)
    y = df["y"].to_numpy()
    n, tail = len(y), windows + horizon - 1

    def scale(history: np.ndarray) -> float:  # mean absolute one-step change
        return float(np.mean(np.abs(np.diff(history))))

    scores = np.empty((windows, horizon))
    for i, end in enumerate(range(n - tail, n - tail + windows)):  # origins, one step apart
        for h in range(horizon):  # the naive forecast of y[end + h] is y[end - 1]
            scores[i, h] = abs(y[end + h] - y[end - 1]) / scale(y[:end])
    expected = np.empty((horizon, len(levels)))
    for h in range(horizon):
        for j, c in enumerate(levels):
            expected[h, j] = np.sort(scores[:, h])[math.ceil((windows + 1) * c) - 1]
    np.testing.assert_allclose(model.conformal_quantiles_[:, 0, :], expected, rtol=1e-12)
    assert model.n_calibration_ == windows

    fc = model.predict()
    assert list(fc.columns) == ["y", "y_q0.1", "y_q0.25", "y_q0.75", "y_q0.9"]
    half = expected * scale(y)  # (H, C) around the last value
    np.testing.assert_allclose(fc["y_q0.9"] - fc["y"], half[:, 1], rtol=1e-12)
    np.testing.assert_allclose(fc["y"] - fc["y_q0.25"], half[:, 0], rtol=1e-12)


def test_coverage_levels_and_default_columns():
    assert coverage_levels([0.8, 0.95]) == [0.025, 0.1, 0.9, 0.975]
    assert coverage_levels(0.5) == [0.25, 0.75]
    fc = NaiveForecaster(horizon=2, intervals="conformal").fit(random_walk()).predict()
    assert list(fc.columns) == ["y", "y_q0.025", "y_q0.1", "y_q0.9", "y_q0.975"]
    assert np.all(np.diff(fc.to_numpy()[:, [1, 2, 0, 3, 4]], axis=1) >= 0)


# ---------------------------------------------------------------------------- no leakage


def test_the_calibration_model_never_sees_the_calibration_targets(monkeypatch):
    df = make_sine_frame(120)
    seen = []  # the data each fit trained on: (last timestamp, values)
    fit = RNNForecaster._fit

    def spy(self, panel, layout):
        seen.append((panel.times[-1], panel.values.copy()))
        return fit(self, panel, layout)

    def values(frame):  # target first, then the past covariate, as the network reads them
        return frame[["y", "x"]].to_numpy(np.float32)

    monkeypatch.setattr(RNNForecaster, "_fit", spy)
    model = RNNForecaster(
        horizon=3, target="y", intervals="conformal", calibration_windows=25, **SMALL
    ).fit(df)
    tail = 25 + 3 - 1
    assert len(seen) == 2
    assert seen[0][0] == df.index[-tail - 1]  # before the first calibration target
    np.testing.assert_array_equal(seen[0][1], values(df.iloc[:-tail]))
    assert seen[1][0] == df.index[-1]  # the final model is refitted on everything
    np.testing.assert_array_equal(seen[1][1], values(df))
    assert model.n_calibration_ == 25

    # Poisoning the calibration tail changes the residuals, never the calibration model.
    poisoned = df.copy()
    poisoned.iloc[-tail:, 0] += 100.0
    seen.clear()
    clone(model).fit(poisoned)
    np.testing.assert_array_equal(seen[0][1], values(df.iloc[:-tail]))


@pytest.mark.parametrize("refit", [True, False])
def test_values_after_a_backtest_cutoff_change_no_interval_at_it(refit):
    df = random_walk(150)
    model = SeasonalNaiveForecaster(
        season_length=7, horizon=3, intervals="conformal", calibration_windows=40
    )
    clean = backtest(model, df, n_windows=2, refit=refit)
    cutoff = clean.metrics.loc[clean.metrics["window"] == 0, "cutoff"].iloc[0]
    poisoned = df.copy()
    poisoned.loc[poisoned.index > cutoff, "y"] = 1e6
    res = backtest(model, poisoned, n_windows=2, refit=refit)
    columns = ["forecast", "forecast_q0.025", "forecast_q0.1", "forecast_q0.9", "forecast_q0.975"]
    first = res.forecasts["window"] == 0
    pd.testing.assert_frame_equal(
        res.forecasts.loc[first, columns], clean.forecasts.loc[first, columns], check_exact=True
    )
    later = res.forecasts["window"] == 1  # reads the poison: the test can see a leak
    assert not np.allclose(
        res.forecasts.loc[later, "forecast_q0.9"], clean.forecasts.loc[later, "forecast_q0.9"]
    )


# ---------------------------------------------------------------------------- estimators


@pytest.mark.parametrize(
    "make",
    [
        lambda **kw: NaiveForecaster(**kw),
        lambda **kw: SeasonalNaiveForecaster(season_length=12, **kw),
        lambda **kw: DriftForecaster(**kw),
        lambda **kw: GRUForecaster(**SMALL, **kw),
    ],
    ids=["naive", "seasonal", "drift", "gru"],
)
def test_panel_intervals_pool_scores_and_scale_per_series(make):
    frame = make_long_frame()
    frame.loc[frame["unique_id"] == "b", "y"] *= 100  # one series on another scale
    model = make(
        horizon=3, intervals="conformal", coverage=0.8, calibration_windows=10, **LONG
    ).fit(frame)
    fc = model.predict()
    assert list(fc.columns) == ["unique_id", "ds", "y", "y_q0.1", "y_q0.9"]
    assert model.n_calibration_ == 3 * 10  # pooled over the series
    assert (fc["y_q0.1"] <= fc["y"]).all()
    assert (fc["y"] <= fc["y_q0.9"]).all()
    width = (fc["y_q0.9"] - fc["y_q0.1"]).to_numpy().reshape(3, 3)  # (S, H)
    ratio = width / model.conformal_scale_[:, 0][:, None]
    np.testing.assert_allclose(ratio, ratio[:1].repeat(3, axis=0), rtol=1e-9)  # one width
    assert width[1].mean() > 20 * width[0].mean()  # in each series' own units

    recent = frame.groupby("unique_id").tail(30)
    again = model.predict(recent)
    assert list(again.columns) == list(fc.columns)
    assert (again["y_q0.1"] <= again["y_q0.9"]).all()


@pytest.mark.parametrize(
    "make",
    [
        LSTMForecaster,
        GRUForecaster,
        lambda **kw: EnsembleForecaster(LSTMForecaster(**kw), n_members=2),
    ],
    ids=["lstm", "gru", "ensemble"],
)
@pytest.mark.filterwarnings("ignore:Column 'y' of series 'level' moves by steps:UserWarning")
def test_a_recurrent_models_bounds_from_the_fitted_frame_equal_its_own(make):
    # The networks hold data in float32, where 1e8 + 0.01 sin t is a constant: the bounds'
    # scale (the mean one-step change) must still come from the data as given, or
    # predict(df) bounds ~100 times wider than predict() on the very frame fitted on.
    t = np.arange(60)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat(["level", "sine"], 60),
            "ds": np.tile(pd.date_range("2020-01-01", periods=60, freq="D"), 2),
            "y": np.concatenate(
                [
                    1e8 + 0.01 * np.sin(t) + 0.001 * rng.standard_normal(60),
                    50 + 5 * np.sin(t) + rng.standard_normal(60),
                ]
            ),
        }
    )
    model = make(
        horizon=2, intervals="conformal", coverage=0.8, calibration_windows=10, **SMALL, **LONG
    )
    with pytest.warns(UserWarning, match="series 'level' moves by steps that float32"):
        model.fit(frame)  # said, as the network reads that copy
    own, given = model.predict(), model.predict(frame)
    width = (given["y_q0.9"] - given["y_q0.1"]).to_numpy().reshape(2, 2)
    assert width[0].max() < 1.0 < width[1].min()  # each series' own units
    pd.testing.assert_frame_equal(given, own, check_exact=True)
    shuffled = frame.sample(frac=1.0, random_state=1)  # no row order changes it either
    with pytest.warns(UserWarning, match="not in increasing order"):
        again = model.predict(shuffled)
    pd.testing.assert_frame_equal(again, own, check_exact=True)


def test_refitting_recalibrates_and_point_models_have_no_quantile_state():
    model = NaiveForecaster(horizon=2, intervals="conformal", coverage=0.8).fit(random_walk())
    model.set_params(intervals=None, coverage=None).fit(random_walk())
    assert not hasattr(model, "conformal_quantiles_")
    assert model.quantile_levels_ == []
    assert list(model.predict().columns) == ["y"]


@pytest.mark.parametrize(
    ("params", "error", "message"),
    [
        ({"intervals": "bootstrap"}, InvalidParameterError, r"'intervals' parameter of Naive"),
        ({"coverage": 0.9}, InvalidParameterError, r"'coverage'.*only applies to intervals="),
        (
            {"intervals": "conformal", "coverage": [0.95, 0.8]},
            InvalidParameterError,
            r"'coverage' parameter of NaiveForecaster must be a sorted list",
        ),
        (
            {"intervals": "conformal", "coverage": 1.0},
            InvalidParameterError,
            r"'coverage'.*or one such float. Got 1.0 instead",
        ),
        (
            {"intervals": "conformal", "calibration_windows": 0},
            InvalidParameterError,
            r"'calibration_windows' parameter of NaiveForecaster must be an int >= 1",
        ),
        (
            {"intervals": "conformal", "coverage": 0.99},
            DataError,
            r"0.99 conformal interval needs at least 99 calibration forecasts.*there are 20",
        ),
        (
            {"intervals": "conformal", "calibration_windows": 200},
            DataError,
            r"series has 120 row\(s\).*calibration_windows \+ horizon - 1 = 201",
        ),
    ],
)
def test_parameter_errors(params, error, message):
    with pytest.raises(error, match=message):
        NaiveForecaster(horizon=2, **params).fit(random_walk())


def test_quantiles_and_conformal_do_not_combine():
    with pytest.raises(InvalidParameterError, match="cannot be combined with 'quantiles'"):
        LSTMForecaster(quantiles=[0.1, 0.9], intervals="conformal", **SMALL).fit(random_walk())


def test_a_too_short_calibration_model_says_so():
    with pytest.raises(DataError, match="conformal calibration model"):
        RNNForecaster(
            seq_len=60,
            horizon=2,
            intervals="conformal",
            calibration_windows=60,
            validation_size=0,
            max_epochs=1,
            progress_bar=False,
        ).fit(random_walk())


# ---------------------------------------------------------------------------- backtests


def test_backtest_reports_interval_metrics_from_the_definitions():
    df = random_walk(200)
    res = backtest(
        NaiveForecaster(horizon=4, intervals="conformal", calibration_windows=40), df, n_windows=3
    )
    quantile_columns = ["forecast_q0.025", "forecast_q0.1", "forecast_q0.9", "forecast_q0.975"]
    assert quantile_columns == [c for c in res.forecasts.columns if c.startswith("forecast_q")]
    metric_names = [
        "pinball",
        "coverage_95",
        "width_95",
        "winkler_95",
        "coverage_80",
        "width_80",
        "winkler_80",
    ]
    assert list(res.metrics.columns[-len(metric_names) :]) == metric_names
    assert list(res.summary().columns) == ["mae", "rmse", "smape", "mase", *metric_names]

    for w, part in res.forecasts.groupby("window"):
        row = res.metrics[res.metrics["window"] == w].iloc[0]
        y, lo, hi = part["actual"], part["forecast_q0.1"], part["forecast_q0.9"]
        assert row["coverage_80"] == pytest.approx(coverage(y, lo, hi))
        assert row["width_80"] == pytest.approx(interval_width(lo, hi))
        assert row["winkler_80"] == pytest.approx(winkler_score(y, lo, hi, 0.8))
        pinball = np.mean(
            [
                pinball_loss(y, part[c], q)
                for c, q in zip(quantile_columns, [0.025, 0.1, 0.9, 0.975], strict=True)
            ]
        )
        assert row["pinball"] == pytest.approx(pinball)
    assert res.summary().loc["y", "coverage_80"] == pytest.approx(res.metrics["coverage_80"].mean())


def test_backtest_of_a_quantile_model_without_refit():
    frame = make_long_frame()
    model = LSTMForecaster(horizon=3, quantiles=[0.1, 0.5, 0.9], **LONG, **SMALL)
    res = backtest(model, frame, n_windows=2, refit=False)
    assert {"forecast_q0.1", "forecast_q0.5", "forecast_q0.9"} <= set(res.forecasts.columns)
    assert {"pinball", "coverage_80", "width_80", "winkler_80"} <= set(res.metrics.columns)
    assert res.metrics["coverage_80"].between(0, 1).all()
    assert (res.forecasts["forecast_q0.1"] <= res.forecasts["forecast"]).all()


@pytest.mark.parametrize("kind", ["quantiles", "conformal"])
def test_batched_quantiles_equal_a_loop_of_predict(kind):
    frame = make_long_frame()
    params = (
        {"quantiles": [0.1, 0.9]}
        if kind == "quantiles"
        else {"intervals": "conformal", "calibration_windows": 5, "coverage": 0.8}
    )
    model = RNNForecaster(horizon=3, **LONG, **SMALL, **params)
    model.fit(frame.groupby("unique_id").head(40))
    panel, layout = to_panel(frame, **LONG, dtype=np.float64)
    folds = make_folds(panel, n_windows=4, step=2, horizon=3, window_length=None, sliding=False)
    batched = _forecast_windows_quantiles(model, frame, panel, layout, folds, range(4))
    looped = _forecast_windows_quantiles(
        model, frame, panel, layout, folds, range(4), batched=False
    )
    assert batched[1].shape == (4, 3, 3, 1, len(model.quantile_levels_))
    np.testing.assert_allclose(batched[0], looped[0], rtol=1e-5)
    np.testing.assert_allclose(batched[1], looped[1], rtol=1e-5)


def test_the_calibration_model_numbers_series_in_canonical_order(monkeypatch):
    # Series are numbered by sorted id, whatever the row order. Here b's last row comes
    # first (numbered by first appearance, b would be series 0 in the whole frame and
    # series 1 in the frame cut before the calibration tail); both fits see a, b, c.
    frame = make_long_frame()
    last_b = frame.index[frame["unique_id"] == "b"][-1]
    frame = pd.concat([frame.loc[[last_b]], frame.drop(last_b)])
    seen = []
    fit = RNNForecaster._fit

    def spy(self, panel, layout):
        seen.append(list(panel.ids))
        return fit(self, panel, layout)

    monkeypatch.setattr(RNNForecaster, "_fit", spy)
    with pytest.warns(UserWarning, match="not in increasing order"):
        RNNForecaster(
            horizon=2, intervals="conformal", coverage=0.8, calibration_windows=5, **SMALL, **LONG
        ).fit(frame)
    assert seen == [["a", "b", "c"], ["a", "b", "c"]]


def test_a_fit_that_fails_leaves_no_fitted_state_behind(monkeypatch):
    frame = make_sine_frame(120)
    model = RNNForecaster(horizon=3, target="y", intervals="conformal", **SMALL).fit(frame)
    assert model.predict().shape == (3, 5)

    huge = frame.copy()
    huge.iloc[-1, 0] = 1e39  # fits float64, not the network's float32
    with pytest.raises(DataError, match=r"'y' has a value beyond float32 range at 2020-04-29"):
        model.fit(huge)  # refused before any training
    with pytest.raises(NotFittedError):
        model.predict()  # not the previous model, nor a calibration model

    calls = []
    fit = RNNForecaster._fit

    def fails_the_second_time(self, panel, layout):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # e.g. the user stops the final fit
        return fit(self, panel, layout)

    monkeypatch.setattr(RNNForecaster, "_fit", fails_the_second_time)
    with pytest.raises(KeyboardInterrupt):
        model.fit(frame)
    assert not [k for k in vars(model) if k.endswith("_")]
    with pytest.raises(NotFittedError):
        model.predict()
