"""``forecast.fit_spark``: a Spark DataFrame trained on through ``TorchDistributor`` (local[2]).

Spark writes the frame as parts partitioned by id; ``TorchDistributor(local_mode=True)``
starts 2 training processes under torchrun, each reading its own parts with Lightning's
"ddp". The forecasts match a single-process fit of the same pandas frame (same seed and
steps) to 1e-5, as in ``tests/test_partitioned.py`` (summation order only).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from optional import optional

import forecast
from forecast import DataTypeError, InvalidParameterError, NaiveForecaster, RNNForecaster

optional("pyspark")
# Not ours to change: TorchDistributor leaves the pipe of its torchrun subprocess unclosed
# (pyspark/ml/torch/distributor.py). (pyspark's pandas-3 warning is ignored in pyproject.toml.)
pytestmark = [
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]
from pyspark.sql import SparkSession  # noqa: E402
from test_partitioned import PARAMS, _panel  # noqa: E402


@pytest.fixture(scope="module")
def ddp_spark():
    """A local[2] Spark session in UTC (the frame's naive timestamps stay as they are)."""
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("forecast-partitioned-fit")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    yield spark
    spark.stop()


@pytest.mark.slow
def test_fit_spark_trains_on_two_processes_as_one_process_would(ddp_spark, tmp_path) -> None:
    df = _panel()
    params = {**PARAMS, "past_covariates": [], "static_covariates": "size"}
    expected = RNNForecaster(**params).fit(df).predict()
    frame = ddp_spark.createDataFrame(df)
    model = forecast.fit_spark(RNNForecaster(**params), frame, tmp_path / "parts")
    got = model.predict()
    assert got["unique_id"].tolist() == expected["unique_id"].tolist()
    np.testing.assert_array_equal(got["ds"].to_numpy(), expected["ds"].to_numpy())
    np.testing.assert_allclose(got["y"], expected["y"], rtol=0, atol=1e-5)
    assert model.get_params()["trainer_kwargs"] is None  # the user's, not the ranks'


@pytest.mark.slow
def test_fit_spark_with_conformal_intervals_and_masking_as_one_process(ddp_spark, tmp_path):
    # Under torchrun's process group: the masked fit's first pass and the calibration's
    # pass over the parts run in both processes; the scores are gathered between them.
    df = _panel()
    df.loc[(df["unique_id"] == "s1") & df["ds"].between("2020-01-10", "2020-01-12"), "y"] = np.nan
    params = {**PARAMS, "past_covariates": [], "static_covariates": "size"}
    params |= {"missing": "mask", "intervals": "conformal", "calibration_windows": 4}
    expected = RNNForecaster(**params).fit(df)
    frame = ddp_spark.createDataFrame(df)
    model = forecast.fit_spark(RNNForecaster(**params), frame, tmp_path / "parts")
    assert model.missing_columns_ == expected.missing_columns_ == ["y"]
    assert model.n_calibration_ == expected.n_calibration_
    np.testing.assert_allclose(model.conformal_quantiles_, expected.conformal_quantiles_, atol=1e-5)
    got, want = model.predict(), expected.predict()
    np.testing.assert_allclose(got.iloc[:, 2:], want.iloc[:, 2:], rtol=0, atol=1e-5)


@pytest.mark.slow
def test_fit_spark_continues_a_fitted_model_with_warm_start(ddp_spark, tmp_path) -> None:
    df = _panel()
    params = {**PARAMS, "past_covariates": [], "static_covariates": "size"}
    old = RNNForecaster(**params).fit(df)
    expected = copy.deepcopy(old).set_params(warm_start=True).fit(df).predict()
    frame = ddp_spark.createDataFrame(df)
    model = forecast.fit_spark(old.set_params(warm_start=True), frame, tmp_path / "parts")
    np.testing.assert_allclose(model.predict()["y"], expected["y"], rtol=0, atol=1e-5)
    mismatched = copy.deepcopy(old).set_params(warm_start=True, hidden_size=5)
    with pytest.raises(InvalidParameterError, match="hidden_size: 6 -> 5"):
        forecast.fit_spark(mismatched, frame, tmp_path / "other")
    assert not (tmp_path / "other").exists()  # refused before writing


def test_fit_spark_refuses_what_it_cannot_fit_before_writing(ddp_spark, tmp_path) -> None:
    frame = ddp_spark.createDataFrame(_panel(2))
    with pytest.raises(DataTypeError, match="NaiveForecaster cannot be fitted from Parquet"):
        forecast.fit_spark(NaiveForecaster(horizon=3), frame, tmp_path / "parts")
    assert not (tmp_path / "parts").exists()
