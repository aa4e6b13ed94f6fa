"""The forecast index continues each series' own frequency: days, business days, months, hours."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.tseries.holiday import USFederalHolidayCalendar

from forecast import DataError, LSTMForecaster, RNNForecaster
from forecast.datasets import load_stock_prices
from forecast.frequency import future_times, infer_freq, resolve_freq
from tests.conftest import FAST


def _frame(index: pd.DatetimeIndex) -> pd.DataFrame:
    return pd.DataFrame({"y": np.sin(np.arange(len(index)) / 3.0)}, index=index)


@pytest.mark.parametrize(
    ("freq", "start", "expected"),
    [
        # 30 days from 26 Feb 2024 (a leap year) end on 26 March.
        ("D", "2024-02-26", ["2024-03-27", "2024-03-28", "2024-03-29"]),
        # Friday 2024-03-22 is the 20th business day: the next ones skip the weekend.
        ("B", "2024-02-26", ["2024-03-25", "2024-03-26", "2024-03-27"]),
        ("MS", "2020-01-01", ["2022-07-01", "2022-08-01", "2022-09-01"]),
        ("ME", "2020-01-31", ["2022-07-31", "2022-08-31", "2022-09-30"]),
        ("h", "2024-03-10 00:00", ["2024-03-11 06:00", "2024-03-11 07:00", "2024-03-11 08:00"]),
        # Sunday 7 Jan + 29 weeks = Sunday 28 July.
        ("W-SUN", "2024-01-07", ["2024-08-04", "2024-08-11", "2024-08-18"]),
    ],
)
def test_forecast_index_continues_the_frequency(freq, start, expected) -> None:
    n = {"D": 30, "B": 20, "MS": 30, "ME": 30, "h": 30, "W-SUN": 30}[freq]
    index = pd.date_range(start, periods=n, freq=freq, name="when")
    model = RNNForecaster(seq_len=6, horizon=3, validation_size=0, **FAST).fit(_frame(index))
    forecast = model.predict()
    assert list(forecast.index) == list(pd.DatetimeIndex(expected))
    assert forecast.index.name == "when"
    assert forecast.index.freq == resolve_freq(freq)  # inferred without freq=


def test_trading_days_with_freq_b_on_real_stock_prices() -> None:
    prices = load_stock_prices("MSFT").loc["2017-06-01":]
    with pytest.raises(DataError, match="freq='B'"):
        RNNForecaster(seq_len=20, horizon=5, target="close", **FAST).fit(prices)
    model = LSTMForecaster(seq_len=20, horizon=5, target="close", freq="B", **FAST).fit(prices)
    forecast = model.predict()
    last = prices.index[-1]
    assert list(forecast.index) == list(pd.bdate_range(last, periods=6)[1:])
    assert list(forecast.columns) == ["close"]
    assert np.isfinite(forecast["close"]).all()


def test_custom_business_day_skips_the_holidays_of_its_calendar() -> None:
    trading = pd.offsets.CustomBusinessDay(calendar=USFederalHolidayCalendar())
    index = pd.date_range("2023-11-01", "2023-12-22", freq=trading)
    assert pd.Timestamp("2023-11-23") not in index  # Thanksgiving
    model = RNNForecaster(seq_len=5, horizon=4, freq=trading, **FAST).fit(_frame(index))
    forecast = model.predict()
    # Friday 22 Dec -> Tue 26 Dec (Christmas Monday is a holiday), Wed 27, Thu 28, Fri 29.
    assert list(forecast.index) == list(
        pd.DatetimeIndex(["2023-12-26", "2023-12-27", "2023-12-28", "2023-12-29"])
    )


def test_data_off_the_given_calendar_is_an_error() -> None:
    index = pd.date_range("2024-01-01", periods=20, freq="D")  # includes weekends
    with pytest.raises(DataError, match=r"2024-01-06 00:00:00 of the series is not on freq 'B'"):
        RNNForecaster(seq_len=5, horizon=2, freq="B", **FAST).fit(_frame(index))


def test_a_long_business_day_hole_is_used_in_order_with_a_warning() -> None:
    index = pd.bdate_range("2024-01-01", periods=40)
    index = index.delete(slice(10, 20))  # two weeks missing
    with pytest.warns(UserWarning, match=r"hole\(s\) longer than 5 business days"):
        RNNForecaster(seq_len=5, horizon=2, freq="B", **FAST).fit(_frame(index))


def test_future_times_per_series() -> None:
    last = pd.DatetimeIndex(["2024-01-31", "2024-02-29"])
    steps = future_times(last, pd.offsets.MonthEnd(), 2)
    assert list(steps[0]) == list(pd.DatetimeIndex(["2024-02-29", "2024-03-31"]))
    assert list(steps[1]) == list(pd.DatetimeIndex(["2024-03-31", "2024-04-30"]))


def test_infer_freq_needs_three_timestamps() -> None:
    with pytest.raises(DataError, match=r"has 2 timestamp\(s\).*Pass freq="):
        infer_freq(pd.DatetimeIndex(["2024-01-01", "2024-01-02"]), "series 'a'")
