"""make_future_frame: the known-future covariates a fitted model needs, laid out and filled."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import FAST

from forecast import DataError, DataTypeError, GRUForecaster, NaiveForecaster, fill_gaps, load
from forecast.data.covariates import future_block
from forecast.data.panel import Layout
from forecast.features import calendar_features

HORIZON = 4


def _daily_panel() -> pd.DataFrame:
    """Two stores with different ends, the calendar and a promotion column."""
    parts = []
    for store, end, n in (("a", "2024-03-31", 60), ("b", "2024-03-27", 50)):
        dates = pd.date_range(end=end, periods=n, freq="D")
        parts.append(
            pd.DataFrame(
                {"store": store, "date": dates, "sales": 10 + np.sin(np.arange(n))}
            ).assign(promo=(dates.day % 7 == 0).astype(float))
        )
    sales = pd.concat(parts, ignore_index=True)
    return pd.concat([sales, calendar_features(sales["date"], "D")], axis=1)


CALENDAR = ["day_of_week", "day_of_month", "day_of_year", "month"]


def _model(**params) -> GRUForecaster:
    return GRUForecaster(
        seq_len=7, horizon=HORIZON, validation_size=0, target="sales", **FAST, **params
    )


@pytest.fixture(scope="module")
def fitted() -> GRUForecaster:
    long = {"id_col": "store", "time_col": "date"}
    return _model(future_covariates=[*CALENDAR, "promo"], **long).fit(_daily_panel())


def test_long_frame_has_each_series_own_future_and_the_calendar_filled(fitted):
    future = fitted.make_future_frame()
    assert list(future.columns) == ["store", "date", *CALENDAR, "promo"]
    assert fitted.calendar_features_ == CALENDAR
    for store, first in (("a", "2024-04-01"), ("b", "2024-03-28")):
        rows = future[future["store"] == store]
        expected = pd.date_range(first, periods=HORIZON, freq="D")
        assert pd.DatetimeIndex(rows["date"]).equals(expected)
        # what the user computed for the training frame, at the future dates
        np.testing.assert_array_equal(
            rows[CALENDAR].to_numpy(), calendar_features(expected, "D").to_numpy()
        )
    assert future["promo"].isna().all()  # for the user to fill


def test_unfilled_covariates_are_named_at_predict(fitted):
    future = fitted.make_future_frame()
    with pytest.raises(DataError, match=r"NaN\) in \['promo'\] for series 'a' at \['2024-04-01'"):
        fitted.predict(future_covariates=future)
    future.loc[future["store"] == "a", "promo"] = 0.0
    with pytest.raises(DataError, match=r"in \['promo'\] for series 'b' at \['2024-03-28'"):
        fitted.predict(future_covariates=future)


def test_filled_frame_forecasts_as_a_hand_built_one(fitted):
    future = fitted.make_future_frame().fillna({"promo": 1.0})
    by_hand = []
    for store, end in fitted.make_future_frame().groupby("store")["date"].min().items():
        dates = pd.date_range(end, periods=HORIZON, freq="D")
        by_hand.append(
            pd.concat(
                [
                    pd.DataFrame({"store": store, "date": dates, "promo": 1.0}),
                    calendar_features(dates, "D").reset_index(drop=True),
                ],
                axis=1,
            )
        )
    pd.testing.assert_frame_equal(
        fitted.predict(future_covariates=future),
        fitted.predict(future_covariates=pd.concat(by_hand, ignore_index=True)),
    )


def test_from_a_newer_history(fitted):
    history = _daily_panel()
    history = history[history["date"] <= "2024-03-20"]
    future = fitted.make_future_frame(history)
    assert future.groupby("store")["date"].min().astype(str).to_dict() == {
        "a": "2024-03-21",
        "b": "2024-03-21",
    }


def test_saved_and_loaded(fitted, tmp_path):
    fitted.save(tmp_path / "m.safetensors")
    loaded = load(tmp_path / "m.safetensors")
    assert loaded.calendar_features_ == CALENDAR
    pd.testing.assert_frame_equal(loaded.make_future_frame(), fitted.make_future_frame())


def test_business_days_and_a_custom_calendar():
    days = pd.bdate_range("2024-01-02", "2024-03-29")
    prices = pd.DataFrame({"close": np.linspace(1, 2, len(days))}, index=days)
    model = NaiveForecaster(horizon=3, freq="B").fit(prices)
    assert model.make_future_frame().index.equals(
        pd.DatetimeIndex(["2024-04-01", "2024-04-02", "2024-04-03"])
    )
    easter = pd.offsets.CustomBusinessDay(holidays=["2024-04-01"])  # Easter Monday
    model = NaiveForecaster(horizon=2, freq=easter).fit(prices)
    assert list(model.make_future_frame().index.strftime("%m-%d")) == ["04-02", "04-03"]


def test_wide_calendar_on_business_days_and_a_users_own_month_column():
    days = pd.bdate_range("2024-01-02", periods=60)
    data = pd.DataFrame({"sales": np.linspace(1, 2, 60)}, index=days)
    data = data.join(calendar_features(days, "B")[["day_of_week"]]).assign(month=days.month)
    model = _model(future_covariates=["day_of_week", "month"], freq="B").fit(data)
    future = model.make_future_frame()
    assert model.calendar_features_ == ["day_of_week"]  # 'month' holds 1..12: the user's
    assert future.index.equals(pd.bdate_range(days[-1], periods=HORIZON + 1)[1:])
    np.testing.assert_array_equal(
        future["day_of_week"], calendar_features(future.index, "B")["day_of_week"]
    )
    assert future["month"].isna().all()


def test_multiindex_layout():
    data = _daily_panel().set_index(["store", "date"])
    model = _model(future_covariates=CALENDAR).fit(data)
    future = model.make_future_frame()
    assert future.index.names == ["store", "date"]
    assert not future.isna().any().any()
    assert model.predict(future_covariates=future).shape == (2 * HORIZON, 1)


def test_calendar_features_are_recognised_and_computed_through_a_gap_under_mask():
    # The rows missing='mask' inserts for a gap are NaN: the calendar columns were compared
    # with them too, so none was recognised and predict asked for them as future covariates.
    data = _daily_panel()
    gappy = data.drop(index=[10, 11, 70]).reset_index(drop=True)  # missing days in a and b
    long = {"id_col": "store", "time_col": "date", "freq": "D", "missing": "mask"}
    model = _model(future_covariates=[*CALENDAR, "promo"], **long).fit(gappy)
    assert model.calendar_features_ == CALENDAR
    assert model.missing_columns_ == ["sales", "promo"]  # the calendar computed, not imputed
    future = model.make_future_frame().fillna({"promo": 0.0})
    # as a fit on the gap's rows given, with their calendar values and NaN elsewhere
    filled = fill_gaps(gappy, freq="D", id_col="store", time_col="date")
    filled[CALENDAR] = calendar_features(filled["date"], "D")[CALENDAR]
    given = _model(future_covariates=[*CALENDAR, "promo"], **long).fit(filled)
    expected = given.predict(future_covariates=future)
    pd.testing.assert_frame_equal(model.predict(future_covariates=future), expected)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the calendar is not 'missing at predict'
        history = model.predict(gappy, future_covariates=future)
    pd.testing.assert_frame_equal(history, given.predict(filled, future_covariates=future))


def _filled(model) -> pd.DataFrame:
    return model.make_future_frame().fillna({"promo": 1.0})


def test_a_future_frame_as_fit_takes_its_shape(fitted):
    # set_index([...], drop=False) keeps the ids and timestamps as columns too (fit reads
    # those): pandas' reset_index failed with 'cannot insert store, already exists'
    future = _filled(fitted)
    both = future.set_index(["store", "date"], drop=False)
    pd.testing.assert_frame_equal(
        fitted.predict(future_covariates=both), fitted.predict(future_covariates=future)
    )


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        # a repeated column: numpy's 'cannot reshape array'
        (
            lambda f: pd.concat([f, f[["promo"]]], axis=1),
            DataError,
            r"repeated column names \['promo'\]",
        ),
        # strings: numpy's 'could not convert string to float', or '1.0' read as a number
        # though fit refuses a column of strings
        (
            lambda f: f.assign(promo=f["promo"].map({1.0: "yes"}).astype("category")),
            DataTypeError,
            "column 'promo' must be numeric, as at fit; it has dtype category",
        ),
        (
            lambda f: f.assign(promo=f["promo"].astype(str)),
            DataTypeError,
            "column 'promo' must be numeric, as at fit",
        ),
        # pandas' DateParseError
        (
            lambda f: f.assign(date=f["date"].astype(str).where(f.index != 2, "not a date")),
            DataTypeError,
            "Cannot read the timestamps in future_covariates column 'date' as dates",
        ),
        # scaled, they overflowed: 'refit the model on data that includes it'
        (
            lambda f: f.assign(promo=f["promo"].where(f.index != 1, np.inf)),
            DataError,
            r"column 'promo' has an infinite value for series 'a' at 2024-04-02",
        ),
        (
            lambda f: f.assign(promo=f["promo"].where(f.index != 5, 1e39)),
            DataError,
            r"column 'promo' has a value beyond float32 range for series 'b' at 2024-03-29",
        ),
    ],
    ids=["repeated", "category", "strings", "date", "inf", "beyond-float32"],
)
def test_a_future_frame_fit_would_refuse_is_refused_by_name(fitted, change, error, message):
    with pytest.raises(error, match=message):
        fitted.predict(future_covariates=change(_filled(fitted)))


WIDE = Layout(id_col=None, time_col=None, time_name=None)
LONG = Layout(id_col="id", time_col="ds", time_name="ds")
BERLIN_CUTOFF = pd.DatetimeIndex(["2024-03-29"], tz="Europe/Berlin")  # DST on the 31st


def _zoned_future(layout: Layout, tz: str | None = "Europe/Berlin") -> pd.DataFrame:
    """The 4 days after BERLIN_CUTOFF (across the change to summer time), x = 1..4, in
    ``tz`` (None: Berlin's wall times, naive)."""
    days = pd.date_range("2024-03-30", periods=4, freq="D", tz="Europe/Berlin")
    days = days.tz_localize(None) if tz is None else days.tz_convert(tz)  # None: wall times
    future = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]}, index=days)
    return future if not layout.is_long else future.reset_index(names="ds").assign(id="a")


