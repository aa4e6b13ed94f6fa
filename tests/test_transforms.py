"""target_transform: exact inverses, Box-Cox fitted on the training part only, original units."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import FAST, make_long_frame
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats

from forecast import (
    DampedTrendForecaster,
    DataError,
    InvalidParameterError,
    NaiveForecaster,
    NumericalError,
    RNNForecaster,
    SeasonalNaiveForecaster,
    load,
)
from forecast.backtest import backtest
from forecast.data.panel import to_panel
from forecast.data.transforms import LAMBDA_RANGE, fit_lambdas, forward, inverse, out_of_range

LONG = {"id_col": "unique_id", "time_col": "ds"}


def _panel(values: np.ndarray, dtype=np.float64):
    index = pd.date_range("2000-01-01", periods=len(values), freq="D")
    return to_panel(pd.DataFrame({"y": values}, index=index), freq="D", dtype=dtype)[0]


@settings(max_examples=60, deadline=None)
@given(
    values=arrays(np.float64, st.integers(2, 30), elements=st.floats(1e-3, 1e6)),
    method=st.sampled_from(["log", "log1p", "boxcox"]),
    lam=st.floats(*LAMBDA_RANGE),
)
@example(values=np.array([0.5, 0.5]), method="boxcox", lam=5e-324)  # a CI run's draw
def test_transforms_invert_exactly(values, method, lam):
    lambdas = np.array([[lam]]) if method == "boxcox" else None
    z = forward(_panel(values), method, lambdas).values[:, 0]
    back = inverse(z.reshape(1, -1, 1), method, lambdas)[0, :, 0]
    np.testing.assert_allclose(back, values, rtol=1e-9)
    # quantiles (N, H, T, Q) invert as the points do, level by level
    quantiles = inverse(np.stack([z, z], axis=-1).reshape(1, -1, 1, 2), method, lambdas)
    np.testing.assert_allclose(quantiles[0, :, 0, 1], values, rtol=1e-9)


def test_boxcox_lambda_is_scipys_maximum_likelihood():
    values = np.random.default_rng(0).lognormal(3, 0.5, 80)
    expected = stats.boxcox_normmax(values, method="mle")
    assert fit_lambdas(_panel(values), "boxcox")[0, 0] == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize("method", ["log", "log1p", "boxcox"])
def test_forecasts_come_back_in_original_units(method):
    """A naive forecast repeats the last value, whatever the transform."""
    df = make_long_frame()
    model = NaiveForecaster(horizon=3, target_transform=method, **LONG).fit(df)
    last = df.groupby("unique_id")["y"].last()
    fc = model.predict()
    for sid, value in last.items():
        np.testing.assert_allclose(fc.loc[fc["unique_id"] == sid, "y"], value, rtol=1e-10)


def test_boxcox_lambda_from_each_backtest_folds_training_part_only():
    """Changing the data after a fold's cutoff changes neither its lambda nor its forecast."""
    df = make_long_frame()
    model = SeasonalNaiveForecaster(season_length=12, horizon=6, target_transform="boxcox", **LONG)
    result = backtest(model, df, n_windows=2)
    changed = df.copy()
    last_six = changed.groupby("unique_id").cumcount(ascending=False) < 6
    changed.loc[last_six, "y"] *= 50  # only the last window's test part
    other = backtest(model, changed, n_windows=2)
    assert np.array_equal(result.models[0].target_lambdas_, other.models[0].target_lambdas_)
    first = result.forecasts["window"] == 0
    pd.testing.assert_series_equal(
        result.forecasts.loc[first, "forecast"], other.forecasts.loc[first, "forecast"]
    )
    # each fold's lambda is the one fitted on its history (up to its cutoff)
    for window, fitted in enumerate(result.models):
        cutoffs = result.metrics.loc[result.metrics["window"] == window, ["unique_id", "cutoff"]]
        for i, (sid, cutoff) in enumerate(cutoffs.itertuples(index=False)):
            part = df[(df["unique_id"] == sid) & (df["ds"] <= cutoff)]["y"].to_numpy()
            assert fitted.target_lambdas_[i, 0] == pytest.approx(
                fit_lambdas(_panel(part), "boxcox")[0, 0]
            )
    # the actuals are the data, and the metrics the errors of the forecasts, in original units
    tidy = result.forecasts.merge(df, on=["unique_id", "ds"])
    np.testing.assert_array_equal(tidy["actual"], tidy["y"])
    error = (tidy["actual"] - tidy["forecast"]).abs()
    mae = error.groupby([tidy["window"], tidy["unique_id"]]).mean().to_numpy()
    np.testing.assert_allclose(result.metrics.sort_values(["window", "unique_id"])["mae"], mae)


@pytest.mark.parametrize(
    ("method", "bad"), [("log", 0.0), ("boxcox", -2.0), ("log1p", -1.0), ("log", np.nan)]
)
def test_values_a_transform_cannot_take_are_named_before_training(method, bad, no_training):
    df = make_long_frame()
    row = df.index[(df["unique_id"] == "b")][5]
    df.loc[row, "y"] = bad
    model = RNNForecaster(seq_len=6, horizon=2, target_transform=method, **LONG, **FAST)
    stamp = str(df.loc[row, "ds"])
    with pytest.raises(DataError) as info:
        model.fit(df)
    message = str(info.value)
    if not np.isnan(bad):
        assert "target_transform" in message
    assert "'b'" in message
    assert stamp in message


