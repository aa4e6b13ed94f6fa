"""Bad input: a clear error before any training, naming the column, series, timestamp and fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast import DataError, DataTypeError, InvalidParameterError, NaiveForecaster, RNNForecaster
from forecast.data.panel import to_panel
from tests.conftest import FAST


@pytest.fixture(autouse=True)
def no_training(monkeypatch):
    """Every error here must come before Lightning starts: make training itself fail loudly."""

    def refuse(*args, **kwargs):
        raise AssertionError("training started before the input was validated")

    monkeypatch.setattr("forecast.neural.training.fit_module", refuse)


def _model(**params) -> RNNForecaster:
    return RNNForecaster(**{"seq_len": 5, "horizon": 2, **FAST, **params})


def _daily(n: int = 40, **columns) -> pd.DataFrame:
    index = pd.date_range("2021-03-01", periods=n, freq="D", name="date")
    data = columns or {"y": np.arange(n, dtype=float)}
    return pd.DataFrame(data, index=index)


@pytest.mark.parametrize(("bad", "kind"), [(np.nan, "NaN"), (np.inf, "an infinite value")])
def test_nan_or_inf_names_the_column_and_first_timestamp(bad, kind) -> None:
    df = _daily(y=np.arange(40.0), x=np.ones(40))
    df.iloc[17, 1] = bad
    df.iloc[30, 1] = bad
    with pytest.raises(DataError, match=rf"Column 'x' has {kind} at 2021-03-18.*2 such value"):
        _model(target="y").fit(df)


def test_nan_in_a_long_frame_names_the_series() -> None:
    df = pd.DataFrame(
        {
            "id": ["a"] * 20 + ["b"] * 20,
            "t": list(pd.date_range("2020-01-01", periods=20, freq="h")) * 2,
            "y": np.arange(40.0),
        }
    )
    df.loc[25, "y"] = np.nan
    with pytest.raises(DataError, match=r"'y' has NaN at 2020-01-01 05:00:00 in series 'b'"):
        _model(id_col="id", time_col="t").fit(df)


def test_duplicate_timestamps_are_an_error_naming_the_timestamp() -> None:
    df = _daily()
    df = pd.concat([df.iloc[:10], df.iloc[9:]])
    with pytest.raises(DataError, match=r"Duplicate timestamp 2021-03-10.*aggregate"):
        _model().fit(df)


def test_duplicate_in_a_long_frame_names_the_series() -> None:
    df = pd.DataFrame(
        {"id": [3, 3, 3, 4, 4, 4], "t": pd.to_datetime(["2020-01-01"] * 2 + ["2020-01-02"] * 4)}
    )
    df["y"] = 1.0
    with pytest.raises(DataError, match=r"Duplicate timestamp 2020-01-01 00:00:00 in series 3\."):
        to_panel(df, id_col="id", time_col="t")


def test_unsorted_timestamps_are_sorted_with_a_warning() -> None:
    df = _daily()
    shuffled = df.sample(frac=1.0, random_state=0)
    with pytest.warns(UserWarning, match="not in increasing order; the rows were sorted"):
        panel, _ = to_panel(shuffled)
    np.testing.assert_array_equal(panel.values[:, 0], df["y"].to_numpy(dtype=np.float32))
    np.testing.assert_array_equal(panel.times.to_numpy(), df.index.to_numpy())


def test_interleaved_long_rows_are_not_a_warning(long_frame) -> None:
    by_date = long_frame.sort_values(["ds", "unique_id"])
    panel, _ = to_panel(by_date, id_col="unique_id", time_col="ds")  # warnings are errors here
    # c's rows come first by date, but series are numbered by sorted id.
    assert by_date["unique_id"].iloc[0] == "c"
    assert panel.ids == ["a", "b", "c"]
    assert panel.lengths.tolist() == [60, 48, 72]


def test_index_that_is_not_datetime_and_no_time_col() -> None:
    df = _daily().reset_index(drop=True)
    with pytest.raises(DataTypeError, match=r"index is a RangeIndex, not datetime-like.*time_col"):
        _model().fit(df)


@pytest.mark.parametrize(
    "steps",
    [
        np.arange(1, 31),  # time steps, as in Nixtla's unique_id / ds / y frames
        np.arange(1990, 2020),  # years
        np.arange(1, 31, dtype=float),
        pd.array(np.arange(1, 31), dtype="Int64"),
        np.arange(1, 31).astype(object),
        pd.Categorical(np.arange(1, 31)),
    ],
    ids=["int", "years", "float", "nullable", "object", "categorical"],
)
def test_numbers_in_the_time_column_are_refused_not_read_as_nanoseconds(steps) -> None:
    # pandas.to_datetime reads 1, 2, 3 as 1970-01-01 00:00:00.000000001, ...: a forecast
    # dated in 1970 with a nanosecond step, without a word.
    df = pd.DataFrame({"unique_id": "a", "ds": steps, "y": np.arange(30.0)})
    refusal = r"timestamps in column 'ds' are numbers .*nanoseconds after 1970.*to_datetime"
    with pytest.raises(DataTypeError, match=refusal):
        NaiveForecaster(horizon=2).fit(df)
    with pytest.raises(DataTypeError, match=refusal):
        NaiveForecaster(horizon=2).fit(df.set_index(["unique_id", "ds"]))
    dated = df.assign(ds=pd.date_range("2000-01-01", periods=30, freq="D"))
    model = NaiveForecaster(horizon=2).fit(dated)
    with pytest.raises(DataTypeError, match=refusal):
        model.predict(df)


def test_a_date_column_is_suggested_as_time_col() -> None:
    df = _daily().reset_index()
    with pytest.raises(DataTypeError, match=r"Column 'date' holds dates: pass time_col='date'"):
        _model().fit(df)


def test_time_col_gives_a_wide_frame_its_timestamps() -> None:
    df = _daily().reset_index()
    panel, layout = to_panel(df, time_col="date")
    assert panel.freq == pd.offsets.Day()
    assert layout.time_name == "date"


def test_irregular_timestamps_without_freq_name_the_first_gap() -> None:
    df = _daily(60).drop(pd.Timestamp("2021-03-20"))
    with pytest.raises(
        DataError,
        match=r"irregular.*first other step is between 2021-03-19 00:00:00 and 2021-03-21.*"
        r"Pass freq=.*resample",
    ):
        _model().fit(df)


def test_wrong_freq_names_the_first_gap() -> None:
    df = _daily(30, y=np.arange(30.0)).drop(pd.Timestamp("2021-03-05"))
    with pytest.raises(DataError, match=r"do not follow freq 'D'.*2021-03-04.*2021-03-06"):
        _model(freq="D").fit(df)


def test_weekday_only_data_without_freq_suggests_business_days() -> None:
    days = pd.bdate_range("2021-01-04", periods=60)
    days = days.drop(pd.Timestamp("2021-01-18"))  # Martin Luther King Jr. Day
    df = pd.DataFrame({"close": np.arange(59.0)}, index=days)
    with pytest.raises(DataError, match=r"trading days.*freq='B'.*CustomBusinessDay"):
        _model().fit(df)


def test_series_shorter_than_one_window_plus_validation() -> None:
    df = _daily(8)
    with pytest.raises(
        DataError, match=r"Too few rows to train: the series has 8.*seq_len \+ horizon = 7.*2"
    ):
        _model(validation_size=2).fit(df)


def test_short_series_in_a_panel_are_listed(long_frame) -> None:
    with pytest.raises(DataError, match=r"series 'a' has 60, series 'b' has 48"):
        _model(seq_len=55, horizon=3, validation_size=3, id_col="unique_id", time_col="ds").fit(
            long_frame
        )


def test_non_numeric_target() -> None:
    df = _daily(y=np.arange(40.0).astype(str))
    with pytest.raises(DataTypeError, match=r"Target column 'y' must be numeric.*to_numeric"):
        _model(target="y").fit(df)


def test_missing_target_lists_the_columns() -> None:
    df = _daily(price=np.arange(40.0), volume=np.ones(40))
    with pytest.raises(DataError, match=r"Target column 'close' is not in the data.*'price'"):
        _model(target="close").fit(df)


def test_non_numeric_covariates_are_ignored_with_a_warning() -> None:
    df = _daily(y=np.arange(40.0), sector=["tech"] * 40)
    with pytest.warns(UserWarning, match=r"Non-numeric columns \['sector'\] are not used"):
        panel, _ = to_panel(df, target="y")
    assert panel.covariate_names == []


def test_missing_id_or_time_column() -> None:
    df = _daily().reset_index()
    with pytest.raises(DataError, match=r"id_col='store' is not a column"):
        _model(id_col="store", time_col="date").fit(df)
    with pytest.raises(DataError, match=r"id_col='y' needs time_col="):
        to_panel(df, id_col="y")


def test_not_a_dataframe() -> None:
    with pytest.raises(DataTypeError, match=r"Expected a pandas DataFrame, got ndarray"):
        _model().fit(np.arange(40.0))


def test_empty_frame() -> None:
    with pytest.raises(DataError, match="empty"):
        _model().fit(_daily().iloc[:0])


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        ("seq_len", 0, r"'seq_len' parameter of RNNForecaster must be an int >= 1. Got 0"),
        ("horizon", 1.5, r"'horizon' parameter of RNNForecaster must be an int"),
        ("cell", "transformer", r"'cell' parameter of RNNForecaster must be one of"),
        ("loss", "rmsle", r"'loss' parameter"),
        ("dropout", 1.0, r"'dropout' parameter.*< 1"),
        ("learning_rate", 0.0, r"'learning_rate' parameter.*> 0"),
        ("validation_size", 1.5, r"'validation_size' parameter"),
        ("validation_size", 1, r"'validation_size'.*0 or at least horizon=2"),
        ("scaler", "robust", r"'scaler' parameter"),
        ("lr_schedule", "linear", r"'lr_schedule' parameter of RNNForecaster must be one of"),
        ("freq", "fortnightly", r"'freq' parameter must be a pandas frequency alias"),
        ("trainer_kwargs", ["gpu"], r"'trainer_kwargs' parameter.*dict"),
        ("gradient_clip_val", -1.0, r"'gradient_clip_val' parameter"),
        ("target", [], r"'target' parameter must not be an empty list"),
    ],
)
def test_parameters_out_of_range(param, value, message) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        _model(**{param: value}).fit(_daily())


def test_predict_with_other_columns_than_at_fit(sine_frame, monkeypatch) -> None:
    monkeypatch.undo()  # this test trains (briefly)
    model = _model(target="y").fit(sine_frame)
    with pytest.raises(DataError, match=r"missing \['x'\].*fitted on \['y', 'x'\]"):
        model.predict(sine_frame[["y"]])
    with pytest.raises(DataError, match=r"not seen at fit \['extra'\]"):
        model.predict(sine_frame.assign(extra=1.0))


def test_predict_from_a_history_shorter_than_seq_len(sine_frame, monkeypatch) -> None:
    monkeypatch.undo()
    model = _model(target="y").fit(sine_frame)
    with pytest.raises(
        DataError, match=r"Too little history to forecast from: the series has 4 row.*seq_len=5"
    ):
        model.predict(sine_frame.iloc[-4:])


def test_predict_from_unseen_series_needs_a_window_scaler(long_frame, monkeypatch) -> None:
    monkeypatch.undo()
    model = _model(id_col="unique_id", time_col="ds").fit(long_frame)
    other = long_frame.assign(unique_id=long_frame["unique_id"] + "_new")
    with pytest.raises(DataError, match=r"\['a_new', 'b_new', 'c_new'\] were not seen.*'window'"):
        model.predict(other)
    windowed = _model(id_col="unique_id", time_col="ds", scaler="window").fit(long_frame)
    assert len(windowed.predict(other)) == 3 * 2


def test_a_series_split_over_two_blocks_of_rows_is_one_series(long_frame) -> None:
    # Blocks "a", "b", then "a" again: ids are not one block each, so they are matched by
    # value (factorize), not by counting id changes.
    a = long_frame[long_frame["unique_id"] == "a"]
    b = long_frame[long_frame["unique_id"] == "b"]
    split = pd.concat([a.iloc[:30], b, a.iloc[30:]])
    panel, _ = to_panel(split, id_col="unique_id", time_col="ds")
    assert panel.ids == ["a", "b"]
    assert panel.lengths.tolist() == [len(a), len(b)]
    np.testing.assert_array_equal(panel.values[: len(a), 0], a["y"].to_numpy(dtype=np.float32))


def test_data_warnings_point_at_the_users_line_whatever_the_path():
    from forecast import NaiveForecaster
    from forecast.backtest import backtest

    backwards = _daily(60).iloc[::-1]
    model = NaiveForecaster(horizon=2, intervals="conformal", calibration_windows=20)
    calls = {
        "fit": lambda: model.fit(backwards),
        "predict(df)": lambda: model.predict(backwards),
        "score": lambda: model.score(backwards),
        "backtest": lambda: backtest(NaiveForecaster(horizon=2), backwards, n_windows=2),
    }
    for path, call in calls.items():
        with pytest.warns(UserWarning, match="not in increasing order") as record:
            call()
        assert {w.filename for w in record} == {__file__}, path


def test_a_fitted_column_that_is_no_longer_numeric_is_named_once() -> None:
    df = _daily()
    model = NaiveForecaster(horizon=1, target="y").fit(df)
    text = df.assign(y=df["y"].astype(str))
    with pytest.raises(DataTypeError, match=r"^Fitted column 'y' must be numeric"):
        model.predict(text)
