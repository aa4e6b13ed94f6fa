"""Issue 22's views of a series: de-seasonalised targets, MASE-scaled windows, their ensembles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import FAST
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from forecast import (
    DampedTrendForecaster,
    DataError,
    EnsembleForecaster,
    InvalidParameterError,
    LSTMForecaster,
    NaiveForecaster,
    SeasonalNaiveForecaster,
    ThetaForecaster,
    load,
)
from forecast.backtest import backtest
from forecast.data.scaling import SeriesScaler
from forecast.data.seasonality import (
    season_map,
    season_positions,
    seasonal_components,
    seasonal_indices,
)
from forecast.io import model_file
from forecast.presets import panel_ensemble_params, panel_params

LONG = {"id_col": "unique_id", "time_col": "ds"}
PATTERN = np.array([0.8, 0.9, 1.0, 1.2, 1.3, 1.1, 1.0, 0.9, 0.85, 0.95, 1.0, 1.0])
PATTERN = PATTERN / PATTERN.mean()


def _seasonal_frame(starts=("2000-01-01", "2001-07-01", "1999-04-01"), n=72, noise=0.01):
    """Monthly series: a trend times PATTERN by calendar month (January is position 0)."""
    rng = np.random.default_rng(0)
    parts = []
    for k, start in enumerate(starts):
        ds = pd.date_range(start, periods=n, freq="MS")
        level = (100 + 10 * k) * (1 + 0.01 * np.arange(n))
        y = level * PATTERN[ds.month - 1] * (1 + noise * rng.standard_normal(n))
        parts.append(pd.DataFrame({"unique_id": f"s{k}", "ds": ds, "y": y}))
    return pd.concat(parts, ignore_index=True)


def test_indices_recover_a_multiplicative_pattern_by_calendar_month():
    df = _seasonal_frame()
    for _, g in df.groupby("unique_id"):
        positions = season_positions(pd.DatetimeIndex(g["ds"]), pd.offsets.MonthBegin(), 12)
        np.testing.assert_array_equal(positions, g["ds"].dt.month.to_numpy() - 1)
        found = seasonal_indices(g["y"].to_numpy(), 12, positions)
        np.testing.assert_allclose(found, PATTERN, atol=0.02)


@pytest.mark.parametrize(
    ("values", "why"),
    [
        (np.random.default_rng(1).normal(100, 1, 60), "white noise: no significant season"),
        (np.r_[0.0, np.tile(PATTERN, 5)[1:]] * 100, "a zero: not multiplicative"),
        (np.r_[np.nan, np.tile(PATTERN, 5)[1:]] * 100, "a missing value"),
        (np.tile(PATTERN, 2) * 100, "two seasons: too short to estimate"),
        (np.full(48, 5.0), "constant"),
    ],
)
def test_series_without_a_usable_season_are_left_as_they_are(values, why):
    np.testing.assert_array_equal(seasonal_indices(values, 12), np.ones(12), err_msg=why)


@settings(max_examples=40, deadline=None)
@given(
    values=arrays(np.float64, st.integers(36, 120), elements=st.floats(1.0, 1e4)),
    m=st.sampled_from([4, 7, 12]),
)
def test_indices_are_positive_and_average_one(values, m):
    idx = seasonal_indices(values, m)
    assert idx.shape == (m,)
    assert np.all(idx > 0)
    assert idx.mean() == pytest.approx(1.0)


def test_components_of_a_positive_series_are_its_multiplicative_indices():
    for _, g in _seasonal_frame().groupby("unique_id"):
        kind, components = seasonal_components(g["y"].to_numpy(), 12)
        assert kind == "multiplicative"
        np.testing.assert_array_equal(components, seasonal_indices(g["y"].to_numpy(), 12))


@pytest.mark.parametrize("trend", [0.0, 0.1])
def test_a_seasonal_series_with_zeros_has_additive_components_worked_on_paper(trend):
    # 0, 2, 4, 2 each year plus a line: the 2 x 4 centred moving average of a period-4
    # pattern plus a line is the pattern's mean (2) plus the line, so the series less its
    # moving average is the pattern less 2 at every position: -2, 0, 2, 0.
    t = np.arange(24)
    x = np.array([0.0, 2.0, 4.0, 2.0])[t % 4] + trend * t
    kind, components = seasonal_components(x, 4)
    assert kind == "additive"
    np.testing.assert_allclose(components, [-2.0, 0.0, 2.0, 0.0], atol=1e-12)
    np.testing.assert_array_equal(seasonal_indices(x, 4), np.ones(4))  # as before: a zero


def test_a_positive_series_with_an_index_under_one_percent_is_additive():
    # Dividing by an index of 0.001 would multiply that month's values by a thousand.
    x = np.tile([0.001, 1.0, 2.0, 1.0], 6)
    assert seasonal_indices(x, 4)[0] < 0.01
    kind, components = seasonal_components(x, 4)
    assert kind == "additive"
    np.testing.assert_allclose(components, [-0.99925, -0.00025, 0.99975, -0.00025], atol=1e-9)


@pytest.mark.parametrize(
    ("values", "why"),
    [
        (np.random.default_rng(1).normal(0, 1, 60), "white noise around 0: no season"),
        (np.r_[np.nan, np.tile(PATTERN - 1, 5)[1:]], "a missing value"),
        (np.tile(PATTERN - 1, 2), "two seasons: too short to estimate"),
        (np.zeros(48), "constant"),
    ],
)
def test_components_without_a_usable_season_are_none(values, why):
    kind, components = seasonal_components(values, 12)
    assert kind == "none", why
    np.testing.assert_array_equal(components, np.ones(12))


def test_asked_for_additive_components_a_positive_series_gets_them_whatever_its_level():
    # Logs of a positive seasonal series: > 0 (as multiplicative indices) for y > 1, < 0
    # (additive) below. Asked for additive components, a change of units is only a shift.
    t = np.arange(60)
    y = (1 + 0.3 * np.sin(2 * np.pi * t / 12)) * np.exp(0.01 * t)
    assert seasonal_components(np.log(100 * y), 12)[0] == "multiplicative"
    kind, components = seasonal_components(np.log(100 * y), 12, additive=True)
    assert kind == "additive"
    for scale in (1e-3, 1e3):
        shifted = seasonal_components(np.log(100 * scale * y), 12, additive=True)
        assert shifted[0] == "additive"
        np.testing.assert_allclose(shifted[1], components, atol=1e-12)
    np.testing.assert_array_equal(season_map(np.log(100 * y), 12, additive=True)[:, 0], 1.0)


@settings(max_examples=40, deadline=None)
@given(
    values=arrays(np.float64, st.integers(36, 120), elements=st.floats(-1e3, 1e3)),
    m=st.sampled_from([4, 7, 12]),
    k=st.floats(1e-3, 1e3),
    shift=st.floats(0, 1e3),
)
def test_additive_components_follow_the_units_and_ignore_the_level(values, m, k, shift):
    values = np.r_[-1.0, values]  # not positive: never multiplicative
    kind, components = seasonal_components(values, m)
    assert kind in ("none", "additive")
    assert components.shape == (m,)
    if kind == "additive":
        assert abs(components.mean()) <= 1e-9 * max(1.0, np.abs(components).max())
        scaled_kind, scaled = seasonal_components(values * k - shift, m)
        assert scaled_kind == "additive"
        np.testing.assert_allclose(
            scaled, components * k, rtol=1e-7, atol=1e-9 * k * np.abs(values).max()
        )


@pytest.mark.parametrize("model", [ThetaForecaster, DampedTrendForecaster])
def test_smoothing_baselines_keep_the_season_of_a_series_with_zeros(model):
    # Sales that stop in winter: zero in January and February every year. Before additive
    # components, a value <= 0 left the series unseasonal and the forecast flat.
    months = pd.date_range("2015-01-01", periods=72, freq="MS")
    pattern = np.array([0.0, 0.0, 3, 6, 9, 12, 12, 10, 8, 5, 3, 1])
    df = pd.DataFrame({"ds": months, "y": 50 * pattern[months.month - 1]})
    fc = model(season_length=12, horizon=12, time_col="ds").fit(df).predict()
    np.testing.assert_allclose(fc["y"].to_numpy(), 50 * pattern, atol=1e-6)


@pytest.mark.parametrize(
    ("freq", "m", "expected"),
    [
        ("QS", 4, lambda t: (t.month - 1) // 3),
        ("QE", 4, lambda t: (t.month - 1) // 3),
        ("YS", 2, lambda t: t.year % 2),
        ("h", 24, lambda t: t.hour),
        ("D", 7, lambda t: (t.day_of_week + 4) % 7),  # 1970-01-01, position 0, was a Thursday
        ("W-SUN", 4, None),
    ],
)
def test_positions_step_by_one_and_follow_the_calendar(freq, m, expected):
    times = pd.date_range("2003-05-01", periods=50, freq=freq)
    positions = season_positions(times, times.freq, m)
    np.testing.assert_array_equal(np.diff(positions) % m, 1)
    if expected is not None:
        np.testing.assert_array_equal(positions, np.asarray(expected(times)) % m)


def test_a_frequency_without_a_step_count_is_refused_naming_it():
    times = pd.date_range("2003-05-01", periods=20, freq="B")
    with pytest.raises(InvalidParameterError, match="'B'"):
        season_positions(times, times.freq, 5)


def test_deseasonalized_seasonal_naive_is_the_seasonal_naive():
    """x / S * S: dividing by an index and multiplying by the same position's index back."""
    df = _seasonal_frame()
    plain = SeasonalNaiveForecaster(season_length=12, horizon=18, **LONG).fit(df)
    adjusted = SeasonalNaiveForecaster(
        season_length=12, horizon=18, target_transform="deseasonalize", **LONG
    ).fit(df)
    np.testing.assert_allclose(adjusted.predict()["y"], plain.predict()["y"], rtol=1e-10)


