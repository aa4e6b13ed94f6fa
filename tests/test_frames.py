"""polars and pyarrow frames wherever a pandas frame goes, and back out (data/frames)."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
from conftest import FAST
from optional import optional

from forecast import LSTMForecaster
from forecast._exceptions import DataTypeError
from forecast.backtest import backtest
from forecast.baselines import NaiveForecaster, SeasonalNaiveForecaster
from forecast.plotting import plot_backtest, plot_forecast

pl = optional("polars")
pa = optional("pyarrow")
optional("narwhals")


def _long(long_frame: pd.DataFrame, ds_type: object) -> pl.DataFrame:
    """The three monthly series of conftest as polars, ``ds`` as ``ds_type`` (local midnights)."""
    frame = pl.from_pandas(long_frame)
    zone = getattr(ds_type, "time_zone", None)
    if zone is None:
        return frame.with_columns(pl.col("ds").cast(ds_type))
    naive = pl.Datetime(ds_type.time_unit)
    return frame.with_columns(pl.col("ds").cast(naive).dt.replace_time_zone(zone))


DS_TYPES = [
    pl.Date,
    pl.Datetime("us"),
    pl.Datetime("ms", time_zone="Europe/Paris"),
    pl.Datetime("ns", time_zone="UTC"),
]


@pytest.mark.parametrize("ds_type", DS_TYPES, ids=str)
def test_a_polars_frame_gets_a_polars_forecast_with_its_own_date_type(long_frame, ds_type):
    frame = _long(long_frame, ds_type)
    model = NaiveForecaster(horizon=3).fit(frame)  # Nixtla's columns: no arguments
    forecast = model.predict()
    assert isinstance(forecast, pl.DataFrame)
    assert forecast.schema == pl.Schema({"unique_id": pl.String, "ds": ds_type, "y": pl.Float64})
    # The same numbers and dates as the pandas path, in each series' own future months.
    expected = NaiveForecaster(horizon=3).fit(long_frame).predict()
    np.testing.assert_array_equal(forecast["y"].to_numpy(), expected["y"].to_numpy())
    assert forecast["unique_id"].to_list() == expected["unique_id"].tolist()
    dates = forecast["ds"].dt.strftime("%Y-%m-%d").to_list()
    assert dates == [d.strftime("%Y-%m-%d") for d in expected["ds"]]
    if getattr(ds_type, "time_zone", None):  # the same instants, in the input's zone
        local = expected["ds"].dt.tz_localize(ds_type.time_zone)
        assert forecast["ds"].to_list() == [t.to_pydatetime() for t in local]


def test_a_pyarrow_table_gets_a_pyarrow_table(long_frame):
    table = pa.Table.from_pandas(long_frame, preserve_index=False)
    forecast = NaiveForecaster(horizon=2).fit(table).predict(table)
    assert isinstance(forecast, pa.Table)
    assert forecast.schema.names == ["unique_id", "ds", "y"]
    assert forecast.schema.field("ds").type == table.schema.field("ds").type
    expected = NaiveForecaster(horizon=2).fit(long_frame).predict()
    np.testing.assert_array_equal(forecast["y"].to_numpy(), expected["y"].to_numpy())


def test_the_library_of_each_call_decides_the_output(long_frame):
    frame = _long(long_frame, pl.Date)
    model = NaiveForecaster(horizon=2).fit(long_frame)  # fitted on pandas
    assert isinstance(model.predict(), pd.DataFrame)
    assert isinstance(model.predict(frame), pl.DataFrame)  # the history's library
    model.fit(frame)
    assert isinstance(model.predict(), pl.DataFrame)  # the fitted frame's
    assert isinstance(model.predict(long_frame), pd.DataFrame)
    assert model.score(frame) == model.score(long_frame)


def test_a_wide_polars_frame_gets_its_time_column_back(sine_frame):
    frame = pl.from_pandas(sine_frame.reset_index())  # date, y, x
    model = LSTMForecaster(seq_len=8, horizon=3, time_col="date", target="y", **FAST).fit(frame)
    forecast = model.predict()
    assert isinstance(forecast, pl.DataFrame)
    assert forecast.columns == ["date", "y"]
    assert forecast.schema["date"] == frame.schema["date"]
    expected = LSTMForecaster(seq_len=8, horizon=3, target="y", **FAST).fit(sine_frame).predict()
    np.testing.assert_array_equal(forecast["y"].to_numpy(), expected["y"].to_numpy())
    assert forecast["date"].to_list() == list(expected.index.to_pydatetime())


def test_known_future_covariates_and_quantile_columns_in_polars():
    n = 120
    t = np.arange(n + 3)
    dates = pd.date_range("2024-01-01", periods=n + 3, freq="D")
    full = pd.DataFrame({"date": dates, "y": np.sin(t / 5), "promo": (t % 7 == 0) * 1.0})
    model = LSTMForecaster(
        seq_len=8, horizon=3, time_col="date", target="y", future_covariates=["promo"],
        quantiles=[0.1, 0.9], **FAST,
    ).fit(pl.from_pandas(full.iloc[:n]))  # fmt: skip
    future = pl.from_pandas(full.iloc[n:][["date", "promo"]])
    forecast = model.predict(future_covariates=future)
    assert isinstance(forecast, pl.DataFrame)
    assert forecast.columns == ["date", "y", "y_q0.1", "y_q0.9"]
    expected = model.predict(future_covariates=full.iloc[n:][["date", "promo"]])
    np.testing.assert_array_equal(forecast["y_q0.9"].to_numpy(), expected["y_q0.9"].to_numpy())


def test_a_polars_backtest_has_polars_tables_with_date_cutoffs(long_frame):
    frame = _long(long_frame, pl.Date)
    result = backtest(SeasonalNaiveForecaster(season_length=12, horizon=3), frame, n_windows=2)
    expected = backtest(
        SeasonalNaiveForecaster(season_length=12, horizon=3), long_frame, n_windows=2
    )
    for got, want in ((result.forecasts, expected.forecasts), (result.metrics, expected.metrics)):
        assert isinstance(got, pl.DataFrame)
        assert got.columns == list(want.columns)
        assert got.schema["cutoff"] == pl.Date
        assert got["cutoff"].to_list() == [d.date() for d in want["cutoff"]]
    assert result.forecasts.schema["ds"] == pl.Date
    np.testing.assert_array_equal(
        result.metrics["mae"].to_numpy(), expected.metrics["mae"].to_numpy()
    )
    summary = result.summary()
    assert isinstance(summary, pl.DataFrame)
    assert summary["target"].to_list() == ["y"]
    assert summary["mase"].item() == expected.summary().loc["y", "mase"]


def test_polars_and_pyarrow_summaries_equal_the_pandas_one(long_frame):
    # Two targets, so the order of the rows counts too. A pyarrow summary raised
    # "'target' is not in list": a Table's .columns are its arrays, not names.
    frame = long_frame.assign(x=long_frame["y"] * 2.0 + 1.0)
    model = NaiveForecaster(horizon=3, target=["y", "x"])
    want = backtest(model, frame, n_windows=2).summary()
    for native in (pl.from_pandas(frame), pa.Table.from_pandas(frame, preserve_index=False)):
        got = backtest(model, native, n_windows=2).summary()
        assert type(got) is type(native)
        pd.testing.assert_frame_equal(got.to_pandas().set_index("target"), want)


def test_plots_take_polars_frames(long_frame):
    frame = _long(long_frame, pl.Date)
    model = NaiveForecaster(horizon=3).fit(frame)
    ax = plot_forecast(model, frame, ids=["a"], n_history=12).axes[0]
    assert [line.get_label() for line in ax.get_lines()][:2] == ["history", "forecast"]
    ax = plot_forecast(model.predict(), frame, ids=["a"], n_history=12).axes[0]
    assert len(ax.get_lines()[1].get_xdata()) == 3
    result = backtest(NaiveForecaster(horizon=3), frame, n_windows=2)
    top, bottom = plot_backtest(result, series="a").axes
    assert (len(top.get_lines()), len(bottom.patches)) == (5, 2)  # actual, 2 forecasts, 2 cutoffs


def test_a_lazy_frame_is_refused_with_the_fix(long_frame):
    lazy = _long(long_frame, pl.Date).lazy()
    with pytest.raises(DataTypeError, match=r"lazy LazyFrame: collect it first"):
        NaiveForecaster(horizon=2).fit(lazy)


def test_without_narwhals_a_polars_frame_is_refused_with_the_install(long_frame, monkeypatch):
    monkeypatch.setitem(sys.modules, "narwhals", None)  # import narwhals raises ImportError
    with pytest.raises(
        DataTypeError, match=r"polars DataFrame; .*pip install 'forecast-rnn\[interop\]'"
    ):
        NaiveForecaster(horizon=2).fit(_long(long_frame, pl.Date))
    # pandas needs no narwhals.
    assert len(NaiveForecaster(horizon=2).fit(long_frame).predict()) == 6


def test_a_loaded_model_answers_in_pandas_unless_given_a_frame(long_frame, tmp_path):
    frame = _long(long_frame, pl.Date)
    model = NaiveForecaster(horizon=2).fit(frame)
    model.save(tmp_path / "m.safetensors")
    loaded = NaiveForecaster.load(tmp_path / "m.safetensors")
    assert loaded.layout_ == model.layout_  # the library is not part of the saved layout
    assert isinstance(loaded.predict(), pd.DataFrame)
    assert isinstance(loaded.predict(frame), pl.DataFrame)
    np.testing.assert_array_equal(loaded.predict()["y"].to_numpy(), model.predict()["y"].to_numpy())
