"""forecast: recurrent (RNN, LSTM, GRU) time-series forecasting on pandas.

A DataFrame in, lazy windows ``(batch, seq_len, features)``, a Lightning-trained recurrent
network with a last-step head, a DataFrame of future values out, behind a scikit-learn-style
estimator::

    from forecast import LSTMForecaster
    from forecast.datasets import load_stock_prices

    model = LSTMForecaster(seq_len=60, horizon=5, target="close", freq="B", random_state=0)
    forecast = model.fit(load_stock_prices()).predict()
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from forecast._exceptions import (
    DataError,
    DataTypeError,
    ForecastError,
    InvalidParameterError,
    ModelFileError,
)
from forecast.baselines import DriftForecaster, NaiveForecaster, SeasonalNaiveForecaster
from forecast.estimator import GRUForecaster, LSTMForecaster, RNNForecaster
from forecast.module import RecurrentModule
from forecast.nn import RecurrentConfig, RecurrentRegressor

try:
    __version__ = version("forecast")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "DataError",
    "DataTypeError",
    "DriftForecaster",
    "ForecastError",
    "GRUForecaster",
    "InvalidParameterError",
    "LSTMForecaster",
    "ModelFileError",
    "NaiveForecaster",
    "RNNForecaster",
    "RecurrentConfig",
    "RecurrentModule",
    "RecurrentRegressor",
    "SeasonalNaiveForecaster",
    "__version__",
]