def test_deseasonalized_naive_repeats_the_adjusted_level_times_the_future_months():
    """M3's "Naive2": the last de-seasonalised value, re-seasonalised by calendar month."""
    df = _seasonal_frame(noise=0.0)
    model = NaiveForecaster(horizon=12, target_transform="deseasonalize", **LONG)
    with pytest.raises(InvalidParameterError, match="season_length"):
        model.fit(df)  # a naive forecaster has no season length of its own
    model = SeasonalNaiveForecaster(
        season_length=1, horizon=12, target_transform="deseasonalize", **LONG
    )
    with pytest.raises(InvalidParameterError, match="season_length, an int >= 2"):
        model.fit(df)


def test_a_network_on_deseasonalized_targets_uses_calendar_positions(tmp_path):
    """Forecasts do not move when the history given starts in another month, the model is
    saved and loaded, or a series is new (its indices fitted on its own history)."""
    df = _seasonal_frame()
    params = {**FAST, "seq_len": 12, "horizon": 6, "scaler": "window_level"}
    model = LSTMForecaster(
        target_transform="deseasonalize", season_length=12, **params, **LONG
    ).fit(df)
    assert model.target_lambdas_.shape == (3, 1, 12, 2)  # each position's divisor, offset
    np.testing.assert_allclose(
        model.target_lambdas_[:, 0, :, 0], np.tile(PATTERN, (3, 1)), atol=0.03
    )
    np.testing.assert_array_equal(model.target_lambdas_[..., 1], 0.0)  # multiplicative
    full = model.predict(df)
    later = df[df.groupby("unique_id").cumcount() >= 5]  # starts five months later
    np.testing.assert_allclose(model.predict(later)["y"], full["y"], rtol=1e-9)
    model.save(tmp_path / "m.safetensors")
    np.testing.assert_allclose(load(tmp_path / "m.safetensors").predict(df)["y"], full["y"])
    new = df.assign(unique_id=df["unique_id"] + "-new")
    np.testing.assert_allclose(model.predict(new)["y"].to_numpy(), full["y"].to_numpy())
    # and the forecasts carry the season: the de-seasonalised ones times the indices
    assert np.all(np.isfinite(full["y"]))


