"""The built-in forecasters, imported together, and ``forecast.load`` / ``forecast.save``.

A model file names its forecaster's class, and :mod:`forecast.io.registry` knows the classes
this process has defined; importing this module defines every built-in one, so
:func:`load` reads any file that forecast itself wrote. The command line takes its
``--estimator`` names from :data:`BUILTIN`.
"""

from __future__ import annotations

import os

from forecast._exceptions import ModelFileError
from forecast.forecasters.base import BaseForecaster
from forecast.forecasters.baselines import (
    DriftForecaster,
    NaiveForecaster,
    SeasonalNaiveForecaster,
)
from forecast.forecasters.combined import CombinedForecaster
from forecast.forecasters.damped import DampedTrendForecaster
from forecast.forecasters.ensemble import EnsembleForecaster
from forecast.forecasters.ets import ETSForecaster
from forecast.forecasters.optimised_theta import OptimisedThetaForecaster
from forecast.forecasters.recurrent import GRUForecaster, LSTMForecaster, RNNForecaster
from forecast.forecasters.theta import ThetaForecaster
from forecast.io import persistence

__all__ = ["BUILTIN", "WRAPPERS", "load", "save"]

#: forecast's own forecasters, in the order the command line lists them.
BUILTIN: tuple[type[BaseForecaster], ...] = (
    RNNForecaster,
    LSTMForecaster,
    GRUForecaster,
    NaiveForecaster,
    SeasonalNaiveForecaster,
    DriftForecaster,
    ThetaForecaster,
    OptimisedThetaForecaster,
    DampedTrendForecaster,
    ETSForecaster,
    EnsembleForecaster,
    CombinedForecaster,
)

#: Those that wrap another forecaster, with how the command line builds them instead.
WRAPPERS: dict[type, str] = {
    EnsembleForecaster: "--estimator lstm --ensemble 5",
    CombinedForecaster: "in Python, CombinedForecaster(LSTMForecaster(...), "
    "ThetaForecaster(...)).fit(df).save(path), then forecast predict --model path",
}


def save(estimator: BaseForecaster, path: str | os.PathLike[str]) -> None:
    """Save a fitted forecaster to one safetensors file, atomically.

    Parameters
    ----------
    estimator : BaseForecaster
        Fitted: a recurrent model, a baseline, an :class:`~forecast.EnsembleForecaster`
        (saved with all its members) or a forecaster of your own.
    path : str or path-like
        The file (by convention ``*.safetensors``); replaced atomically if it exists.

    Raises
    ------
    ModelFileError
        If the estimator is not a forecaster or holds a value the file cannot carry.
    sklearn.exceptions.NotFittedError
        If it is not fitted.

    Warns
    -----
    UserWarning
        Parameters that are not JSON-representable (callbacks in ``trainer_kwargs``) are
        not saved; the warning names them.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from forecast import GRUForecaster, load, save
    >>> from forecast.datasets import load_air_passengers
    >>> model = GRUForecaster(seq_len=12, horizon=3, hidden_size=8, max_epochs=1,
    ...                       random_state=0, progress_bar=False)
    >>> model = model.fit(load_air_passengers())
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "air.safetensors"
    >>> save(model, path)
    >>> load(path).predict().equals(model.predict())
    True
    """
    persistence.save(estimator, path)


def load(path: str | os.PathLike[str]) -> BaseForecaster:
    """Load a forecaster saved with :func:`save`; it predicts bitwise as the saved one did.

    Nothing in the file is executed or imported: its class is looked up by name among the
    built-in forecasters and the ones this program has defined (:mod:`forecast.io.registry`),
    parameters and attributes are JSON, weights are plain tensors. Files of the previous
    format version are read too.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    BaseForecaster
        Fitted, of the class that was saved.

    Raises
    ------
    ModelFileError
        One line naming the file and the problem (missing, not a forecast model, a newer
        format version, truncated, damaged, a class this program does not define).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from forecast import RNNForecaster, load
    >>> from forecast.datasets import load_air_passengers
    >>> model = RNNForecaster(seq_len=12, hidden_size=8, max_epochs=1, random_state=0,
    ...                       progress_bar=False).fit(load_air_passengers())
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "air.safetensors"
    >>> model.save(path)
    >>> type(load(path)).__name__
    'RNNForecaster'
    """
    estimator = persistence.load(path)
    if not isinstance(estimator, BaseForecaster):  # only forecasters register (for mypy)
        raise ModelFileError(f"Cannot load model file '{path}': it holds no forecaster")
    return estimator
