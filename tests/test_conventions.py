"""Nixtla's long format (``unique_id, ds, y``) needs no column arguments (data/conventions)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import FAST

from forecast import LSTMForecaster
from forecast._exceptions import DataError
from forecast.backtest import backtest
from forecast.baselines import NaiveForecaster
from forecast.cli.main import main

LONG = {"id_col": "unique_id", "time_col": "ds"}


def _lstm(**params) -> LSTMForecaster:
    return LSTMForecaster(seq_len=6, horizon=3, **{**FAST, "hidden_size": 4, **params})


def test_a_nixtla_frame_fits_with_no_column_arguments(long_frame) -> None:
    model = _lstm().fit(long_frame)
    assert model.layout_.id_col == "unique_id"
    assert model.layout_.time_col == "ds"
    assert model.series_ids_ == ["a", "b", "c"]
    forecast = model.predict()
    # The layout of the input: the same three columns, each series' own next months.
    assert list(forecast.columns) == ["unique_id", "ds", "y"]
    assert isinstance(forecast.index, pd.RangeIndex)
    last = long_frame.groupby("unique_id")["ds"].max()
    for sid, part in forecast.groupby("unique_id"):
        expected = pd.date_range(last[sid], periods=4, freq="MS")[1:]
        assert list(part["ds"]) == list(expected)
    # The same model as with the arguments spelled out, bit for bit (random_state=0).
    explicit = _lstm(**LONG).fit(long_frame).predict()
    pd.testing.assert_frame_equal(forecast, explicit)


def test_predict_score_and_backtest_on_a_newer_nixtla_history(long_frame) -> None:
    model = NaiveForecaster(horizon=2).fit(long_frame.groupby("unique_id").head(40))
    newer = model.predict(long_frame)
    assert list(newer.columns) == ["unique_id", "ds", "y"]
    last = long_frame.groupby("unique_id").tail(1).set_index("unique_id")["y"]
    np.testing.assert_array_equal(newer["y"].to_numpy(), np.repeat(last.loc[["a", "b", "c"]], 2))
    assert model.score(long_frame) < 0
    result = backtest(NaiveForecaster(horizon=2), long_frame, n_windows=2)
    assert list(result.metrics.columns[:4]) == ["unique_id", "window", "cutoff", "target"]
    assert set(result.forecasts["unique_id"]) == {"a", "b", "c"}


def test_other_numeric_columns_are_past_covariates_of_y(long_frame) -> None:
    frame = long_frame.assign(price=np.arange(len(long_frame), dtype=float))
    model = _lstm().fit(frame)
    assert model.target_names_ == ["y"]
    assert model.covariate_names_ == ["price"]
    # An explicit target wins over the convention's y.
    other = _lstm(target="price").fit(frame)
    assert other.target_names_ == ["price"]
    assert other.covariate_names_ == ["y"]
    assert list(other.predict().columns) == ["unique_id", "ds", "price"]


@pytest.mark.filterwarnings("ignore:The timestamps were not in increasing order")
def test_an_explicit_time_col_turns_the_convention_off(long_frame) -> None:
    # time_col alone says "one series, timestamps in ds": the three series' rows then
    # repeat timestamps, which is refused as before (the text id column is not used).
    with (
        pytest.warns(UserWarning, match=r"Non-numeric columns \['unique_id'\]"),
        pytest.raises(DataError, match="Duplicate timestamp"),
    ):
        NaiveForecaster(horizon=2, time_col="ds").fit(long_frame)


@pytest.mark.parametrize("index", ["datetime", "multi"])
def test_the_columns_and_a_time_index_together_are_ambiguous(long_frame, index) -> None:
    frame = long_frame.copy()
    if index == "datetime":
        frame.index = pd.date_range("2000-01-01", periods=len(frame), freq="D")
    else:
        frame.index = pd.MultiIndex.from_arrays([frame["unique_id"], frame["ds"]])
    with pytest.raises(DataError, match=r"Nixtla's columns .* Pass id_col='unique_id'"):
        NaiveForecaster(horizon=2).fit(frame)
    # The arguments settle it.
    model = NaiveForecaster(horizon=2, **LONG).fit(frame)
    assert model.series_ids_ == ["a", "b", "c"]


def test_the_command_line_reads_a_nixtla_csv_with_no_column_options(
    tmp_path, long_frame, capsys
) -> None:
    long_frame.to_csv(tmp_path / "data.csv", index=False)
    model = tmp_path / "m.safetensors"
    code = main(["fit", "--data", str(tmp_path / "data.csv"), "--estimator", "naive",
                 "--horizon", "2", "--out", str(model)])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    code = main(["predict", "--model", str(model), "--out", str(tmp_path / "fc.csv")])
    assert code == 0, capsys.readouterr().err
    written = pd.read_csv(tmp_path / "fc.csv")
    assert list(written.columns)[:3] == ["unique_id", "ds", "y"]  # then the run's metadata
    expected = NaiveForecaster(horizon=2).fit(long_frame).predict()
    # CSV's decimal digits: pandas 3.0 reads the last digit back one ulp off.
    np.testing.assert_allclose(written["y"].to_numpy(), expected["y"].to_numpy(), rtol=1e-12)
    assert list(written["ds"]) == [str(d.date()) for d in expected["ds"]]
    out = str(tmp_path / "bt.csv")
    code = main(["backtest", "--data", str(tmp_path / "data.csv"), "--estimator", "naive",
                 "--horizon", "2", "--windows", "2", "--out", out])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert list(pd.read_csv(tmp_path / "bt.csv").columns[:2]) == ["unique_id", "window"]
