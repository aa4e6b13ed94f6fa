"""The forecast index continues each series' own frequency: days, business days, months, hours."""

from __future__ import annotations

import re
import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas.tseries.holiday import USFederalHolidayCalendar

from forecast import (
    DataError,
    LSTMForecaster,
    NaiveForecaster,
    RNNForecaster,
    SeasonalNaiveForecaster,
)
from forecast.data import frequency
from forecast.data.frequency import check_on_frequency, future_times, infer_freq, resolve_freq
from forecast.datasets import load_stock_prices
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


# --- check_on_frequency runs once over the whole panel; a per-series pandas check is the oracle.

_NUDGE = {"D": "1h", "h": "1min", "MS": "1D", "W-SUN": "1D", "B": "1D"}


def _follows(times: pd.DatetimeIndex, offset: pd.offsets.BaseOffset) -> bool:
    """The slow, obvious check of one series: every stamp on the grid, no step skipped (a
    business-day series may skip days: holidays)."""
    if isinstance(offset, pd.offsets.BusinessDay):
        return all(offset.is_on_offset(t) for t in times)
    return times.equals(pd.date_range(times[0], periods=len(times), freq=offset))


@st.composite
def _panels(draw):
    freq = draw(st.sampled_from(sorted(_NUDGE)))
    offset = resolve_freq(freq)
    series = []
    for _ in range(draw(st.integers(1, 4))):
        start = offset.rollforward(
            pd.Timestamp("2024-01-01") + pd.Timedelta(days=draw(st.integers(0, 40)))
        )
        times = pd.date_range(start, periods=draw(st.integers(2, 12)), freq=offset)
        change = draw(st.sampled_from(["none", "none", "drop", "nudge"]))
        k = draw(st.integers(1, len(times) - 1))
        if change == "drop" and len(times) > 2:
            times = times.delete(k)
        elif change == "nudge":
            stamps = times.to_list()
            stamps[k] = stamps[k] + pd.Timedelta(_NUDGE[freq])
            if k + 1 < len(stamps) and stamps[k] >= stamps[k + 1]:
                stamps[k] = stamps[k - 1] + pd.Timedelta(_NUDGE[freq])  # keep them sorted
            times = pd.DatetimeIndex(stamps)
        series.append(times)
    return offset, series


@pytest.mark.parametrize("rows_per_block", [2, 5, frequency._ROWS_PER_BLOCK])
@settings(max_examples=100, deadline=None)
@given(case=_panels())
def test_the_panel_check_names_the_first_series_the_per_series_check_fails(
    case, rows_per_block
) -> None:
    with pytest.MonkeyPatch.context() as patch:  # blocks of 2 and 5 rows cut through series
        patch.setattr(frequency, "_ROWS_PER_BLOCK", rows_per_block)
        _check_against_the_oracle(*case)


