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
machine) until a model is built or trained. The package's layers (``forecasters``,
``neural``, ``data``, ``evaluation``, ``io``, ``cli``, ``plotting``) are mapped in
``docs/architecture.md``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from forecast._exceptions import (
    BadSeriesError,
    DataError,
    DataTypeError,
    ForecastError,
    InvalidParameterError,
    MissingHistoryError,
    ModelFileError,
    NumericalError,
    Terminated,
)

if TYPE_CHECKING:
    from forecast._version import __version__
    from forecast.data.gaps import fill_gaps
    from forecast.data.output import quantile_column
    from forecast.data.parts import parts
    from forecast.forecasters._spark_fit import fit_spark
    from forecast.forecasters.base import BaseForecaster
    from forecast.forecasters.baselines import (
        DriftForecaster,
        NaiveForecaster,
        SeasonalNaiveForecaster,
    )
    from forecast.forecasters.builtin import load, save
    from forecast.forecasters.combined import CombinedForecaster
    from forecast.forecasters.damped import DampedTrendForecaster
    from forecast.forecasters.ensemble import EnsembleForecaster
    from forecast.forecasters.ets import ETSForecaster
    from forecast.forecasters.optimised_theta import OptimisedThetaForecaster
    from forecast.forecasters.recurrent import GRUForecaster, LSTMForecaster, RNNForecaster
    from forecast.forecasters.theta import ThetaForecaster
    from forecast.io.card import ModelCard
    from forecast.neural.inference import RecurrentConfig
    from forecast.neural.module import RecurrentModule
    from forecast.neural.network import RecurrentRegressor
    from forecast.protocol import Forecast, Forecaster

# Public name -> module that defines it (``__version__`` too, a literal in forecast._version).
_LAZY = {
    "__version__": "forecast._version",
    "BaseForecaster": "forecast.forecasters.base",
    "DriftForecaster": "forecast.forecasters.baselines",
    "NaiveForecaster": "forecast.forecasters.baselines",
    "SeasonalNaiveForecaster": "forecast.forecasters.baselines",
    "ThetaForecaster": "forecast.forecasters.theta",
    "DampedTrendForecaster": "forecast.forecasters.damped",
    "ETSForecaster": "forecast.forecasters.ets",
    "OptimisedThetaForecaster": "forecast.forecasters.optimised_theta",
    "EnsembleForecaster": "forecast.forecasters.ensemble",
    "CombinedForecaster": "forecast.forecasters.combined",
    "GRUForecaster": "forecast.forecasters.recurrent",
    "LSTMForecaster": "forecast.forecasters.recurrent",
    "RNNForecaster": "forecast.forecasters.recurrent",
    "RecurrentModule": "forecast.neural.module",
    "RecurrentConfig": "forecast.neural.inference",
    "RecurrentRegressor": "forecast.neural.network",
    "ModelCard": "forecast.io.card",
    "Forecast": "forecast.protocol",
    "Forecaster": "forecast.protocol",
    "quantile_column": "forecast.data.output",
    "fill_gaps": "forecast.data.gaps",
    "fit_spark": "forecast.forecasters._spark_fit",
    "parts": "forecast.data.parts",
    "load": "forecast.forecasters.builtin",
    "save": "forecast.forecasters.builtin",
}

__all__ = [
    "BadSeriesError",
    "BaseForecaster",
    "CombinedForecaster",
    "DampedTrendForecaster",
    "DataError",
    "DataTypeError",
    "DriftForecaster",
    "ETSForecaster",
    "EnsembleForecaster",
    "Forecast",
    "ForecastError",
    "Forecaster",
    "GRUForecaster",
    "InvalidParameterError",
    "LSTMForecaster",
    "MissingHistoryError",
    "ModelCard",
    "ModelFileError",
    "NaiveForecaster",
    "NumericalError",
    "OptimisedThetaForecaster",
    "RNNForecaster",
    "RecurrentConfig",
    "RecurrentModule",
    "RecurrentRegressor",
    "SeasonalNaiveForecaster",
    "Terminated",
    "ThetaForecaster",
    "__version__",
    "fill_gaps",
    "fit_spark",
    "load",
    "parts",
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