def test_indices_come_from_each_backtest_folds_training_part_only():
    """Changing the last window's test part changes no earlier fold's indices; each fold's
    indices are those of its history up to its cutoff."""
    df = _seasonal_frame()
    model = SeasonalNaiveForecaster(
        season_length=12, horizon=6, target_transform="deseasonalize", **LONG
    )
    result = backtest(model, df, n_windows=2)
    changed = df.copy()
    changed.loc[changed.groupby("unique_id").cumcount(ascending=False) < 6, "y"] *= 50
    other = backtest(model, changed, n_windows=2)
    np.testing.assert_array_equal(result.models[0].target_lambdas_, other.models[0].target_lambdas_)
    for window, fitted in enumerate(result.models):
        cutoffs = result.metrics.loc[result.metrics["window"] == window, ["unique_id", "cutoff"]]
        for i, (sid, cutoff) in enumerate(cutoffs.itertuples(index=False)):
            part = df[(df["unique_id"] == sid) & (df["ds"] <= cutoff)]
            positions = season_positions(pd.DatetimeIndex(part["ds"]), pd.offsets.MonthBegin(), 12)
            expected = seasonal_indices(part["y"].to_numpy(), 12, positions)
            np.testing.assert_allclose(fitted.target_lambdas_[i, 0, :, 0], expected, rtol=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    # values well above float64's tiny range: a window of 1e-231 steps overflows float32
    # once scaled, which scale_windows refuses (NumericalError), as it does under window_level
    x=arrays(
        np.float64,
        (3, 8, 2),
        elements=st.floats(-1e4, 1e4).filter(lambda v: v == 0 or abs(v) > 1e-3),
    ),
    a=st.floats(0.01, 100),
    b=st.floats(-1e3, 1e3),
)
def test_window_diff_scaling_ignores_each_windows_level_and_unit(x, a, b):
    scaler = SeriesScaler("window_diff")
    series = np.zeros(3, dtype=np.int64)
    moved = scaler.scale_windows(a * x + b, series, n_input=5).astype(np.float64)
    scaled = scaler.scale_windows(x, series, n_input=5).astype(np.float64)
    steps = np.abs(np.diff(x[:, :5], axis=1)).mean(axis=1)  # (3, 2)
    usable = (steps * a > 1e-6)[:, None, :] & np.ones_like(x, dtype=bool)
    np.testing.assert_allclose(moved[usable], scaled[usable], rtol=1e-3, atol=1e-3)


