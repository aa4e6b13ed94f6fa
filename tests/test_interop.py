"""Converters to and from Darts' TimeSeries and sktime's multi-index panels, on the real packages.

Each test asks for its package through a fixture: without it the test is skipped, unless
``FORECAST_REQUIRE_INTEROP`` lists it (CI), and then it fails (``tests/optional.py``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from optional import optional

from forecast._exceptions import DataError, DataTypeError
from forecast.baselines import NaiveForecaster
from forecast.datasets import load_air_passengers
from forecast.interop import from_darts, from_sktime, to_darts, to_sktime


@pytest.fixture
def darts():
    return optional("darts")


@pytest.fixture
def sktime_datatypes():
    return optional("sktime.datatypes")


# ---------------------------------------------------------------------------- Darts


def test_a_long_frame_is_a_list_of_darts_series_and_back(darts, long_frame) -> None:
    frame = long_frame.assign(level=long_frame["unique_id"].map({"a": 1.0, "b": 2.0, "c": 3.0}))
    series = to_darts(frame, static_covariates="level")  # Nixtla's columns: no arguments
    assert [type(s) for s in series] == [darts.TimeSeries] * 3
    for s, (sid, part) in zip(series, frame.groupby("unique_id"), strict=True):
        assert list(s.components) == ["y"]  # the target; level is a static covariate
        assert s.static_covariates.loc[:, "unique_id"].item() == sid
        assert s.static_covariates.loc[:, "level"].item() == part["level"].iloc[0]
        assert s.freq == pd.offsets.MonthBegin()
        assert list(s.time_index) == list(part["ds"])
        np.testing.assert_array_equal(s.values()[:, 0], part["y"].to_numpy())
    back = from_darts(series)
    assert list(back.columns) == ["unique_id", "ds", "y", "level"]
    expected = frame.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(back, expected, check_dtype=False)
    assert back["ds"].tolist() == expected["ds"].tolist()


def test_a_wide_frame_is_one_darts_series_and_back(darts) -> None:
    df = load_air_passengers()
    series = to_darts(df)
    assert isinstance(series, darts.TimeSeries)
    assert list(series.components) == ["passengers"]
    back = from_darts(series)
    assert back.index.freq == pd.offsets.MonthBegin()
    pd.testing.assert_frame_equal(back, df, check_dtype=False, check_freq=False)
    assert back.index.tolist() == df.index.tolist()


def test_series_made_in_darts_fit_with_no_column_arguments(darts) -> None:
    dates = pd.date_range("2024-01-01", periods=30, freq="D")
    series = [
        darts.TimeSeries.from_times_and_values(dates, np.arange(30.0) * k, columns=["y"])
        for k in (1, 2)
    ]
    frame = from_darts(series)  # no static covariates: ids 0, 1 in list order
    assert list(frame.columns) == ["unique_id", "ds", "y"]
    forecast = NaiveForecaster(horizon=2).fit(frame).predict()
    assert forecast["unique_id"].tolist() == [0, 0, 1, 1]
    assert forecast["y"].tolist() == [29.0, 29.0, 58.0, 58.0]
    assert forecast["ds"].tolist() == list(pd.date_range("2024-01-31", periods=2)) * 2


def test_what_darts_cannot_hold_is_refused(darts, long_frame) -> None:
    zoned = long_frame.assign(ds=long_frame["ds"].dt.tz_localize("Europe/Paris"))
    with pytest.raises(DataTypeError, match=r"time zone Europe/Paris.*tz_convert\('UTC'\)"):
        to_darts(zoned)
    dates = pd.date_range("2024-01-01", periods=5, freq="D")
    samples = darts.TimeSeries.from_times_and_values(dates, np.zeros((5, 1, 10)))
    with pytest.raises(DataError, match=r"10 samples per step.*quantile\(0.5\)"):
        from_darts(samples)
    median = samples.quantile(0.5)
    named = [median.with_static_covariates(pd.DataFrame({"store": [k]})) for k in ("x", "y")]
    with pytest.raises(DataError, match=r"static covariates \['store'\].*id_col="):
        from_darts([median, *named[:1]])
    assert from_darts(named, id_col="store")["store"].unique().tolist() == ["x", "y"]


# ---------------------------------------------------------------------------- sktime


def test_a_long_frame_is_an_sktime_panel_and_back(sktime_datatypes, long_frame) -> None:
    panel = to_sktime(long_frame)
    assert sktime_datatypes.check_is_mtype(panel, "pd-multiindex", return_metadata=False)
    assert panel.index.names == ["unique_id", "ds"]
    back = from_sktime(panel)
    pd.testing.assert_frame_equal(back, long_frame)  # already sorted by id and time
    wide = to_sktime(load_air_passengers())
    assert sktime_datatypes.check_is_mtype(wide, "pd.DataFrame", return_metadata=False)


def test_forecasts_of_an_sktime_panel_are_an_sktime_panel(sktime_datatypes, long_frame):
    panel = to_sktime(long_frame)
    forecast = NaiveForecaster(horizon=3).fit(panel).predict()  # the MultiIndex, as given
    assert forecast.index.names == ["unique_id", "ds"]
    assert sktime_datatypes.check_is_mtype(forecast, "pd-multiindex", return_metadata=False)
    last = long_frame.groupby("unique_id")["y"].last()
    np.testing.assert_array_equal(forecast["y"].to_numpy(), np.repeat(last.to_numpy(), 3))


def test_an_sktime_panel_of_periods_reads_as_timestamps(sktime_datatypes) -> None:
    periods = pd.period_range("2020-01", periods=4, freq="M")
    index = pd.MultiIndex.from_product([["p", "q"], periods], names=["instances", "timepoints"])
    X = pd.DataFrame({"y": np.arange(8.0)}, index=index)
    assert sktime_datatypes.check_is_mtype(X, "pd-multiindex", return_metadata=False)
    frame = from_sktime(X)
    assert list(frame.columns) == ["unique_id", "ds", "y"]
    assert frame["ds"].tolist() == list(pd.date_range("2020-01-01", periods=4, freq="MS")) * 2
    forecast = NaiveForecaster(horizon=1).fit(frame).predict()
    assert forecast["ds"].tolist() == [pd.Timestamp("2020-05-01")] * 2
    hierarchy = pd.concat({"top": X}, names=["region"])
    assert sktime_datatypes.check_is_mtype(hierarchy, "pd_multiindex_hier", return_metadata=False)
    with pytest.raises(DataError, match="3 index levels"):
        from_sktime(hierarchy)


def _wide_polars() -> tuple[pd.DatetimeIndex, object]:
    pl = optional("polars")
    optional("narwhals")
    dates = pd.date_range("2024-01-01", periods=4, freq="D")
    return dates, pl.DataFrame({"date": dates, "sales": [1.0, 2.0, 3.0, 4.0]})


def test_a_wide_frame_without_an_index_needs_its_time_column() -> None:
    # A polars frame has no index: to_sktime gave it back unchanged, its dates a value
    # column of a series indexed 0, 1, 2, 3, without a word. fit refuses it, naming time_col=.
    dates, wide = _wide_polars()
    with pytest.raises(DataTypeError, match=r"RangeIndex.*pass time_col='date'"):
        to_sktime(wide)
    out = to_sktime(wide, time_col="date")
    assert out.index.equals(pd.DatetimeIndex(dates, name="date"))
    assert list(out.columns) == ["sales"]


def test_a_wide_frame_without_an_index_needs_its_time_column_for_darts(darts) -> None:
    _, wide = _wide_polars()
    with pytest.raises(DataTypeError, match=r"RangeIndex.*pass time_col='date'"):
        to_darts(wide)
