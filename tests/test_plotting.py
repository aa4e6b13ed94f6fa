"""Plots: each is rendered to PNG with Agg and its artists are checked (lines, bands, labels)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from conftest import FAST
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from sklearn.exceptions import NotFittedError

from forecast import DataError, InvalidParameterError, NaiveForecaster, RNNForecaster
from forecast.backtest import backtest
from forecast.baselines import SeasonalNaiveForecaster
from forecast.datasets import load_air_passengers
from forecast.plotting import plot_backtest, plot_forecast, plot_history

LONG = {"id_col": "unique_id", "time_col": "ds", "target": "y"}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _render(obj, path) -> None:
    """Draw to PNG, as a notebook or a job would; the file must be a real image."""
    (obj if hasattr(obj, "savefig") else obj.figure).savefig(path, dpi=50)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _when(x) -> pd.Timestamp:
    """An x value of a date axis (a matplotlib day number or a timestamp) as a Timestamp."""
    if isinstance(x, float | int | np.number):
        return pd.Timestamp(mdates.num2date(x)).tz_localize(None)
    return pd.Timestamp(x)


def _labels(ax) -> list[str]:
    return [line.get_label() for line in ax.get_lines()]


def _bands(ax) -> list[PolyCollection]:
    return [c for c in ax.collections if isinstance(c, PolyCollection)]


def _legend(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


@pytest.fixture(scope="module")
def air() -> pd.DataFrame:
    return load_air_passengers()


@pytest.fixture(scope="module")
def monthly_forecast(air) -> pd.DataFrame:
    return SeasonalNaiveForecaster(season_length=12, horizon=12).fit(air).predict()


def test_forecast_of_a_model(air, tmp_path) -> None:
    model = SeasonalNaiveForecaster(season_length=12, horizon=12).fit(air)
    ax = plot_forecast(model, air, n_history=48)
    _render(ax, tmp_path / "forecast.png")
    assert _labels(ax) == ["history", "forecast", "forecast origin"]
    history, forecast, origin = ax.get_lines()
    assert len(history.get_xdata()) == 48
    np.testing.assert_array_equal(forecast.get_ydata(), model.predict()["passengers"])
    # The origin is a vertical line at the last observation.
    x0, x1 = origin.get_xdata()
    assert _when(x0) == _when(x1) == air.index[-1]
    assert not _bands(ax)
    assert isinstance(ax.xaxis.get_major_formatter(), mdates.ConciseDateFormatter)
    assert ax.get_title() == "passengers: 12-step forecast"
    assert _legend(ax) == ["history", "forecast", "forecast origin"]


def test_forecast_into_a_given_axes(air, monthly_forecast) -> None:
    _, ax = plt.subplots()
    assert plot_forecast(monthly_forecast, air, ax, title="mine") is ax
    assert ax.get_title() == "mine"


def test_symmetric_quantile_pairs_become_labelled_bands(air, monthly_forecast, tmp_path) -> None:
    fc = monthly_forecast.copy()
    y = fc["passengers"]
    # Agreed layout with the quantile forecasts: f"{target}_q{q:g}".
    fc = fc.assign(
        **{
            "passengers_q0.025": y - 40,
            "passengers_q0.1": y - 20,
            "passengers_q0.9": y + 20,
            "passengers_q0.975": y + 40,
            "passengers_q0.3": y - 5,  # no 0.7: not a band
        }
    )
    ax = plot_forecast(fc, air)
    _render(ax, tmp_path / "bands.png")
    bands = _bands(ax)
    assert [b.get_label() for b in bands] == ["95% interval", "80% interval"]
    assert {"95% interval", "80% interval"} <= set(_legend(ax))
    outer = bands[0].get_paths()[0].vertices[:, 1]
    assert outer.min() == pytest.approx((y - 40).min())
    assert outer.max() == pytest.approx((y + 40).max())
    assert _labels(ax) == ["history", "forecast", "forecast origin"]


def test_median_stands_in_for_a_missing_point_forecast(air, monthly_forecast) -> None:
    y = monthly_forecast["passengers"]
    fc = pd.DataFrame(
        {"passengers_q0.1": y - 9, "passengers_q0.5": y, "passengers_q0.9": y + 9},
        index=monthly_forecast.index,
    )
    ax = plot_forecast(fc, air)
    assert _labels(ax) == ["history", "forecast (median)", "forecast origin"]
    assert [b.get_label() for b in _bands(ax)] == ["80% interval"]


def test_history_reaching_into_the_forecast_is_drawn_as_actuals(air) -> None:
    model = SeasonalNaiveForecaster(season_length=12, horizon=12).fit(air.iloc[:-12])
    ax = plot_forecast(model.predict(), air, n_history=24)
    assert _labels(ax) == ["history", "actual", "forecast", "forecast origin"]
    assert _when(ax.get_lines()[-1].get_xdata()[0]) == air.index[-13]
    assert len(ax.get_lines()[1].get_xdata()) == 13  # joined to the last observation


def test_panel_gets_one_subplot_per_series(long_frame, tmp_path) -> None:
    model = NaiveForecaster(horizon=4, **LONG).fit(long_frame)
    fig = plot_forecast(model, long_frame)
    _render(fig, tmp_path / "panel.png")
    assert len(fig.axes) == 3
    assert [ax.get_title() for ax in fig.axes] == [f"unique_id {s}" for s in "abc"]
    for ax in fig.axes:
        assert _labels(ax) == ["history", "forecast", "forecast origin"]
    # Each series' own origin: they end on different dates.
    ends = long_frame.groupby("unique_id")["ds"].max()
    for ax, sid in zip(fig.axes, "abc", strict=True):
        assert _when(ax.get_lines()[2].get_xdata()[0]) == ends[sid]
    assert fig.get_suptitle() == "y: 4-step forecast"
    one = plot_forecast(model.predict(), long_frame, ids="b", id_col="unique_id", time_col="ds")
    # A panel gives a Figure even for one series, as the docstring now says (it said Axes).
    assert isinstance(one, Figure)
    assert len(one.axes) == 1
    assert one.get_suptitle() == "y: 4-step forecast (1 of 3 series)"
    assert one.axes[0].get_title() == "unique_id b"


def test_panel_is_capped_with_a_warning_naming_the_left_out(long_frame) -> None:
    many = pd.concat(
        [long_frame.assign(unique_id=long_frame["unique_id"] + str(k)) for k in range(3)]
    )  # 9 series
    forecast = NaiveForecaster(horizon=2, **LONG).fit(many).predict()
    with pytest.warns(UserWarning, match=r"first 6 of 9 series; 3 left out.*ids="):
        fig = plot_forecast(forecast, many)  # id and time columns guessed
    assert len(fig.axes) == 6
    assert fig.get_suptitle() == "y: 2-step forecast (6 of 9 series)"
    fig = plot_forecast(forecast, many, ids=["a0", "c2"])
    assert len(fig.axes) == 2
    assert fig.get_suptitle() == "y: 2-step forecast (2 of 9 series)"


def test_multiindex_frames(long_frame) -> None:
    indexed = long_frame.set_index(["unique_id", "ds"])
    forecast = NaiveForecaster(horizon=2).fit(indexed).predict()
    fig = plot_forecast(forecast, indexed, ids=["a", "c"])
    assert [ax.get_title() for ax in fig.axes] == ["unique_id a", "unique_id c"]


def test_plot_forecast_errors(air, long_frame, monthly_forecast) -> None:
    forecast = NaiveForecaster(horizon=2, **LONG).fit(long_frame).predict()
    with pytest.raises(DataError, match=r"unknown series \['z'\]; the data has 3 series"):
        plot_forecast(forecast, long_frame, ids=["a", "z"])
    _, ax = plt.subplots()
    with pytest.raises(InvalidParameterError, match=r"one series into ax=; 3 were chosen"):
        plot_forecast(forecast, long_frame, ax)
    with pytest.raises(DataError, match=r"Target 'sales' is not in the forecast"):
        plot_forecast(monthly_forecast, air, target="sales")
    with pytest.raises(DataError, match=r"no 'passengers' before the forecast's first"):
        plot_forecast(monthly_forecast, air.iloc[:0])
    with pytest.raises(InvalidParameterError, match=r"'max_series' parameter of plot_forecast"):
        plot_forecast(monthly_forecast, air, max_series=0)
    with pytest.raises(TypeError, match=r"Cannot tell where the timestamps"):
        plot_forecast(forecast.reset_index(drop=True).drop(columns="ds"), long_frame)


@pytest.fixture(scope="module")
def seasonal_backtest(air):
    return backtest(
        SeasonalNaiveForecaster(season_length=12, horizon=12), air, n_windows=3, season_length=12
    )


def test_backtest_plot(seasonal_backtest, tmp_path) -> None:
    fig = plot_backtest(seasonal_backtest)
    _render(fig, tmp_path / "backtest.png")
    top, bottom = fig.axes
    cutoffs = ["1957-12-01", "1958-12-01", "1959-12-01"]
    # The actuals, then per window its forecast and a dotted line at its cutoff.
    assert _labels(top)[0] == "actual"
    assert [label for label in _labels(top) if label.startswith("cutoff")] == [
        f"cutoff {c}" for c in cutoffs
    ]
    assert len(top.get_lines()) == 1 + 2 * 3
    assert _legend(top) == ["actual", *[f"cutoff {c}" for c in cutoffs]]
    colours = [line.get_color() for line in top.get_lines()[1::2]]
    assert len({tuple(c) for c in colours}) == 3  # one colour per window
    # One bar per window with the window's MAE, in the window's colour.
    mae = seasonal_backtest.metrics["mae"].to_numpy()
    assert [bar.get_height() for bar in bottom.patches] == pytest.approx(mae)
    assert [tuple(bar.get_facecolor()) for bar in bottom.patches] == [tuple(c) for c in colours]
    assert [t.get_text() for t in bottom.get_xticklabels()] == cutoffs
    assert bottom.get_ylabel() == "MAE"
    assert _legend(bottom) == [f"mean {mae.mean():.4g}"]
    mase = plot_backtest(seasonal_backtest, metric="mase").axes[1]
    assert mase.get_ylabel() == "MASE"


def test_backtest_plot_with_many_windows_keeps_its_legend_short(air) -> None:
    result = backtest(NaiveForecaster(horizon=3), air, n_windows=8)
    top, bottom = plot_backtest(result).axes
    cutoffs = result.metrics["cutoff"].dt.strftime("%Y-%m-%d")
    assert len(top.get_lines()) == 1 + 2 * 8
    assert _legend(top) == ["actual", f"cutoff {cutoffs.iloc[0]}", f"cutoff {cutoffs.iloc[-1]}"]
    assert len(bottom.patches) == 8
    assert {t.get_rotation() for t in bottom.get_xticklabels()} == {30.0}


def test_backtest_plot_draws_each_windows_widest_interval(air, tmp_path) -> None:
    model = SeasonalNaiveForecaster(
        season_length=12, horizon=6, intervals="conformal", coverage=[0.8, 0.95]
    )
    result = backtest(model, air, n_windows=3, step=6)
    cutoffs = pd.DatetimeIndex(pd.unique(result.forecasts["cutoff"])).strftime("%Y-%m-%d")
    top, _ = plot_backtest(result).axes
    _render(top, tmp_path / "backtest_bands.png")
    bands = _bands(top)
    assert len(bands) == 3  # one per window: the 95% interval only
    assert _legend(top) == ["actual", *[f"cutoff {c}" for c in cutoffs], "95% interval"]
    forecasts = result.forecasts.sort_values(["window", "month"])
    for (_, part), band, line in zip(
        forecasts.groupby("window"), bands, top.get_lines()[1::2], strict=True
    ):
        heights = band.get_paths()[0].vertices[:, 1]
        assert heights.min() == pytest.approx(part["forecast_q0.025"].min())
        assert heights.max() == pytest.approx(part["forecast_q0.975"].max())
        assert tuple(band.get_facecolor()[0][:3]) == tuple(line.get_color()[:3])
    many = backtest(model, air, n_windows=8, step=3)
    assert "95% interval" in _legend(plot_backtest(many).axes[0])


def test_backtest_plot_of_a_panel(long_frame) -> None:
    result = backtest(NaiveForecaster(horizon=3, **LONG), long_frame, n_windows=2)
    fig = plot_backtest(result, series="b")
    top, bottom = fig.axes
    assert top.get_title() == "Backtest of y (unique_id b)"
    b = result.forecasts[result.forecasts["unique_id"] == "b"]
    np.testing.assert_array_equal(top.get_lines()[0].get_ydata(), b["actual"].to_numpy()[:6])
    means = result.metrics.groupby("window")["mae"].mean()
    assert [bar.get_height() for bar in bottom.patches] == pytest.approx(means.to_numpy())
    assert bottom.get_xlabel() == "cutoff of unique_id b; MAE mean over 3 series"
    with pytest.raises(DataError, match=r"unknown series \['z'\]"):
        plot_backtest(result, series="z")
    with pytest.raises(InvalidParameterError, match=r"'metric' parameter of plot_backtest.*'mae'"):
        plot_backtest(result, metric="mape")
    with pytest.raises(DataError, match=r"target 'x' is not in the backtest"):
        plot_backtest(result, target="x")


def test_history_plot_marks_the_best_epoch(sine_frame, tmp_path) -> None:
    model = RNNForecaster(seq_len=10, horizon=2, target="y", **{**FAST, "max_epochs": 4})
    model.fit(sine_frame)
    ax = plot_history(model)
    _render(ax, tmp_path / "history.png")
    assert _labels(ax) == [
        "train loss",
        "validation loss",
        f"best epoch {model.best_epoch_} (kept)",
    ]
    train, val, best = ax.get_lines()
    np.testing.assert_allclose(train.get_ydata(), model.history_["train_loss"])
    np.testing.assert_allclose(val.get_ydata(), model.history_["val_loss"])
    assert list(best.get_xdata()) == [model.best_epoch_] * 2
    assert ax.get_xlabel() == "epoch"
    assert ax.get_ylabel() == "mse loss (scaled values)"  # loss=None: once 'None loss'
    assert ax.get_title() == "RNN: loss per epoch"
    assert _legend(ax)[-1].startswith("best epoch")


def test_history_plot_without_validation_or_network(sine_frame) -> None:
    model = RNNForecaster(seq_len=10, horizon=2, validation_size=0, **FAST).fit(sine_frame)
    _, ax = plt.subplots()
    assert plot_history(model, ax, logy=True) is ax
    assert _labels(ax) == ["train loss"]
    assert ax.get_yscale() == "log"
    quantiles = RNNForecaster(seq_len=10, horizon=2, validation_size=0, quantiles=[0.1, 0.9])
    ax = plot_history(quantiles.set_params(**FAST).fit(sine_frame))
    assert ax.get_ylabel() == "pinball loss (scaled values)"
    mae = RNNForecaster(seq_len=10, horizon=2, validation_size=0, loss="mae", **FAST)
    assert plot_history(mae.fit(sine_frame)).get_ylabel() == "mae loss (scaled values)"
    with pytest.raises(NotFittedError):
        plot_history(RNNForecaster())
    with pytest.raises(InvalidParameterError, match=r"NaiveForecaster, which trains no network"):
        plot_history(NaiveForecaster())


def test_tz_aware_data_is_labelled_in_its_own_zone():
    # matplotlib's date ticks default to UTC: Tokyo's midnight would be labelled 15:00.
    index = pd.date_range("2024-03-01 00:00", periods=48, freq="h", tz="Asia/Tokyo")
    df = pd.DataFrame({"y": np.arange(48.0)}, index=index)
    ax = plot_forecast(NaiveForecaster(horizon=6).fit(df), df, n_history=10)
    result = backtest(NaiveForecaster(horizon=6), df, n_windows=2)
    top = plot_backtest(result).figure.axes[0]
    assert "Mar-03" in _tick_labels(ax)  # the tick at local midnight
    for axes in (ax, top):
        local = [mdates.num2date(x, tz=index.tz) for x in axes.get_xticks()]
        hours = [t.strftime("%H:%M") for t in local if t.hour or t.minute]
        assert hours  # hours are labelled as the data's clock reads them
        assert set(hours) <= set(_tick_labels(axes))


def _tick_labels(ax) -> list[str]:
    ax.figure.canvas.draw()
    return [t.get_text() for t in ax.get_xticklabels()]


def test_one_series_with_a_time_column_and_a_series_missing_from_the_history():
    df = pd.DataFrame({"ds": pd.date_range("2024-03-01", periods=48, freq="D"), "y": 1.0})
    model = NaiveForecaster(horizon=6, time_col="ds").fit(df)
    ax = plot_forecast(model, df)  # the forecast is indexed by ds, the history has it as a column
    forecast_line = next(line for line in ax.get_lines() if line.get_label() == "forecast")
    assert len(forecast_line.get_xdata()) == 6
    long = pd.concat([df.assign(id="a"), df.assign(id="b")], ignore_index=True)
    panel = NaiveForecaster(horizon=6, id_col="id", time_col="ds").fit(long)
    with pytest.raises(DataError, match="The history has no rows of id 'b', which the forecast"):
        plot_forecast(panel.predict(), long[long["id"] == "a"])


def _two_daily_series(ids) -> pd.DataFrame:
    ds = pd.date_range("2024-01-01", periods=30, freq="D")
    y = np.r_[np.arange(30) + 100.0, np.arange(30.0)]
    return pd.DataFrame({"unique_id": np.repeat(ids, 30), "ds": np.tile(ds, 2), "y": y})


def test_integer_ids_of_a_forecast_frame_are_read_as_fit_reads_them() -> None:
    # Integer ids in Nixtla's unique_id, ds, y: once drawn as the target, both series in one.
    df = _two_daily_series([7, 3])
    forecast = NaiveForecaster(horizon=3).fit(df).predict()
    fig = plot_forecast(forecast, df, n_history=3)
    assert [ax.get_title() for ax in fig.axes] == ["unique_id 3", "unique_id 7"]
    assert [ax.get_ylabel() for ax in fig.axes] == ["y", "y"]
    history, drawn = fig.axes[1].get_lines()[:2]
    np.testing.assert_array_equal(history.get_ydata(), [127.0, 128.0, 129.0])
    np.testing.assert_array_equal(drawn.get_ydata(), [129.0, 129.0, 129.0])
    # Other names: a number column could be ids or values, so the plot asks.
    names = {"unique_id": "store", "ds": "date", "y": "sales"}
    with pytest.raises(TypeError, match=r"'date' repeat.*Pass id_col=.*\['store', 'sales'\]"):
        plot_forecast(forecast.rename(columns=names), df.rename(columns=names))


def test_arrow_dates_are_read_as_dates() -> None:
    pl = pytest.importorskip("polars")
    pytest.importorskip("pyarrow")
    df = pl.from_pandas(_two_daily_series(["b", "a"])).with_columns(pl.col("ds").cast(pl.Date))
    forecast = NaiveForecaster(horizon=3).fit(df).predict().to_arrow()  # ds is a date32
    fig = plot_forecast(forecast, df.to_arrow(), n_history=3)
    assert [ax.get_title() for ax in fig.axes] == ["unique_id a", "unique_id b"]
    drawn = fig.axes[0].get_lines()[1]
    assert [_when(x) for x in drawn.get_xdata()] == list(
        pd.date_range("2024-01-31", periods=3, freq="D")
    )
    # A wide frame whose time column (named by the model) is a date32 too.
    one = df.filter(pl.col("unique_id") == "a").drop("unique_id").rename({"ds": "date"})
    wide = NaiveForecaster(horizon=3, time_col="date").fit(one).predict().to_arrow()
    ax = plot_forecast(wide, one.to_arrow(), n_history=3)
    np.testing.assert_array_equal(ax.get_lines()[1].get_ydata(), [29.0, 29.0, 29.0])


def test_backtest_cutoffs_within_a_day_are_labelled_with_their_time() -> None:
    # Hourly windows were all labelled by their date: 'cutoff 2024-01-01' twice.
    df = _two_daily_series(["b", "a"])
    df["ds"] = np.tile(pd.date_range("2024-01-01", periods=30, freq="h"), 2)
    fig = plot_backtest(backtest(NaiveForecaster(horizon=3), df, n_windows=3))
    fig.canvas.draw()
    top, bottom = fig.axes
    stamps = ["2024-01-01 20:00", "2024-01-01 23:00", "2024-01-02 02:00"]
    assert _legend(top) == ["actual", *(f"cutoff {s}" for s in stamps)]
    assert [t.get_text() for t in bottom.get_xticklabels()] == stamps