def test_window_diff_on_a_flat_or_one_step_window_is_finite():
    scaler = SeriesScaler("window_diff")
    flat = np.full((1, 6, 1), 7.0)
    assert np.all(scaler.scale_windows(flat, np.zeros(1, dtype=int), 4) == 0)
    one = np.arange(6, dtype=float).reshape(1, 6, 1)
    assert np.all(np.isfinite(scaler.scale_windows(one, np.zeros(1, dtype=int), 1)))


def test_ensemble_members_alternate_their_settings_and_the_result_is_their_median(tmp_path):
    df = _seasonal_frame()
    base = LSTMForecaster(seq_len=12, horizon=6, scaler="window_level", **FAST, **LONG)
    ensemble = EnsembleForecaster(base, **panel_ensemble_params(12, 6, n_members=3)).fit(df)
    assert [m.target_transform for m in ensemble.members_] == [None, "deseasonalize", None]
    assert [m.loss for m in ensemble.members_] == ["mae", "mae", "mape"]
    assert [m.random_state for m in ensemble.members_] == [0, 1, 2]
    each = np.stack([m.predict()["y"].to_numpy() for m in ensemble.members_])
    np.testing.assert_allclose(ensemble.predict()["y"], np.median(each, axis=0), rtol=1e-9)
    ensemble.save(tmp_path / "e.safetensors")
    loaded = load(tmp_path / "e.safetensors")
    assert loaded.member_params == ensemble.member_params
    np.testing.assert_allclose(loaded.predict()["y"], ensemble.predict()["y"])


