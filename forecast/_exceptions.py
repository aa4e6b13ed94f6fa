"""The exceptions that ``forecast`` raises.

One base class, with subclasses that are also built-in exceptions so that
``except ValueError`` keeps working for users who do not know ours::

    ForecastError
    ├── DataError(ValueError)         bad data: names the column, series and timestamp
    │   ├── BadSeriesError            series a forecast cannot serve (``on_bad_series``)
    │   └── MissingHistoryError       missing="mask": a series' input window holds no
    │                                 observed target value (nothing to forecast from)
    ├── DataTypeError(TypeError)      data of the wrong kind (not a DataFrame, no datetimes)
    ├── InvalidParameterError(ValueError)
    │                                 an estimator parameter out of range
    ├── ModelFileError(ValueError)    a saved model that cannot be read
    ├── NumericalError(ArithmeticError)
    │                                 a NaN or infinity arose (a diverged fit, a history
    │                                 far outside the training range): names where
    └── UsageError(ValueError)        the command line was used wrongly (a missing option,
                                      an unknown file type, a bad config file)

``sklearn.exceptions.NotFittedError`` is raised, unchanged, for use before ``fit``.

Two ways a fit is stopped from outside are not errors, and are no ``Exception`` (so that
``except Exception`` does not swallow them): Ctrl-C raises Python's own
``KeyboardInterrupt``, and SIGTERM (a scheduler's timeout, ``kill``, Kubernetes) raises
:class:`Terminated`, a ``SystemExit`` with exit status 143 (128 + 15, what a shell reports
for a process SIGTERM ended).
"""

from __future__ import annotations

__all__ = [
    "BadSeriesError",
    "DataError",
    "DataTypeError",
    "ForecastError",
    "InvalidParameterError",
    "MissingHistoryError",
    "ModelFileError",
    "NumericalError",
    "Terminated",
    "UsageError",
]


class ForecastError(Exception):
    """Base class of every error raised by ``forecast`` on purpose."""


class DataError(ForecastError, ValueError):
    """The data cannot be used as given; the message says where and how to fix it."""


class BadSeriesError(DataError):
    """Some series cannot be forecast (unseen, too short, gaps, missing values, stale, absent).

    ``report`` holds what :mod:`forecast.forecasters._bad_series` found: a dict with the
    counts and, per bad series, its id, reason and what was done (see ``on_bad_series`` of
    :meth:`forecast.BaseForecaster.predict`).
    """

    def __init__(self, message: str, report: dict | None = None) -> None:
        super().__init__(message)
        self.report = report or {}


class MissingHistoryError(DataError):
    """With ``missing="mask"``: a series' last ``seq_len`` steps (the window a forecast reads)
    hold no observed value of a target, so there is nothing to forecast it from.

    ``series`` lists the ids of the series concerned (the first error's), for callers that
    skip or fall back on bad series.
    """

    def __init__(self, message: str, series: list | None = None) -> None:
        super().__init__(message)
        self.series = list(series or [])


class DataTypeError(ForecastError, TypeError):
    """The data is of a type ``forecast`` cannot work with."""


class InvalidParameterError(ForecastError, ValueError):
    """An estimator parameter is out of its documented range."""


class ModelFileError(ForecastError, ValueError):
    """A saved model file is missing, damaged, too new, or not a ``forecast`` model."""


class NumericalError(ForecastError, ArithmeticError):
    """A computation gave NaN or infinity; the message says where it arose and what to change.

    Raised instead of returning a non-finite forecast: a fit whose loss diverged, weights that
    are not finite, a history so far outside the training data that scaling it overflows,
    a Box-Cox forecast beyond the transform's range.

    ``series`` lists the ids of the series at fault where the fault is each series' own
    (a forecast beyond the target transform's range), for callers that skip or fall back on
    bad series (``on_bad_series``); it is empty otherwise.
    """

    def __init__(self, message: str, series: list | None = None) -> None:
        super().__init__(message)
        self.series = list(series or [])


class UsageError(ForecastError, ValueError):
    """The ``forecast`` command line was used wrongly; the message says how to use it."""


class Terminated(SystemExit):
    """The process received SIGTERM during a fit (or, in the command line, at any time).

    A ``SystemExit`` with ``code`` 143: uncaught, the program ends with the exit status a
    shell reports for a process SIGTERM ended, never 0. Lightning's own ``SIGTERMException``
    has no code (exit status 0: a scheduler's timeout recorded as success); ``fit`` raises
    this instead.
    """

    def __init__(self, message: str = "terminated by SIGTERM") -> None:
        super().__init__(128 + 15)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[type[Terminated], tuple[str]]:  # args hold the code
        return type(self), (self.message,)
