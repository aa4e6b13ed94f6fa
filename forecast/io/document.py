"""One forecaster's part of a model file's JSON document: parameters and fitted attributes.

:mod:`forecast.io.persistence` assembles the document; this module turns values into JSON
and back (with :mod:`forecast.io.codecs`), and brings documents of older format versions
up to date (:func:`upgrade`).

* ``params``: ``get_params(deep=False)``. A parameter that is itself a forecaster (an
  ensemble's base) is nested as ``{"__estimator__": {"estimator": <registered name>,
  "params": {...}}}``; parameters JSON cannot carry are dropped (and named) rather than
  refused: see :mod:`forecast.io.persistence`.
* ``fitted``: the common fitted attributes the forecaster has
  (:data:`forecast.protocol.DATA_ATTRIBUTES`, and :data:`~forecast.protocol.
  TRAINING_ATTRIBUTES` for a trained network), each under its name without the trailing
  underscore; ``history_`` (a frame) is ``history_columns`` plus one tensor per column.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from forecast._exceptions import ModelFileError
from forecast.data.panel import Layout
from forecast.io import registry
from forecast.io.codecs import (
    RESERVED_KEYS,
    NotEncodable,
    decode_ids,
    decode_offset,
    decode_times,
    decode_value,
    encode_ids,
    encode_offset,
    encode_times,
    encode_value,
)

__all__ = [
    "ADDED_PARAMS",
    "ESTIMATOR_TAG",
    "decode_attributes",
    "encode_attributes",
    "encode_params",
    "saved_name",
    "upgrade",
]

# A parameter that is itself a forecaster (an ensemble's base) is saved as
# {ESTIMATOR_TAG: {"estimator": <registered name>, "params": {...}}}.
ESTIMATOR_TAG = "__estimator__"

# Parameters added after format 2, with the value that keeps the behaviour of the models
# saved before them: a file without one was written then, and loads with that value.
ADDED_PARAMS: dict[str, Any] = {
    "missing": "raise",
    "past_covariates": None,  # every other numeric column, the older rule
    "target_transform": None,
    "season_length": None,  # target_transform="deseasonalize" (issue 22)
    "member_params": None,  # EnsembleForecaster: members differ only by their seed
    "warm_start": False,
    "warm_start_shrink": 1.0,  # a warm start continued the fitted weights exactly
    "partial_horizons": False,  # training windows ended inside the series (issue 22)
}

_LAYOUT_FIELDS = ("id_col", "time_col", "time_name", "multiindex")

_ENCODERS: dict[str, Callable[[Any], Any]] = {
    "freq_": encode_offset,
    "layout_": lambda v: {k: getattr(v, k) for k in _LAYOUT_FIELDS},
    "feature_names_in_": lambda v: [str(x) if isinstance(x, np.str_) else x for x in v],
    "series_ids_": encode_ids,
    "cutoffs_": encode_times,
    "training_start_": encode_times,
    "target_names_": list,
    "covariate_names_": list,
    "future_names_": list,
    "static_names_": list,
}
_DECODERS: dict[str, Callable[[Any], Any]] = {
    "freq_": decode_offset,
    "layout_": lambda v: Layout(**v),
    "feature_names_in_": lambda v: np.asarray(v, dtype=object),
    "series_ids_": decode_ids,
    "cutoffs_": decode_times,
    "training_start_": decode_times,
}


def saved_name(estimator: object, what: str) -> str:
    """The registered name of ``estimator``'s class; ``ModelFileError`` if it has none."""
    name = registry.registered_name(estimator)
    if name is None:
        raise ModelFileError(
            f"Cannot save {what} {type(estimator).__name__}: only forecasters (subclasses of "
            "forecast.BaseForecaster) can be saved."
        )
    return name


def encode_params(estimator: BaseEstimator) -> tuple[dict[str, Any], list[str]]:
    """``estimator.get_params(deep=False)`` as JSON, and the names of the parameters dropped."""
    params: dict[str, Any] = {}
    dropped: list[str] = []
    for name, value in estimator.get_params(deep=False).items():
        if isinstance(value, BaseEstimator):  # an ensemble's base
            what = f"the {type(estimator).__name__} whose {name!r} is a"
            inner, inner_dropped = encode_params(value)
            nested = {"estimator": saved_name(value, what), "params": inner}
            params[name] = {ESTIMATOR_TAG: nested}
            dropped += [f"{name}__{d}" for d in inner_dropped]  # scikit-learn's nested names
            continue
        try:
            params[name] = encode_value(value, name)
            continue
        except NotEncodable:
            if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
                dropped.append(name)  # left out: the loaded model gets the default
                continue
        kept = {}
        for key, item in value.items():  # a dict (trainer_kwargs): drop only the bad keys
            if key in RESERVED_KEYS:  # would decode as an offset, tuple or estimator
                dropped.append(f"{name}[{key!r}]")
                continue
            try:
                kept[key] = encode_value(item, f"{name}[{key!r}]")
            except NotEncodable:
                dropped.append(f"{name}[{key!r}]")
        params[name] = kept
    return params, dropped


def encode_attributes(
    attributes: dict[str, Any], prefix: str
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The fitted attributes as the ``fitted`` table, and ``history_`` as ``<prefix>history.*``.

    Raises
    ------
    NotEncodable
        A value the file cannot carry (e.g. a frequency with no alias).
    """
    fitted: dict[str, Any] = {}
    arrays: dict[str, np.ndarray] = {}
    for attr, value in attributes.items():
        if attr == "history_" and value is not None:  # per epoch: a tensor per column
            fitted["history_columns"] = encode_value(list(value.columns), "history_.columns")
            for col in value.columns:
                arrays[f"{prefix}history.{col}"] = np.ascontiguousarray(value[col].to_numpy())
            continue
        encode = _ENCODERS.get(attr, lambda v: v)
        fitted[attr.rstrip("_")] = encode_value(encode(value), attr)
    return fitted, arrays


def decode_attributes(fitted: dict[str, Any], arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """Inverse of :func:`encode_attributes` (``arrays`` named without the prefix)."""
    attributes: dict[str, Any] = {}
    for key, value in fitted.items():
        if key == "history_columns":
            attributes["history_"] = pd.DataFrame({c: arrays[f"history.{c}"] for c in value})
        elif value is None:
            attributes[f"{key}_"] = None
        else:
            attributes[f"{key}_"] = _DECODERS.get(f"{key}_", decode_value)(value)
    return attributes


def upgrade(part: dict[str, Any], version: int) -> dict[str, Any]:
    """One forecaster's document of format ``version`` in today's format (members too).

    Format 1 (forecast before the layered package) kept the known-future and static
    covariate names of a recurrent model in its ``model`` table, and nowhere for the other
    forecasters (which have none); format 2 keeps them in ``fitted``, for every forecaster.
    """
    if version >= 2:
        return part
    part = dict(part)
    members = part.get("members")
    if isinstance(members, list):
        part["members"] = [upgrade(m, version) if isinstance(m, dict) else m for m in members]
    model = dict(part.get("model") or {})
    fitted = dict(part.get("fitted") or {})
    first = (part.get("members") or [{}])[0]
    for key in ("future_names", "static_names"):
        names = model.pop(key, None)
        if names is None and isinstance(first, dict):
            names = (first.get("fitted") or {}).get(key)  # an ensemble: its members'
        fitted.setdefault(key, names or [])
    part["model"], part["fitted"] = model, fitted
    return part