@pytest.mark.parametrize(
    ("member_params", "match"),
    [
        ([], "non-empty list"),
        ({"scaler": "window"}, "non-empty list"),
        ([{"horizon": 3}], r"\['horizon'\] cannot differ"),
        ([{"random_state": 3}], r"\['random_state'\] cannot differ"),
        ([{"hiden_size": 3}], r"\['hiden_size'\] cannot differ"),
        ([{"scaler": "nope"}], "scaler"),
        ([{"target_transform": "deseasonalize"}], "season_length"),
    ],
)
def test_member_settings_are_checked_before_any_training(member_params, match, no_training):
    base = LSTMForecaster(seq_len=12, horizon=6, **FAST, **LONG)
    with pytest.raises(InvalidParameterError, match=match):
        EnsembleForecaster(base, member_params=member_params).fit(_seasonal_frame())


def test_panel_params_caps_the_input_length_by_the_series_lengths():
    assert panel_params(12, 18, lengths=[48, 78, 115, 126])["seq_len"] == 24  # M3 monthly
    # M1 yearly: a quarter of the series have 13 values or fewer, the shortest 9
    assert panel_params(1, 6, lengths=[9, 13, 13, 13, 15, 22, 40, 52])["seq_len"] == 7
    assert panel_params(1, 6, lengths=[5, 30, 40, 50])["seq_len"] == 5  # the shortest
    assert panel_params(4, 8, lengths=[])["seq_len"] == 8


def test_ensemble_views_depend_on_the_season_and_cross_two_losses():
    deseason = {"target_transform": "deseasonalize", "season_length": 12}
    assert panel_ensemble_params(12, 18)["member_params"] == [
        {"loss": "mae"},
        deseason | {"loss": "mae"},
        {"loss": "mape"},
        deseason | {"loss": "mape"},
    ]
    assert panel_ensemble_params(1, 6)["member_params"] == [
        {"loss": "mae"},
        {"scaler": "window_diff", "loss": "mae"},
        {"loss": "mape"},
        {"scaler": "window_diff", "loss": "mape"},
    ]
    assert panel_ensemble_params(1, 6, losses=None)["member_params"] == [
        {},
        {"scaler": "window_diff"},
    ]
    for losses in ("mape", ()):
        with pytest.raises(InvalidParameterError, match="losses=None"):
            panel_ensemble_params(12, 18, losses=losses)


def test_the_accuracy_mode_takes_a_quantile_base_with_its_own_loss():
    df = _seasonal_frame()
    base = LSTMForecaster(seq_len=12, horizon=6, quantiles=[0.1, 0.5, 0.9], **FAST, **LONG)
    named = EnsembleForecaster(base, **panel_ensemble_params(12, 6, n_members=2))
    with pytest.raises(InvalidParameterError, match="'pinball' when 'quantiles'"):
        named.fit(df)  # a quantile network cannot train on 'mae': refused before training
    own = panel_ensemble_params(12, 6, n_members=2, losses=None)
    ensemble = EnsembleForecaster(base, **own).fit(df)
    assert [m.loss for m in ensemble.members_] == [None, None]
    assert [m.target_transform for m in ensemble.members_] == [None, "deseasonalize"]
    assert np.isfinite(ensemble.predict()[["y_q0.1", "y_q0.5", "y_q0.9"]]).all(axis=None)


# ------------------------------------------------ found by review (2026-12-04), each fixed