def _block(frame: pd.DataFrame, layout: Layout, cutoffs=BERLIN_CUTOFF) -> np.ndarray:
    ids = ["a"] if layout.is_long else [None]
    return future_block(frame, ["x"], layout, ids, cutoffs, pd.offsets.Day(), 4).ravel()


@pytest.mark.parametrize("layout", [WIDE, LONG], ids=["wide", "long"])
def test_a_future_frame_in_another_zone_names_the_same_instants(layout):
    expected = [1.0, 2.0, 3.0, 4.0]
    np.testing.assert_array_equal(_block(_zoned_future(layout, "UTC"), layout), expected)
    np.testing.assert_array_equal(_block(_zoned_future(layout, "Asia/Tokyo"), layout), expected)
    if layout.is_long:  # a MultiIndex (id, time) in UTC too
        utc = _zoned_future(layout, "UTC").set_index(["id", "ds"])
        np.testing.assert_array_equal(_block(utc, layout), expected)


@pytest.mark.parametrize(
    ("layout", "fix"),
    [(WIDE, "future.tz_localize('Europe/Berlin')"), (LONG, "future['ds'].dt.tz_localize")],
    ids=["wide", "long"],
)
def test_a_naive_future_frame_for_a_zoned_model_names_both_zones(layout, fix):
    """It was 'no values (or NaN) in ['x'] ... at [every step]': the naive wall times were
    looked up among Berlin's instants."""
    naive = _zoned_future(layout, None)
    with pytest.raises(DataError, match=r"no time zone.*Europe/Berlin") as info:
        _block(naive, layout)
    assert fix in str(info.value)
    assert "no values (or NaN)" not in str(info.value)
    with pytest.raises(
        DataError, match=r"in Europe/Berlin.*have no time zone.*tz_localize\(None\)"
    ):
        _block(_zoned_future(layout), layout, BERLIN_CUTOFF.tz_localize(None))


