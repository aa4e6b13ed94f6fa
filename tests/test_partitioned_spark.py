"""``forecast.fit_spark``: a Spark DataFrame trained on through ``TorchDistributor`` (local[2]).

Spark writes the frame as parts partitioned by id; ``TorchDistributor(local_mode=True)``
starts 2 training processes under torchrun, each reading its own parts with Lightning's
"ddp". The forecasts match a single-process fit of the same pandas frame (same seed and
steps) to 1e-5, as in ``tests/test_partitioned.py`` (summation order only).
"""

from __future__ import annotations

import numpy as np
import pytest
from optional import optional

import forecast
from forecast import InvalidParameterError, RNNForecaster

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


def test_fit_spark_refuses_what_it_cannot_fit_before_writing(ddp_spark, tmp_path) -> None:
    frame = ddp_spark.createDataFrame(_panel(2))
    with pytest.raises(InvalidParameterError, match="target_transform"):
        forecast.fit_spark(RNNForecaster(target_transform="log"), frame, tmp_path / "parts")
    assert not (tmp_path / "parts").exists()