def _check_against_the_oracle(offset, series) -> None:
    times = pd.DatetimeIndex(np.concatenate([t.values for t in series]))
    offsets = np.concatenate([[0], np.cumsum([len(t) for t in series])])
    ids = [f"s{i}" for i in range(len(series))]
    failing = [i for i, t in enumerate(series) if not _follows(t, offset)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # business-day holes: tested below
        if not failing:
            check_on_frequency(times, offsets, ids, offset)  # series may overlap in time
            return
        first = series[failing[0]]
        # Stamps off a calendar grid are named as such; fixed steps (days, hours) only gap.
        off_grid = offset.freqstr not in ("D", "h") and not all(map(offset.is_on_offset, first))
        kind = "is not on freq" if off_grid else "do not follow freq"
        with pytest.raises(
            DataError, match=f"series 's{failing[0]}'.*{kind}|{kind}.*series 's{failing[0]}'"
        ):
            check_on_frequency(times, offsets, ids, offset)


def test_a_gap_at_a_series_boundary_is_not_a_gap() -> None:
    # Series b starts before a ends and after a jump: only steps inside a series count.
    a = pd.date_range("2024-01-10", periods=5, freq="D")
    b = pd.date_range("2024-01-01", periods=5, freq="D")
    check_on_frequency(a.append(b), np.array([0, 5, 10]), ["a", "b"], resolve_freq("D"))


@pytest.mark.parametrize("rows_per_block", [3, frequency._ROWS_PER_BLOCK])
def test_business_day_holes_warn_per_series_until_the_first_error(
    rows_per_block, monkeypatch
) -> None:
    monkeypatch.setattr(frequency, "_ROWS_PER_BLOCK", rows_per_block)  # 3: holes span blocks
    one_hole = pd.bdate_range("2024-01-01", periods=40).delete(slice(10, 20))
    two_holes = one_hole.delete(slice(20, 28))
    # 'c' has a hole too, then a Saturday: the error, and no warning for 'c' itself.
    hole_then_weekend = pd.bdate_range("2024-01-01", periods=5).append(
        pd.DatetimeIndex(["2024-01-22", "2024-01-27"])
    )
    parts = [one_hole, two_holes, hole_then_weekend, one_hole]
    times = parts[0].append(parts[1:])
    offsets = np.cumsum([0, *map(len, parts)])
    with (
        pytest.warns(UserWarning, match=r"hole\(s\) longer than 5 business days") as caught,
        pytest.raises(DataError, match=r"2024-01-27 00:00:00 of series 'c' is not on freq 'B'"),
    ):
        check_on_frequency(times, offsets, ["a", "b", "c", "d"], resolve_freq("B"))
    messages = [str(w.message) for w in caught]
    assert [m.split(" has ")[0] for m in messages] == ["Series 'a'", "Series 'b'"]
    assert "has 1 hole(s)" in messages[0]
    assert "has 2 hole(s)" in messages[1]
    assert "the first between 2024-01-12 00:00:00 and 2024-01-29 00:00:00" in messages[1]


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_fixed_steps_are_checked_in_the_data_s_own_unit(unit) -> None:
    times = pd.date_range("2024-03-09", periods=48, freq="h", tz="America/New_York").as_unit(unit)
    check_on_frequency(times, np.array([0, 48]), [None], resolve_freq("h"))  # across DST
    with pytest.raises(DataError, match="do not follow freq '30min'"):
        check_on_frequency(times, np.array([0, 48]), [None], resolve_freq("30min"))
    if unit == "s":  # 1.5 s is no whole number of seconds: never a step of this data
        seconds = pd.date_range("2024-01-01", periods=3, freq="s").as_unit("s")
        with pytest.raises(DataError, match="do not follow freq '1500ms'"):
            check_on_frequency(seconds, np.array([0, 3]), [None], resolve_freq("1500ms"))


def test_the_panel_check_holds_no_array_over_the_whole_panel() -> None:
    # 2M rows: differences or grid positions of all of them at once would be 16 MB of int64.
    offsets = np.arange(0, 2_000_001, 2_000)
    for freq in ("D", "MS"):  # a fixed step, and a calendar grid
        one = pd.date_range("2000-01-01", periods=2_000, freq=freq)
        times = pd.DatetimeIndex(np.tile(one.values, 1_000))
        tracemalloc.start()
        tracemalloc.reset_peak()  # start() does nothing if tracing is already on
        try:
            check_on_frequency(times, offsets, list(range(1_000)), resolve_freq(freq))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 4e6, f"{freq}: {peak / 1e6:.1f} MB"


# ------------------------------------------------------------- time zones across DST


def _berlin(start: str, n: int = 40, freq: str = "D") -> pd.DataFrame:
    index = pd.date_range(start, periods=n, freq=freq, tz="Europe/Berlin", name="when")
    return pd.DataFrame({"y": np.sin(np.arange(n) / 3) + 2}, index=index)


@pytest.mark.parametrize("start", ["2021-03-10", "2021-10-15"])  # spring and autumn changes
@pytest.mark.parametrize("freq", [None, "D", pd.offsets.Day()])
def test_tz_aware_daily_data_across_dst_follows_the_local_calendar(start, freq) -> None:
    # A 23- or 25-hour day was refused ("do not follow freq 'D'").
    frame = _berlin(start)
    model = RNNForecaster(seq_len=6, horizon=3, freq=freq, validation_size=0, **FAST).fit(frame)
    assert model.freq_ == pd.offsets.Day()
    forecast = model.predict()
    expected = pd.date_range(frame.index[-1], periods=4, freq="D")[1:]  # local midnights
    assert list(forecast.index) == list(expected)
    assert (forecast.index == forecast.index.normalize()).all()
    naive = NaiveForecaster(horizon=3, freq=freq).fit(frame).predict()
    assert list(naive.index) == list(expected)


def test_forecasts_cross_a_dst_change_at_local_midnights() -> None:
    frame = _berlin("2021-10-01", n=29)  # ends 2021-10-29; clocks go back on the 31st
    forecast = NaiveForecaster(horizon=4).fit(frame).predict()
    assert [str(t) for t in forecast.index] == [
        "2021-10-30 00:00:00+02:00",
        "2021-10-31 00:00:00+02:00",
        "2021-11-01 00:00:00+01:00",
        "2021-11-02 00:00:00+01:00",
    ]
    long = frame.reset_index().assign(unique_id="a")
    out = NaiveForecaster(horizon=4, id_col="unique_id", time_col="when").fit(long).predict()
    assert list(out["when"]) == list(forecast.index)


@pytest.mark.parametrize("model", ["naive", "seasonal"])
def test_a_history_written_in_another_zone_is_read_on_the_models_calendar(model) -> None:
    # A Berlin model given its history in UTC forecast 23:00 UTC on a UTC calendar: after the
    # change to summer time that is 01:00 in Berlin (and weekday features read the day before).
    frame = _berlin("2024-03-01", n=29)  # ends 2024-03-29; clocks go forward on the 31st
    if model == "naive":
        fitted = NaiveForecaster(horizon=4).fit(frame)
    else:
        fitted = SeasonalNaiveForecaster(season_length=7, horizon=4).fit(frame)
    in_utc = frame.tz_convert("UTC")
    with pytest.warns(UserWarning, match="in UTC, the model's in Europe/Berlin: they were conv"):
        got = fitted.predict(in_utc)
    pd.testing.assert_frame_equal(got, fitted.predict())
    assert str(got.index[-1]) == "2024-04-02 00:00:00+02:00"
    with pytest.warns(UserWarning, match="converted to Europe/Berlin"):  # across the change
        later = fitted.predict(_berlin("2024-03-10", n=25).tz_convert("UTC"))
    assert (later.index == later.index.normalize()).all()


def test_the_suggested_resample_gives_data_that_fits() -> None:
    hourly = _berlin("2021-03-20", n=24 * 20, freq="h")
    daily = hourly.resample("D").mean()
    NaiveForecaster(horizon=2).fit(daily)  # was refused like the raw daily data


def test_tz_aware_hourly_data_keeps_absolute_hours_across_dst() -> None:
    frame = _berlin("2021-03-27 12:00", n=12, freq="h")  # 02:00 on the 28th does not exist
    forecast = NaiveForecaster(horizon=3).fit(frame).predict()
    steps = np.diff(pd.DatetimeIndex([frame.index[-1], *forecast.index]).asi8)
    assert (steps == steps[0]).all()  # one absolute hour each
    shifted = frame.iloc[:-1].index[-1]
    assert NaiveForecaster(horizon=1).fit(frame.iloc[:-1]).predict().index[0] - shifted == (
        pd.Timedelta(hours=1)
    )


@pytest.mark.parametrize("freq", ["MS", "W-SUN", "B"])
def test_tz_aware_calendar_frequencies_across_dst(freq) -> None:
    frame = _berlin("2021-01-04", n=40, freq=freq)
    forecast = NaiveForecaster(horizon=3).fit(frame).predict()
    expected = pd.date_range(frame.index[-1], periods=4, freq=freq)[1:]
    assert list(forecast.index) == list(expected)
    assert (forecast.index == forecast.index.normalize()).all()


def test_a_daily_gap_in_tz_aware_data_is_still_refused() -> None:
    frame = _berlin("2021-03-10").drop(pd.Timestamp("2021-03-29", tz="Europe/Berlin"))
    with pytest.raises(DataError, match=r"first gap is between 2021-03-28 00:00:00\+01:00"):
        NaiveForecaster(horizon=2, freq="D").fit(frame)


def test_a_local_midnight_that_does_not_exist_moves_forward() -> None:
    # Chile changes its clocks at 00:00: 2022-09-11 00:00 does not exist there.
    last = pd.DatetimeIndex(["2022-09-10"], tz="America/Santiago")
    first, second = future_times(last, pd.offsets.Day(), 2)
    assert str(first[0]) == "2022-09-11 01:00:00-03:00"
    assert str(second[0]) == "2022-09-12 00:00:00-03:00"


# ------------------------------------------------------------------ mid-month data


@pytest.mark.parametrize("tz", [None, "Europe/Berlin"])
def test_monthly_data_stamped_mid_month_is_inferred_and_continued(tmp_path, tz) -> None:
    # Monthly means stamped on the 15th (climate, billing): pandas.infer_freq has no alias.
    from forecast import SeasonalNaiveForecaster, load

    index = pd.date_range("2020-01-15", periods=40, freq=pd.DateOffset(months=1), tz=tz)
    df = pd.DataFrame({"y": 10.0 + np.arange(40) % 12}, index=index)  # January is 10
    model = SeasonalNaiveForecaster(horizon=4, season_length=12).fit(df)
    assert model.freq_ == pd.DateOffset(months=1)
    fc = model.predict()
    expected = pd.date_range("2023-05-15", periods=4, freq=pd.DateOffset(months=1), tz=tz)
    pd.testing.assert_index_equal(fc.index, expected, check_names=False)
    assert fc["y"].tolist() == [14.0, 15.0, 16.0, 17.0]  # May..August of the last year
    model.save(tmp_path / "m.safetensors")
    again = load(tmp_path / "m.safetensors")
    assert again.freq_ == pd.DateOffset(months=1)
    pd.testing.assert_frame_equal(again.predict(), fc, check_exact=True)


def test_quarterly_data_on_another_day_and_its_season_positions() -> None:
    from forecast.data.seasonality import season_positions

    index = pd.date_range("2019-02-10", periods=12, freq=pd.DateOffset(months=3))
    assert infer_freq(index, "the series") == pd.DateOffset(months=3)
    # Counted from a fixed epoch, as for 'QS': the same position every fourth quarter.
    positions = season_positions(index, pd.DateOffset(months=3), 4)
    assert positions.tolist() == positions[:4].tolist() * 3
    assert len(set(positions[:4].tolist())) == 4
    monthly = pd.date_range("2019-01-15", periods=24, freq=pd.DateOffset(months=1))
    assert season_positions(monthly, pd.DateOffset(months=1), 12).tolist() == list(range(12)) * 2


@pytest.mark.parametrize(
    ("start", "named"),
    [
        ("2020-01-01", ""),
        ("2020-01-15", " (On day 15 of the month: freq=pandas.DateOffset(months=1).)"),
    ],
)
def test_a_missing_month_is_named_where_it_is(start, named) -> None:
    index = pd.date_range(start, periods=36, freq=pd.DateOffset(months=1))
    df = _frame(index).drop(index[10])  # November 2020
    message = (
        f"the usual step is 1 month(s), but the first other step is between {index[9]} and "
        f"{index[11]}. Pass freq= if the data is regular at another frequency.{named} If "
    )
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        NaiveForecaster(horizon=2).fit(df)
    fitted = NaiveForecaster(horizon=2, freq=pd.DateOffset(months=1), missing="mask").fit(df)
    assert fitted.predict().index[0] == index[-1] + pd.DateOffset(months=1)


def test_days_29_to_31_are_not_read_as_month_steps() -> None:
    # A month step from 30 January lands on 29 February, then drifts to the 29th.
    index = pd.DatetimeIndex(["2020-01-30", "2020-02-29", "2020-03-30", "2020-04-30"])
    with pytest.raises(DataError, match="irregular"):
        infer_freq(index, "the series")


def test_month_steps_round_trip_through_the_model_file_codec() -> None:
    from forecast.io.codecs import NotEncodable, decode_offset, encode_offset

    for offset in (pd.DateOffset(months=1), pd.DateOffset(months=3), 2 * pd.DateOffset(months=6)):
        encoded = encode_offset(offset)
        assert encoded["kind"] == "DateOffset"
        assert decode_offset(encoded) == offset
    with pytest.raises(NotEncodable, match="cannot be saved"):
        encode_offset(pd.DateOffset(days=3))
    from forecast.features import calendar_features

    stamps = pd.date_range("2021-01-15", periods=3, freq=pd.DateOffset(months=1))
    assert list(calendar_features(stamps).columns) == ["month"]


def test_three_stamps_a_month_apart_are_months_not_31_days() -> None:
    # pandas answers '31D' (and '92D', '365D'): the forecast would drift off the 15th.
    for stamps, months in [
        (["2021-07-15", "2021-08-15", "2021-09-15"], 1),
        (["2021-07-15", "2021-10-15", "2022-01-15"], 3),
        (["2021-03-15", "2022-03-15", "2023-03-15"], 12),
    ]:
        assert infer_freq(pd.DatetimeIndex(stamps), "the series") == pd.DateOffset(months=months)
    daily = pd.date_range("2021-01-15", periods=3, freq="31D")  # 15 Jan, 15 Feb, 18 Mar
    assert infer_freq(daily, "the series") == pd.tseries.frequencies.to_offset("31D")


def test_mid_month_series_on_different_days_are_named_and_gaps_give_runnable_code() -> None:
    from forecast import fill_gaps

    on_15th = pd.date_range("2020-01-15", periods=24, freq=pd.DateOffset(months=1))
    on_10th = pd.date_range("2020-06-10", periods=12, freq=pd.DateOffset(months=1))
    panel = pd.concat(
        [
            pd.DataFrame({"unique_id": "a", "ds": on_15th, "y": 1.0}),
            pd.DataFrame({"unique_id": "b", "ds": on_10th, "y": 2.0}),
        ]
    )
    with pytest.raises(
        DataError, match=r"different days of the month: 2020-01-15 .*'a'.*2020-06-10 .*'b'"
    ):
        NaiveForecaster(horizon=2).fit(panel)
    gappy = panel[panel["unique_id"] == "a"].drop(index=5)
    code = "forecast.fill_gaps(df, freq=pandas.DateOffset(months=1), id_col='unique_id'"
    with pytest.raises(DataError, match=re.escape(code)):
        NaiveForecaster(horizon=2, freq=pd.DateOffset(months=1)).fit(gappy)
    # fill_gaps from a start bound before the data: on the data's day, not the bound's
    wide = pd.DataFrame({"y": 1.0}, index=on_15th)
    filled = fill_gaps(wide, freq=pd.DateOffset(months=1), start="2019-11-01")
    assert filled.index[:3].strftime("%Y-%m-%d").tolist() == [
        "2019-11-15",
        "2019-12-15",
        "2020-01-15",
    ]


def test_the_model_card_names_a_month_step(tmp_path) -> None:
    index = pd.date_range("2020-01-15", periods=12, freq=pd.DateOffset(months=3))
    NaiveForecaster(horizon=2).fit(_frame(index)).save(tmp_path / "m.safetensors")
    from forecast import load

    assert "every 3 month(s), on the data's day of the month" in str(
        load(tmp_path / "m.safetensors").card()
    )