def test_target_transform_parameter_is_checked():
    with pytest.raises(InvalidParameterError, match="'target_transform' parameter"):
        NaiveForecaster(target_transform="sqrt").fit(
            make_long_frame().set_index(["unique_id", "ds"])
        )


def test_network_quantiles_and_save_load_in_original_units(tmp_path):
    df = make_long_frame()
    model = RNNForecaster(
        seq_len=6,
        horizon=2,
        quantiles=[0.1, 0.9],
        target_transform="boxcox",
        validation_size=0,
        **LONG,
        **FAST,
    ).fit(df)
    fc = model.predict()
    assert (fc["y_q0.1"] <= fc["y"]).all()
    assert (fc["y"] <= fc["y_q0.9"]).all()
    assert fc["y"].between(5, 20).all()  # the data is 10 +- 1.5; log-space would be ~2.3
    model.save(tmp_path / "m.safetensors")
    loaded = load(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(loaded.target_lambdas_, model.target_lambdas_)
    pd.testing.assert_frame_equal(loaded.predict(), fc)
    pd.testing.assert_frame_equal(loaded.predict(df), model.predict(df))


def test_conformal_intervals_in_original_units():
    df = make_long_frame()
    plain = NaiveForecaster(horizon=2, intervals="conformal", coverage=0.8, **LONG).fit(df)
    logged = NaiveForecaster(
        horizon=2, intervals="conformal", coverage=0.8, target_transform="log", **LONG
    ).fit(df)
    # same point forecasts; intervals of the same size (scores are in original units)
    a, b = plain.predict(), logged.predict()
    np.testing.assert_allclose(a["y"], b["y"], rtol=1e-12)
    np.testing.assert_allclose(a["y_q0.9"] - a["y"], b["y_q0.9"] - b["y"], rtol=1e-9)


def test_a_new_series_gets_a_lambda_from_its_own_history():
    df = make_long_frame()
    model = NaiveForecaster(horizon=2, target_transform="boxcox", **LONG).fit(
        df[df["unique_id"] != "c"]
    )
    fc = model.predict(df)
    last = df[df["unique_id"] == "c"]["y"].iloc[-1]
    np.testing.assert_allclose(fc.loc[fc["unique_id"] == "c", "y"], last, rtol=1e-10)


@pytest.mark.parametrize("lam", [5e-324, -5e-324, 1e-310, 1e-13, -1e-13])
def test_a_boxcox_lambda_next_to_zero_is_the_log_both_ways(lam):
    """scipy's inv_boxcox turns 0.5 into exp(-1) at lambda 5e-324 (a subnormal the property
    test above drew): such lambdas are the log, forward and back."""
    values = np.array([1e-3, 0.5, 2.0, 1e6])
    lambdas = np.array([[lam]])
    z = forward(_panel(values), "boxcox", lambdas).values[:, 0]
    np.testing.assert_allclose(z, np.log(values), rtol=1e-12)
    back = inverse(z.reshape(1, -1, 1), "boxcox", lambdas)[0, :, 0]
    np.testing.assert_allclose(back, values, rtol=1e-12)


def falling_panel() -> pd.DataFrame:
    """'falling' drops from 1000 to 29 (Box-Cox lambda about 0.72): a damped trend on its
    transformed values runs below -1/lambda within 6 steps; 'fine' stays near 500."""
    t = np.arange(40.0)
    ds = pd.date_range("2000-01-01", periods=40, freq="MS")
    return pd.concat(
        [
            pd.DataFrame({"id": "falling", "ds": ds, "y": 1000 - 24.9 * t}),
            pd.DataFrame({"id": "fine", "ds": ds, "y": 500 + 3 * np.sin(t)}),
        ]
    )


def test_a_boxcox_forecast_beyond_the_range_is_named_as_such():
    """It was "NaN or infinite ...: the model or its inputs overflowed. Refit the model":
    nothing overflowed, and a refit forecasts the same."""
    df = falling_panel()
    model = DampedTrendForecaster(
        horizon=6, id_col="id", time_col="ds", target="y", target_transform="boxcox"
    ).fit(df)
    expected = r"'falling'.*left the range of target_transform='boxcox'.*below -1/lambda"
    for predict in (model.predict, lambda: model.predict(df)):
        with pytest.raises(NumericalError, match=expected) as info:
            predict()
        assert "overflowed" not in str(info.value)
        assert "target_transform='log'" in str(info.value)
        assert info.value.series == ["falling"]


def test_out_of_range_on_both_sides_of_lambda():
    """Above -1/lambda for lambda < 0 (infinite or NaN there); an overflow within the range
    and a forecast already NaN are not this."""
    z = np.array([[[-3.0], [0.0]], [[1.0], [3.0]], [[np.nan], [0.0]]])  # (N=3, H=2, T=1)
    lambdas = np.array([[0.5], [-0.5], [0.5]])
    back = inverse(z, "boxcox", lambdas)
    mask, detail = out_of_range(z, back, lambdas, ["y"])
    np.testing.assert_array_equal(mask, [True, True, False])
    assert "below -1/lambda = -2," in detail
    assert "step 1 " in detail
    mask, detail = out_of_range(z[1:], back[1:], lambdas[1:], ["y"])
    assert "above -1/lambda = 2," in detail
    assert "step 2 " in detail
