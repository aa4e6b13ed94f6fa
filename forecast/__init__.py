"""forecast: recurrent (RNN, LSTM, GRU) time-series forecasting on pandas.

A DataFrame in, lazy windows ``(batch, seq_len, features)``, a Lightning-trained recurrent
network with a last-step head, a DataFrame of future values out, behind a scikit-learn-style
estimator::

    from forecast import LSTMForecaster
    from forecast.datasets import load_stock_prices

    model = LSTMForecaster(seq_len=60, horizon=5, target="close", freq="B", random_state=0)
    forecast = model.fit(load_stock_prices()).predict()
    model.save("model.safetensors")

The names below are imported on first use (PEP 562), so ``import forecast`` and the
``forecast`` command line start without importing torch and Lightning (about 6 s on a small
machine) until a model is built or trained.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from forecast._exceptions import (
    DataError,
    DataTypeError,
    ForecastError,
    InvalidParameterError,
    ModelFileError,
)

if TYPE_CHECKING:
    from forecast._output import quantile_column
    from forecast.baselines import DriftForecaster, NaiveForecaster, SeasonalNaiveForecaster
    from forecast.card import ModelCard
    from forecast.ensemble import EnsembleForecaster
    from forecast.estimator import GRUForecaster, LSTMForecaster, RNNForecaster
    from forecast.module import RecurrentModule
    from forecast.nn import RecurrentConfig, RecurrentRegressor
    from forecast.persistence import load, save

try:
    __version__ = version("forecast")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

# Public name -> module that defines it.
_LAZY = {
    "DriftForecaster": "forecast.baselines",
    "NaiveForecaster": "forecast.baselines",
    "SeasonalNaiveForecaster": "forecast.baselines",
    "EnsembleForecaster": "forecast.ensemble",
    "GRUForecaster": "forecast.estimator",
    "LSTMForecaster": "forecast.estimator",
    "RNNForecaster": "forecast.estimator",
    "RecurrentModule": "forecast.module",
    "RecurrentConfig": "forecast.nn",
    "RecurrentRegressor": "forecast.nn",
    "ModelCard": "forecast.card",
    "quantile_column": "forecast._output",
    "load": "forecast.persistence",
    "save": "forecast.persistence",
}

__all__ = [
    "DataError",
    "DataTypeError",
    "DriftForecaster",
    "EnsembleForecaster",
    "ForecastError",
    "GRUForecaster",
    "InvalidParameterError",
    "LSTMForecaster",
    "ModelCard",
    "ModelFileError",
    "NaiveForecaster",
    "RNNForecaster",
    "RecurrentConfig",
    "RecurrentModule",
    "RecurrentRegressor",
    "SeasonalNaiveForecaster",
    "__version__",
    "load",
    "quantile_column",
    "save",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module 'forecast' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
