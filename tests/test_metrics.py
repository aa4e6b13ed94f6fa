"""Each metric equals its definition worked by hand, and scikit-learn's where it has one."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import (
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_pinball_loss,
    root_mean_squared_error,
)

from forecast import DataError, InvalidParameterError
from forecast.metrics import (
    coverage,
    interval_width,
    mae,
    mape,
    mase,
    pinball_loss,
    rmse,
    smape,
    winkler_score,
)

Y_TRUE = [2.0, 4.0, 5.0, 10.0]
Y_PRED = [1.0, 4.0, 7.0, 5.0]  # errors 1, 0, 2, 5


def test_hand_computed_values():
    assert mae(Y_TRUE, Y_PRED) == pytest.approx((1 + 0 + 2 + 5) / 4)
    assert rmse(Y_TRUE, Y_PRED) == pytest.approx(math.sqrt((1 + 0 + 4 + 25) / 4))
    assert mape(Y_TRUE, Y_PRED) == pytest.approx(100 * (1 / 2 + 0 + 2 / 5 + 5 / 10) / 4)
    assert smape(Y_TRUE, Y_PRED) == pytest.approx(200 * (1 / 3 + 0 + 2 / 12 + 5 / 15) / 4)
    # Naive in-sample errors of [1, 3, 6]: 2 and 3, scale 2.5.
    assert mase(Y_TRUE, Y_PRED, [1.0, 3.0, 6.0]) == pytest.approx(2.0 / 2.5)
    # Seasonal (m = 2) errors of [1, 5, 2, 9]: |2 - 1| and |9 - 5|, scale 2.5.
    assert mase(Y_TRUE, Y_PRED, [1.0, 5.0, 2.0, 9.0], season_length=2) == pytest.approx(0.8)


@pytest.fixture
def two_columns():
    rng = np.random.default_rng(1)
    y_true = rng.uniform(1, 10, size=(30, 2))
    return y_true, y_true + rng.normal(0, 1, size=(30, 2))


@pytest.mark.parametrize("multioutput", ["uniform_average", "raw_values"])
def test_agrees_with_scikit_learn(two_columns, multioutput):
    y_true, y_pred = two_columns
    np.testing.assert_allclose(
        mae(y_true, y_pred, multioutput=multioutput),
        mean_absolute_error(y_true, y_pred, multioutput=multioutput),
    )
    np.testing.assert_allclose(
        rmse(y_true, y_pred, multioutput=multioutput),
        root_mean_squared_error(y_true, y_pred, multioutput=multioutput),
    )
    # Ours is in percent, scikit-learn's a fraction.
    np.testing.assert_allclose(
        mape(y_true, y_pred, multioutput=multioutput),
        100 * mean_absolute_percentage_error(y_true, y_pred, multioutput=multioutput),
    )


def test_mase_is_mae_over_the_in_sample_seasonal_naive_mae(two_columns):
    y_true, y_pred = two_columns
    y_train = np.random.default_rng(2).uniform(0, 5, size=(40, 2))
    m = 4
    expected = mean_absolute_error(y_true, y_pred, multioutput="raw_values") / (
        mean_absolute_error(y_train[m:], y_train[:-m], multioutput="raw_values")
    )
    np.testing.assert_allclose(mase(y_true, y_pred, y_train, m, multioutput="raw_values"), expected)


def test_smape_range_and_zero_over_zero():
    assert smape([0.0, 0.0], [0.0, 0.0]) == 0.0  # 0/0 is a perfect forecast
    assert smape([0.0], [3.0]) == 200.0  # the worst case
    assert smape([5.0], [5.0]) == 0.0
    values = np.random.default_rng(3).normal(size=(50, 3))
    per_column = smape(values, -values + 0.1, multioutput="raw_values")
    assert ((per_column >= 0) & (per_column <= 200)).all()


def test_frames_give_one_value_per_column_by_name():
    index = pd.date_range("2020-01-01", periods=4, freq="D")
    y_true = pd.DataFrame({"a": Y_TRUE, "b": [1.0, 1.0, 1.0, 1.0]}, index=index)
    y_pred = pd.DataFrame({"b": [2.0, 2.0, 2.0, 2.0], "a": Y_PRED}, index=index)  # other order
    per_column = mae(y_true, y_pred, multioutput="raw_values")
    assert list(per_column.index) == ["a", "b"]
    assert per_column["a"] == pytest.approx(mae(Y_TRUE, Y_PRED))
    assert per_column["b"] == pytest.approx(1.0)
    assert mae(y_true, y_pred) == pytest.approx(per_column.mean())
    assert mae(y_true["a"], y_pred["a"]) == pytest.approx(mae(Y_TRUE, Y_PRED))


def test_mape_refuses_zeros_and_says_where():
    index = pd.date_range("2020-01-01", periods=4, freq="D")
    y_true = pd.DataFrame({"a": Y_TRUE, "b": [1.0, 0.0, 1.0, 0.0]}, index=index)
    with pytest.raises(DataError, match=r"2 zero\(s\), the first at row 2020-01-02.* 'b'"):
        mape(y_true, y_true + 1)
    with pytest.raises(DataError, match=r"1 zero\(s\), the first at position 1"):
        mape([3.0, 0.0], [3.0, 1.0])


@pytest.mark.parametrize(
    ("y_true", "y_pred", "message"),
    [
        ([1.0, np.nan], [1.0, 2.0], r"y_true has 1 NaN or infinite value\(s\).* position 1"),
        ([1.0, 2.0], [1.0, np.inf], r"y_pred has 1 NaN or infinite .* position 1"),
        ([1.0, 2.0], [1.0, 2.0, 3.0], r"y_true has shape \(2, 1\) and y_pred has shape \(3, 1\)"),
        ([], [], "y_true must be a non-empty"),
        (
            pd.Series([1.0, 2.0], index=[0, 1]),
            pd.Series([1.0, 2.0], index=[0, 5]),
            "different indexes .*position 1: 1 vs 5",
        ),
        (
            pd.DataFrame({"a": [1.0], "b": [2.0]}),
            pd.DataFrame({"a": [1.0], "c": [2.0]}),
            r"y_pred lacks \['b'\] and has \['c'\]",
        ),
        (pd.DataFrame({"a": ["x"]}), [1.0], r"y_true column\(s\) \['a'\] are not numeric"),
        (  # numeric, but y[c] of a repeated name is a frame: once called "not numeric"
            pd.DataFrame([[1.0, 2.0]], columns=["a", "a"]),
            pd.DataFrame([[1.0, 2.0]], columns=["a", "a"]),
            r"y_true has repeated column names \['a'\]; columns are matched by name",
        ),
        (
            pd.DataFrame([[1.0, 2.0]], columns=["a", "b"]),
            pd.DataFrame([[1.0, 2.0]], columns=["b", "b"]),
            r"y_pred has repeated column names \['b'\]",
        ),
    ],
)
def test_bad_input_is_named(y_true, y_pred, message):
    with pytest.raises(DataError, match=message):
        mae(y_true, y_pred)


def test_mase_refuses_a_short_or_constant_history():
    with pytest.raises(DataError, match=r"y_train has 2 row\(s\).*season_length=2 needs .* 3"):
        mase([1.0], [1.0], [1.0, 2.0], season_length=2)
    y_train = pd.DataFrame({"flat": [3.0, 3.0, 3.0], "ok": [1.0, 2.0, 3.0]})
    y_true = pd.DataFrame({"flat": [3.0], "ok": [4.0]})
    with pytest.raises(DataError, match=r"undefined for column\(s\) \['flat'\]"):
        mase(y_true, y_true, y_train)
    with pytest.raises(DataError, match=r"y_train has shape \(3, 1\).*must match in columns"):
        mase(y_true, y_true, [1.0, 2.0, 3.0])


def test_parameters_are_checked():
    with pytest.raises(
        InvalidParameterError, match="The 'multioutput' parameter of mae must be one of"
    ):
        mae(Y_TRUE, Y_PRED, multioutput="variance_weighted")
    with pytest.raises(
        InvalidParameterError, match="The 'season_length' parameter of mase must be an int >= 1"
    ):
        mase(Y_TRUE, Y_PRED, Y_TRUE, season_length=0)


# ---------------------------------------------------------------------------- quantiles


def test_interval_metrics_by_hand():
    y, lo, hi = [2.0, 4.0, 5.0, 10.0], [1.0, 4.0, 6.0, 5.0], [3.0, 6.0, 8.0, 9.0]
    # Inside: 2 in [1, 3], 4 in [4, 6] (closed); 5 below [6, 8]; 10 above [5, 9].
    assert coverage(y, lo, hi) == pytest.approx(0.5)
    assert interval_width(lo, hi) == pytest.approx((2 + 2 + 2 + 4) / 4)
    # alpha = 0.5: misses cost 2 / 0.5 = 4 per unit: 1 below and 1 above.
    assert winkler_score(y, lo, hi, coverage=0.5) == pytest.approx((2 + 2 + (2 + 4) + (4 + 4)) / 4)
    # Under-forecasts cost q, over-forecasts 1 - q: errors y - yhat = 1, 0, -1, 5 at q = 0.9.
    assert pinball_loss(y, lo, quantile=0.9) == pytest.approx((0.9 + 0 + 0.1 + 4.5) / 4)


@pytest.mark.parametrize("q", [0.05, 0.5, 0.9])
@pytest.mark.parametrize("multioutput", ["uniform_average", "raw_values"])
def test_pinball_loss_is_scikit_learns(two_columns, q, multioutput):
    y_true, y_pred = two_columns
    np.testing.assert_allclose(
        pinball_loss(y_true, y_pred, q, multioutput=multioutput),
        mean_pinball_loss(y_true, y_pred, alpha=q, multioutput=multioutput),
    )


def test_pinball_at_the_median_is_half_the_mae_and_winkler_is_two_pinballs(two_columns):
    y_true, y_pred = two_columns
    assert pinball_loss(y_true, y_pred, 0.5) == pytest.approx(mae(y_true, y_pred) / 2)
    lower, upper = y_pred - 1.0, y_pred + 1.5
    alpha = 0.2
    pinballs = pinball_loss(y_true, lower, alpha / 2) + pinball_loss(y_true, upper, 1 - alpha / 2)
    assert winkler_score(y_true, lower, upper, 1 - alpha) == pytest.approx(2 / alpha * pinballs)


def test_interval_metrics_per_column_of_frames():
    index = pd.date_range("2024-01-01", periods=3, freq="D")
    y = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.0, 0.0, 9.0]}, index=index)
    lo, hi = y - 1.0, y + 1.0
    hi.loc[index[2], "b"] = 8.0  # b at the last step: 9 above [8, 8], a miss
    result = coverage(y, lo, hi, multioutput="raw_values")
    assert list(result.index) == ["a", "b"]
    assert result.tolist() == pytest.approx([1.0, 2 / 3])
    assert interval_width(lo, hi, multioutput="raw_values").tolist() == pytest.approx([2.0, 4 / 3])


def test_interval_metric_errors_are_named():
    with pytest.raises(DataError, match=r"y_lower is above y_upper at 1 point\(s\), the first at"):
        coverage([1.0, 2.0], [0.0, 3.0], [2.0, 2.5])
    with pytest.raises(DataError, match="y_true has shape"):
        winkler_score([1.0, 2.0, 3.0], [0.0, 0.0], [2.0, 2.0], 0.8)
    with pytest.raises(InvalidParameterError, match=r"'quantile' parameter of pinball_loss"):
        pinball_loss([1.0], [1.0], quantile=1.0)
    with pytest.raises(InvalidParameterError, match=r"'coverage' parameter of winkler_score"):
        winkler_score([1.0], [0.0], [2.0], coverage=80)
