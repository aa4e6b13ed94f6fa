"""The parameter checks of the recurrent estimators (``RNNForecaster._validate_params``).

Each parameter is checked on its own, with scikit-learn's message template
(:mod:`forecast._validation`), when ``fit`` starts: never in ``__init__``, so that
``set_params`` and ``clone`` work as in scikit-learn.
"""

from __future__ import annotations

from typing import Any

from forecast._exceptions import InvalidParameterError
from forecast._quantiles import check_quantile_params
from forecast._validation import check_bool, check_float, check_int, check_option
from forecast.conformal import check_interval_params
from forecast.frequency import resolve_freq
from forecast.module import LR_SCHEDULES
from forecast.nn import CELLS
from forecast.scaling import SCALERS

__all__ = ["check_recurrent_params"]


def check_recurrent_params(estimator: Any) -> None:
    """Raise :class:`~forecast.InvalidParameterError` naming the first bad parameter."""
    check_option(estimator, "cell", estimator.cell, CELLS)
    check_int(estimator, "seq_len", estimator.seq_len, low=1)
    check_int(estimator, "horizon", estimator.horizon, low=1)
    check_int(estimator, "hidden_size", estimator.hidden_size, low=1)
    check_int(estimator, "num_layers", estimator.num_layers, low=1)
    check_float(estimator, "dropout", estimator.dropout, low=0.0, high=1.0, high_open=True)
    check_quantile_params(estimator)
    check_interval_params(estimator)
    check_float(estimator, "learning_rate", estimator.learning_rate, low=0.0, low_open=True)
    check_float(estimator, "weight_decay", estimator.weight_decay, low=0.0)
    check_option(estimator, "lr_schedule", estimator.lr_schedule, LR_SCHEDULES)
    check_float(
        estimator,
        "swa_start",
        estimator.swa_start,
        low=0.0,
        high=1.0,
        high_open=True,
        allow_none=True,
    )
    check_int(estimator, "batch_size", estimator.batch_size, low=1)
    check_int(estimator, "max_epochs", estimator.max_epochs, low=1)
    if isinstance(estimator.validation_size, float):
        check_float(
            estimator,
            "validation_size",
            estimator.validation_size,
            low=0.0,
            high=1.0,
            high_open=True,
        )
    else:
        check_int(estimator, "validation_size", estimator.validation_size, low=0)
    check_int(
        estimator,
        "early_stopping_patience",
        estimator.early_stopping_patience,
        low=1,
        allow_none=True,
    )
    check_float(
        estimator,
        "gradient_clip_val",
        estimator.gradient_clip_val,
        low=0.0,
        low_open=True,
        allow_none=True,
    )
    check_option(estimator, "scaler", estimator.scaler, SCALERS)
    check_bool(estimator, "progress_bar", estimator.progress_bar)
    check_bool(estimator, "verbose", estimator.verbose)
    check_bool(estimator, "drop_short", estimator.drop_short)
    if estimator.trainer_kwargs is not None and not isinstance(estimator.trainer_kwargs, dict):
        raise InvalidParameterError(
            "The 'trainer_kwargs' parameter of "
            f"{type(estimator).__name__} must be a dict or None. Got {estimator.trainer_kwargs!r} "
            "instead."
        )
    if estimator.freq is not None:
        resolve_freq(estimator.freq)
