"""Safe, versioned, atomic saving and loading of fitted estimators: one safetensors file.

**Why one file, and why safetensors metadata.** A scheduled job copies a model from the
machine that fitted it to the one that forecasts; one file moves, checksums and versions as
a unit, where a folder or a weights file beside a JSON file can be copied half, or mixed
with another model's half. safetensors is a flat, documented format that loads without
executing anything (no pickle), and its header carries a ``str -> str`` ``__metadata__``
mapping: the natural place for the JSON document that describes the model. Everything fits
in one file, readable by any safetensors tool, and ``forecast info`` reads the description
without importing torch.

**Layout of a model file.**

* tensors: ``model.<name>`` for each array of the estimator's ``_fitted_arrays()`` (for
  :class:`~forecast.RNNForecaster`: ``model.network.<state_dict key>`` weights,
  ``model.scaler.loc``, ``model.scaler.scale``, ``model.last_window``; with conformal
  intervals ``model.conformal.quantiles`` and ``model.conformal.scale``), and
  ``history.<column>`` for the columns of ``history_`` (train and validation loss per
  epoch);
* ``__metadata__``: ``format`` (``"forecast.model"``), ``format_version`` (an int as text;
  a file from a newer version is refused), ``forecast`` (the JSON document below) and
  ``checksum`` (``sha256:`` over every tensor's name, dtype, shape and bytes and the other
  metadata, so a damaged file is reported as such, never loaded);
* the JSON document: ``format``, ``format_version``, ``library_version``, ``estimator`` (a
  class name, looked up in a fixed allowlist, never imported from the file), ``params``
  (``get_params()``), ``dropped_params``, ``fitted`` (the common fitted attributes:
  frequency, layout, target, covariate and feature names, series ids, cutoffs and training
  start timestamps, best epoch, seed, history columns), ``model`` (the estimator's own
  ``_fitted_metadata()``, if it has one) and ``backtest`` (the ``backtest_`` attribute, if
  set).

**Protocol for estimators.** A class in :data:`ESTIMATORS` provides
``_fitted_arrays(self) -> dict[str, numpy.ndarray]`` (its model-specific fitted numeric
state) and ``_restore_fitted(self, arrays) -> None``; optionally ``_fitted_metadata(self)
-> dict`` (JSON-ready), which is then handed back as ``_restore_fitted(arrays,
metadata=...)``. The common attributes listed in :data:`COMMON_ATTRIBUTES` are saved and
restored here, for every estimator. Loading rebuilds the estimator as
``cls(**params)``, restores the common attributes, then calls ``_restore_fitted``.

**Parameters JSON cannot carry** (callbacks or loggers in ``trainer_kwargs``, a
``RandomState`` as ``random_state``) are dropped with a warning rather than refused: they
only affect training, so the loaded model predicts exactly the same, and refusing would
leave a user who trained with a callback unable to save at all. The dropped names are
recorded in the file (``dropped_params``) and shown by ``forecast info``; the loaded model
has the defaults in their place.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np

from forecast._exceptions import ModelFileError
from forecast._model_file import FORMAT, FORMAT_VERSION, fail, read, write

__all__ = [
    "COMMON_ATTRIBUTES",
    "ESTIMATORS",
    "FORMAT",
    "FORMAT_VERSION",
    "PersistenceMixin",
    "describe",
    "load",
    "read",
    "save",
]

# Class name -> "module:attribute", imported only when a file names it (a fixed allowlist).
ESTIMATORS = {
    "RNNForecaster": "forecast.estimator:RNNForecaster",
    "LSTMForecaster": "forecast.estimator:LSTMForecaster",
    "GRUForecaster": "forecast.estimator:GRUForecaster",
    "NaiveForecaster": "forecast.baselines:NaiveForecaster",
    "SeasonalNaiveForecaster": "forecast.baselines:SeasonalNaiveForecaster",
    "DriftForecaster": "forecast.baselines:DriftForecaster",
}

COMMON_ATTRIBUTES = (
    "freq_",
    "layout_",
    "target_names_",
    "covariate_names_",
    "feature_names_in_",
    "n_features_in_",
    "series_ids_",
    "cutoffs_",
    "training_start_",
    "history_",
    "best_epoch_",
    "seed_",
    "quantile_levels_",
)


def resolve_estimator(name: str) -> type:
    """The estimator class registered as ``name`` (imported from the allowlist only)."""
    import importlib

    if not isinstance(name, str) or name not in ESTIMATORS:
        raise KeyError(name)
    module, attr = ESTIMATORS[name].split(":")
    return getattr(importlib.import_module(module), attr)


# ------------------------------------------------------------------------------ describe


def _encode_params(estimator: Any) -> tuple[dict[str, Any], list[str]]:
    from forecast._codecs import NotEncodable, encode_value

    params, dropped = {}, []
    for name, value in estimator.get_params(deep=False).items():
        try:
            params[name] = encode_value(value, name)
            continue
        except NotEncodable:
            if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
                dropped.append(name)  # left out: the loaded model gets the default
                continue
        kept = {}
        for key, item in value.items():  # a dict (trainer_kwargs): drop only the bad keys
            try:
                kept[key] = encode_value(item, f"{name}[{key!r}]")
            except NotEncodable:
                dropped.append(f"{name}[{key!r}]")
        params[name] = kept
    return params, dropped


def _encode_backtest(value: Any) -> Any:
    from forecast._codecs import NotEncodable, encode_value

    def finite(v: Any) -> Any:  # a NaN score (MAPE on zeros) is stored as null
        if isinstance(v, dict):
            return {k: finite(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [finite(x) for x in v]
        if isinstance(v, float | np.floating) and not np.isfinite(v):
            return None
        return v

    try:
        return encode_value(finite(dict(value)), "backtest_")
    except (NotEncodable, TypeError, ValueError):
        warnings.warn(
            "The backtest_ attribute is not a JSON-representable mapping (e.g. "
            "{'mae': 1.2}); it is not saved.",
            UserWarning,
            stacklevel=4,
        )
        return None


def describe(estimator: Any, *, warn: bool = True) -> tuple[dict[str, Any], dict[str, Any]]:
    """The JSON document and the arrays that a saved ``estimator`` consists of.

    Returns
    -------
    document : dict
        JSON-ready (see the module docstring).
    arrays : dict of str to numpy.ndarray
        Tensor name -> array, ``model.*`` and ``history.*``.

    Raises
    ------
    ModelFileError
        If the estimator is not one of ours, not fitted, or holds a value the file cannot
        carry (e.g. a frequency with no alias).
    """
    from sklearn.utils.validation import check_is_fitted

    from forecast import __version__
    from forecast._codecs import (
        NotEncodable,
        encode_ids,
        encode_offset,
        encode_times,
        encode_value,
    )

    name = type(estimator).__name__
    try:
        registered = resolve_estimator(name) is type(estimator)
    except (KeyError, ImportError, AttributeError):
        registered = False
    if not registered:
        raise ModelFileError(
            f"Cannot save a {name}: only forecast's own estimators ({', '.join(ESTIMATORS)}) "
            "can be saved."
        )
    check_is_fitted(estimator)
    params, dropped = _encode_params(estimator)
    if dropped and warn:
        warnings.warn(
            f"{name} parameters not saved, as they are not JSON-representable: "
            f"{', '.join(dropped)}. They only affect training: the loaded model predicts the "
            "same, but has the defaults in their place.",
            UserWarning,
            stacklevel=3,
        )
    est = estimator
    encoders = {
        "freq_": encode_offset,
        "layout_": lambda v: {
            k: getattr(v, k) for k in ("id_col", "time_col", "time_name", "multiindex")
        },
        "feature_names_in_": lambda v: [str(x) if isinstance(x, np.str_) else x for x in v],
        "series_ids_": encode_ids,
        "cutoffs_": encode_times,
        "training_start_": encode_times,
        "target_names_": list,
        "covariate_names_": list,
    }
    fitted: dict[str, Any] = {}
    arrays: dict[str, np.ndarray] = {}
    try:
        for attr in COMMON_ATTRIBUTES:
            if not hasattr(est, attr):  # not every estimator has them all (baselines)
                continue
            value = getattr(est, attr)
            if attr == "history_" and value is not None:  # per epoch: a tensor per column
                fitted["history_columns"] = encode_value(list(value.columns), "history_.columns")
                for col in value.columns:
                    arrays[f"history.{col}"] = np.ascontiguousarray(value[col].to_numpy())
                continue
            encode = encoders.get(attr, lambda v: v)
            fitted[attr.rstrip("_")] = encode_value(encode(value), attr)
    except NotEncodable as exc:
        raise ModelFileError(f"Cannot save the {name}: {exc}.") from exc
    for key, value in est._fitted_arrays().items():
        arrays[f"model.{key}"] = np.ascontiguousarray(value)
    for key, value in arrays.items():
        if value.dtype.kind not in "biuf":
            raise ModelFileError(
                f"Cannot save the {name}: array {key!r} has dtype {value.dtype}, not a number."
            )
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "library_version": __version__,
        "estimator": name,
        "params": params,
        "dropped_params": dropped,
        "fitted": fitted,
        "model": est._fitted_metadata() if hasattr(est, "_fitted_metadata") else None,
        "backtest": (
            _encode_backtest(est.backtest_) if getattr(est, "backtest_", None) is not None else None
        ),
    }
    return document, arrays


# ------------------------------------------------------------------------------ save


def save(estimator: Any, path: str | os.PathLike[str]) -> None:
    """Save a fitted estimator to one safetensors file, atomically.

    Parameters
    ----------
    estimator : RNNForecaster, LSTMForecaster, GRUForecaster or a baseline
        Fitted.
    path : str or path-like
        The file (by convention ``*.safetensors``); replaced atomically if it exists.

    Raises
    ------
    ModelFileError
        If the estimator is not one of ours or holds a value the file cannot carry.
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
    document, arrays = describe(estimator)
    write(path, document, arrays)