def test_a_periodindex_future_frame_is_read_as_fit_reads_one():
    """fit reads a wide frame's PeriodIndex (periods' starts); its future frame was refused."""
    months = pd.DataFrame(
        {"x": [1.0, 2.0, 3.0]}, index=pd.period_range("2024-04", periods=3, freq="M")
    )
    cutoff = pd.DatetimeIndex(["2024-03-01"])
    block = future_block(months, ["x"], WIDE, [None], cutoff, pd.offsets.MonthBegin(), 3)
    np.testing.assert_array_equal(block.ravel(), [1.0, 2.0, 3.0])
    days = _zoned_future(WIDE, None).to_period("D")
    np.testing.assert_array_equal(
        _block(days, WIDE, BERLIN_CUTOFF.tz_localize(None)), [1.0, 2.0, 3.0, 4.0]
    )
    with pytest.raises(DataError, match=r"to_timestamp\(\)\.tz_localize\('Europe/Berlin'\)"):
        _block(days, WIDE)


def test_predict_names_the_zones_of_a_future_frame_that_differ_from_the_models(fitted):
    future = _filled(fitted)
    future["date"] = future["date"].dt.tz_localize("UTC")
    with pytest.raises(DataError, match=r"are in UTC .*the model's have no time zone"):
        fitted.predict(future_covariates=future)