def test_hourly_positions_step_by_one_across_daylight_saving_changes():
    """A forecast's positions are its origin's plus 1, 2, ...: true of the real timestamps
    only if hours are counted in absolute time (spring forward and fall back)."""
    for start in ("2021-03-27 12:00", "2021-10-30 12:00"):
        times = pd.date_range(start, periods=48, freq="h", tz="Europe/Berlin")
        positions = season_positions(times, times.freq, 24)
        np.testing.assert_array_equal(np.diff(positions) % 24, 1)


def test_window_diff_with_no_two_neighbours_observed_uses_the_level_not_raw_units():
    from forecast.data.masking import MaskedScaler

    values = np.array([1000, 0, 1010, 0, 990, 0, 1005, 0], float)  # every other one missing
    seen = np.array([1, 0, 1, 0, 1, 0, 1, 0], float)
    x = np.stack([values, seen], axis=1)[None]  # (1, 8, 2): a value and its observed channel
    loc, scale = MaskedScaler("window_diff", [0], [1]).window_stats(x, np.array([0]))
    assert scale[0, 0, 0] == pytest.approx(1001.25)  # the observed values' mean level
    assert np.abs((values[::2] - loc[0, 0, 0]) / scale[0, 0, 0]).max() < 0.02


def test_series_with_missing_values_are_named_when_left_seasonal():
    df = _seasonal_frame()
    df.loc[5, "y"] = np.nan
    model = SeasonalNaiveForecaster(
        season_length=12, horizon=6, missing="mask", target_transform="deseasonalize", **LONG
    )
    with pytest.warns(UserWarning, match=r"left 1 series as they are \(series 's0'\)"):
        model.fit(df)
    np.testing.assert_array_equal(model.target_lambdas_[0, 0], [[1.0, 0.0]] * 12)


def test_members_must_forecast_the_same_interval_levels(no_training):
    base = LSTMForecaster(seq_len=12, horizon=6, **FAST, **LONG)
    differ = [{"intervals": "conformal", "coverage": 0.8}, {"coverage": 0.5}]
    with pytest.raises(InvalidParameterError, match=r"\['coverage', 'intervals'\] cannot differ"):
        EnsembleForecaster(base, member_params=differ).fit(_seasonal_frame())


def test_a_frequency_deseasonalize_cannot_count_is_refused_before_any_member_trains(
    no_training,
):
    days = pd.bdate_range("2020-01-01", periods=80)
    df = pd.DataFrame({"unique_id": "a", "ds": days, "y": 10 + np.sin(np.arange(80))})
    base = LSTMForecaster(seq_len=10, horizon=5, freq="B", **FAST, **LONG)
    views = [{}, {"target_transform": "deseasonalize", "season_length": 5}]
    with pytest.raises(InvalidParameterError, match="'B'"):
        EnsembleForecaster(base, member_params=views).fit(df)


def test_a_forecaster_without_a_season_length_is_told_which_ones_have_one():
    with pytest.raises(InvalidParameterError, match="NaiveForecaster has none"):
        NaiveForecaster(horizon=3, target_transform="deseasonalize", **LONG).fit(_seasonal_frame())


def test_every_members_transform_refuses_the_data_before_any_member_trains(no_training):
    df = _seasonal_frame()
    df.loc[3, "y"] = -1.0  # a value log cannot take, in series 's0'
    base = LSTMForecaster(seq_len=12, horizon=6, **FAST, **LONG)
    with pytest.raises(DataError, match="target_transform='log' cannot take"):
        EnsembleForecaster(base, member_params=[{}, {"target_transform": "log"}]).fit(df)


def _winter_frame(n=72):
    """Sales that stop in winter (zero in January and February), growing, and a positive
    multiplicative series beside them."""
    months = pd.date_range("2015-01-01", periods=n, freq="MS")
    pattern = np.array([0.0, 0.0, 3, 6, 9, 12, 12, 10, 8, 5, 3, 1])
    winter = 50 * pattern[months.month - 1] + 40 * np.arange(n) / n * (
        pattern[months.month - 1] > 0
    )
    positive = _seasonal_frame(starts=("2015-01-01",), n=n).assign(unique_id="positive")
    return pd.concat(
        [pd.DataFrame({"unique_id": "winter", "ds": months, "y": winter}), positive],
        ignore_index=True,
    ), pattern