# ------------------------------------------------------------------------------ load


def load(path: str | os.PathLike[str]) -> Any:
    """Load an estimator saved with :func:`save`; it predicts bitwise as the saved one did.

    Nothing in the file is executed or imported: the estimator class is looked up by name
    in :data:`ESTIMATORS`, parameters and attributes are JSON, weights are plain tensors.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    estimator
        Fitted, of the class that was saved.

    Raises
    ------
    ModelFileError
        One line naming the file and the problem (missing, not a forecast model, a newer
        format version, truncated, damaged).

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
    from forecast._codecs import decode_ids, decode_offset, decode_times, decode_value
    from forecast.data import Layout

    document, arrays = read(path)
    name = document.get("estimator")
    try:
        cls = resolve_estimator(name)
    except KeyError:
        raise fail(
            path,
            f"it holds a {name!r}, which is not an estimator forecast can load "
            f"({', '.join(ESTIMATORS)})",
        ) from None
    except (ImportError, AttributeError):
        raise fail(
            path,
            f"it holds a {name}, which this installation of forecast does not "
            "have; upgrade forecast",
        ) from None
    try:
        estimator = cls(**decode_value(document["params"]))
        decoders = {
            "freq": decode_offset,
            "layout": lambda v: Layout(**v),
            "feature_names_in": lambda v: np.asarray(v, dtype=object),
            "series_ids": decode_ids,
            "cutoffs": decode_times,
            "training_start": decode_times,
        }
        fitted = document["fitted"]
        for key, value in fitted.items():
            if key == "history_columns":
                import pandas as pd

                estimator.history_ = pd.DataFrame({c: arrays[f"history.{c}"] for c in value})
                continue
            if value is None:
                setattr(estimator, f"{key}_", None)
                continue
            decode = decoders.get(key, decode_value)
            setattr(estimator, f"{key}_", decode(value))
        own = {k[len("model.") :]: v for k, v in arrays.items() if k.startswith("model.")}
        if document.get("model") is not None:
            estimator._restore_fitted(own, metadata=document["model"])
        else:
            estimator._restore_fitted(own)
        if document.get("backtest") is not None:
            estimator.backtest_ = document["backtest"]
    except Exception as exc:  # any inconsistency means a bad file
        raise fail(path, f"it is inconsistent ({type(exc).__name__}: {exc})") from None
    return estimator


class PersistenceMixin:
    """``save``, ``load`` and ``card`` methods for our estimators (:mod:`forecast.persistence`)."""

    def save(self, path: str | os.PathLike[str]) -> None:
        """Save the fitted estimator to one safetensors file, atomically.

        See :func:`forecast.save`.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from forecast import RNNForecaster
        >>> from forecast.datasets import load_air_passengers
        >>> model = RNNForecaster(seq_len=12, hidden_size=8, max_epochs=1, random_state=0,
        ...                       progress_bar=False).fit(load_air_passengers())
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "air.safetensors"
        >>> model.save(path)
        >>> RNNForecaster.load(path).predict().equals(model.predict())
        True
        """
        save(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Any:
        """Load a model saved with :meth:`save`; it must be of this class (or a subclass).

        See :func:`forecast.load`, which loads any of our estimators.

        Raises
        ------
        ModelFileError
            If the file is not a readable model of this class.
        """
        estimator = load(path)
        if not isinstance(estimator, cls):
            raise fail(
                path,
                f"it holds a {type(estimator).__name__}, not a {cls.__name__}; "
                "use forecast.load(path) to load any model",
            )
        return estimator

    def card(self) -> Any:
        """What this model is and what it was trained on: a :class:`~forecast.card.ModelCard`.

        Examples
        --------
        >>> from forecast import RNNForecaster
        >>> from forecast.datasets import load_air_passengers
        >>> model = RNNForecaster(seq_len=12, hidden_size=8, max_epochs=1, random_state=0,
        ...                       progress_bar=False).fit(load_air_passengers())
        >>> model.card().n_series
        1
        """
        from forecast.card import ModelCard

        document, arrays = describe(self, warn=False)
        return ModelCard.from_document(document, arrays)