def test_deseasonalize_subtracts_the_additive_season_of_a_series_with_zeros(tmp_path):
    """A seasonal series with a value <= 0 has its additive components taken off and put
    back (it used to be left as it is), a positive one is still divided by its indices."""
    from forecast.data.transforms import forward

    df, pattern = _winter_frame()
    snaive = SeasonalNaiveForecaster(
        season_length=12, horizon=12, target_transform="deseasonalize", **LONG
    ).fit(df)
    state = snaive.target_lambdas_  # (S, T, m, 2): divisor, offset
    for i, sid in enumerate(snaive.series_ids_):
        part = df[df["unique_id"] == sid]
        positions = season_positions(pd.DatetimeIndex(part["ds"]), pd.offsets.MonthBegin(), 12)
        kind, components = seasonal_components(part["y"].to_numpy(), 12, positions)
        assert kind == {"winter": "additive", "positive": "multiplicative"}[sid]
        divisor, offset = state[i, 0, :, 0], state[i, 0, :, 1]
        if kind == "additive":
            np.testing.assert_array_equal(divisor, np.ones(12))
            np.testing.assert_allclose(offset, components, rtol=1e-12)
        else:
            np.testing.assert_allclose(divisor, components, rtol=1e-12)
            np.testing.assert_array_equal(offset, np.zeros(12))
    # what the model is fitted on: the winter series minus its offsets, by calendar month
    panel, _ = snaive._to_panel(df, np.dtype(np.float64))
    adjusted = forward(panel, "deseasonalize", state).values[:, 0]
    winter = snaive.series_ids_.index("winter")
    rows = slice(panel.offsets[winter], panel.offsets[winter + 1])
    expected = (
        df.loc[df["unique_id"] == "winter", "y"].to_numpy()
        - state[winter, 0, :, 1][season_positions(panel.times[rows], panel.freq, 12)]
    )
    np.testing.assert_allclose(adjusted[rows], expected, rtol=1e-12)
    # x - S + S: the seasonal naive forecast is the plain one for both kinds
    plain = SeasonalNaiveForecaster(season_length=12, horizon=12, **LONG).fit(df)
    np.testing.assert_allclose(snaive.predict()["y"], plain.predict()["y"], rtol=1e-10)

    # A network forecasts the adjusted series; the season comes back with the offsets.
    params = {**FAST, "seq_len": 12, "horizon": 12, "scaler": "window_level", "max_epochs": 5}
    model = LSTMForecaster(
        target_transform="deseasonalize", season_length=12, **params, **LONG
    ).fit(df)
    forecast = model.predict()
    y = forecast.loc[forecast["unique_id"] == "winter", "y"].to_numpy()
    assert np.all(np.isfinite(forecast["y"]))
    months = pd.DatetimeIndex(forecast.loc[forecast["unique_id"] == "winter", "ds"]).month
    assert np.corrcoef(y, pattern[months - 1])[0, 1] > 0.9
    model.save(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(load(tmp_path / "m.safetensors").predict()["y"], forecast["y"])
    _, arrays = model_file.read(tmp_path / "m.safetensors")
    assert arrays["model.target_transform.lambdas"].shape == (2, 1, 12, 2)  # an additive season
    new = df.assign(unique_id=df["unique_id"] + "-new")  # its season fitted on its history
    np.testing.assert_allclose(
        model.predict(new)["y"].to_numpy(), model.predict(df)["y"].to_numpy(), rtol=1e-9
    )


@settings(max_examples=60, deadline=None)
@given(
    values=arrays(
        np.float64,
        st.integers(24, 60),
        elements=st.floats(-1e4, 1e4, allow_nan=False, allow_subnormal=False),
    ),
    m=st.sampled_from([2, 4, 12]),
)
@example(values=np.full(48, 1000.0), m=12)  # positive and seasonal: multiplicative
@example(values=np.r_[np.full(47, 1000.0), -1000.0], m=4)  # a value <= 0: additive
def test_deseasonalize_is_inverted_exactly_whatever_the_signs(values, m):
    """forward, then inverse at the same season positions, gives the series back: for
    additive, multiplicative and unseasonal series alike."""
    from forecast.data.transforms import fit_lambdas, forward, inverse

    df = pd.DataFrame({"ds": pd.date_range("2001-03-01", periods=len(values), freq="MS")})
    df["y"] = values + np.tile(np.arange(m, dtype=np.float64) * 100, len(values))[: len(values)]
    owner = SeasonalNaiveForecaster(season_length=m, horizon=1, time_col="ds")
    panel, _ = owner._to_panel(df, np.dtype(np.float64))
    state = fit_lambdas(panel, "deseasonalize", m)
    assert state.shape == (1, 1, m, 2)
    assert np.all(state[..., 0] > 0)
    kind = seasonal_components(df["y"].to_numpy(), m)[0]  # positions from 0: March is 2
    assert (kind == "multiplicative") == bool(np.any(state[..., 0] != 1.0)) or kind == "none"
    assert (kind == "additive") == bool(state[..., 1].any())
    adjusted = forward(panel, "deseasonalize", state).values[:, :1]  # (R, 1)
    positions = season_positions(panel.times, panel.freq, m)[None, :]  # (1, R)
    back = inverse(adjusted[None], "deseasonalize", state, positions)[0, :, 0]
    np.testing.assert_allclose(back, df["y"].to_numpy(), rtol=1e-9, atol=1e-9 * 1e4)


def test_intervals_through_an_additive_season_are_ordered_and_cover_the_season():
    df, _ = _winter_frame()
    model = SeasonalNaiveForecaster(
        season_length=12,
        horizon=12,
        target_transform="deseasonalize",
        intervals="conformal",
        calibration_windows=12,
        **LONG,
    ).fit(df)
    assert model.target_lambdas_[model.series_ids_.index("winter"), 0, :, 1].any()
    forecast = model.predict()
    levels = sorted(c for c in forecast.columns if c.startswith("y_q"))  # q0.025 ... q0.975
    assert len(levels) == 4
    columns = [*levels[:2], "y", *levels[2:]]  # in the order the values must keep
    values = forecast[columns].to_numpy()
    assert np.all(np.isfinite(values))
    assert np.all(np.diff(values, axis=1) >= 0)
    assert np.all(values[:, -1] > values[:, 0])


def test_a_model_without_an_additive_season_saves_its_indices_as_before(tmp_path):
    """A file whose seasons are all multiplicative holds the indices alone ``(S, T, m)``,
    which the versions before the additive seasons read."""
    df = _seasonal_frame()
    model = SeasonalNaiveForecaster(
        season_length=12, horizon=6, target_transform="deseasonalize", **LONG
    ).fit(df)
    model.save(tmp_path / "m.safetensors")
    _, arrays = model_file.read(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(
        arrays["model.target_transform.lambdas"], model.target_lambdas_[..., 0]
    )
    loaded = load(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(loaded.target_lambdas_, model.target_lambdas_)
    np.testing.assert_array_equal(loaded.predict()["y"], model.predict()["y"])


def test_a_model_file_with_seasonal_indices_only_is_read_as_multiplicative():
    """Files written before the additive seasons hold the indices ``(S, T, m)``."""
    from forecast._exceptions import ModelFileError
    from forecast.forecasters._transformed import restored_lambdas

    df = _seasonal_frame()
    model = SeasonalNaiveForecaster(
        season_length=12, horizon=6, target_transform="deseasonalize", **LONG
    ).fit(df)
    indices = model.target_lambdas_[..., 0]
    restored = restored_lambdas(indices, model)
    np.testing.assert_array_equal(restored, model.target_lambdas_)
    with pytest.raises(ModelFileError, match=r"seasons have shape \(3, 1, 11\)"):
        restored_lambdas(indices[..., :11], model)
