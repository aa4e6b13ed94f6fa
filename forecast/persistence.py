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

**An ensemble** (:class:`~forecast.EnsembleForecaster`) is one file too. Its JSON document
is laid out as above, and adds ``members``: one document per fitted member (``estimator``,
``params``, ``dropped_params``, ``fitted``, ``model``, ``backtest``: a single model's keys
but the file-level ones), whose tensors are named as a single model's under the prefix
``member.<i>.`` (``member.0.model.network.<key>``, ``member.0.history.train_loss``). The
ensemble's own ``params`` hold its base estimator as ``{"__estimator__": {"estimator":
<class name>, "params": {...}}}`` (the class name goes through the allowlist, as the top
one does); ``fitted`` holds the data attributes it shares with its members (targets,
series, cutoffs: what ``forecast info`` shows) and ``model`` its seeds. A member is saved
and loaded by the same code as a single model.

**Protocol for estimators.** A class in :data:`ESTIMATORS` provides
``_fitted_arrays(self) -> dict[str, numpy.ndarray]`` (its model-specific fitted numeric
state) and ``_restore_fitted(self, arrays) -> None``; optionally ``_fitted_metadata(self)
-> dict`` (JSON-ready), which is then handed back as ``_restore_fitted(arrays,
metadata=...)``. The common attributes listed in :data:`COMMON_ATTRIBUTES` are saved and
restored here, for every estimator. Loading rebuilds the estimator as
``cls(**params)``, restores the common attributes, then calls ``_restore_fitted``. A
meta-estimator also provides ``_fitted_members(self) -> list`` (fitted estimators of the
allowlist, saved as ``members``); they are loaded first and handed back as
``_restore_fitted(arrays, metadata=..., members=[...])``.

**Parameters JSON cannot carry** (callbacks or loggers in ``trainer_kwargs``, a
``RandomState`` as ``random_state``) are dropped with a warning rather than refused: they
only affect training, so the loaded model predicts exactly the same, and refusing would
leave a user who trained with a callback unable to save at all. The dropped names are
recorded in the file (``dropped_params``) and shown by ``forecast info``; the loaded model
has the defaults in their place.
"""

from __future__ import annotations

import os
import re
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
    "EnsembleForecaster": "forecast.ensemble:EnsembleForecaster",
}

# A parameter that is itself an estimator (an ensemble's base) is saved as
# {ESTIMATOR_TAG: {"estimator": <name in ESTIMATORS>, "params": {...}}}.
ESTIMATOR_TAG = "__estimator__"
_MEMBER_KEY = re.compile(r"member\.(\d+)\.")  # tensors of member i: "member.<i>.model.*"

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


def _registered_name(estimator: Any, what: str) -> str:
    """The allowlist name of ``estimator``'s class; ``ModelFileError`` if it is not ours."""
    name = type(estimator).__name__
    try:
        registered = resolve_estimator(name) is type(estimator)
    except (KeyError, ImportError, AttributeError):
        registered = False
    if not registered:
        raise ModelFileError(
            f"Cannot save {what} {name}: only forecast's own estimators "
            f"({', '.join(ESTIMATORS)}) can be saved."
        )
    return name


def _encode_params(estimator: Any) -> tuple[dict[str, Any], list[str]]:
    from forecast._codecs import RESERVED_KEYS, NotEncodable, encode_value

    params, dropped = {}, []
    for name, value in estimator.get_params(deep=False).items():
        if hasattr(value, "get_params") and not isinstance(value, type):  # an ensemble's base
            what = f"the {type(estimator).__name__} whose {name!r} is a"
            inner, inner_dropped = _encode_params(value)
            nested = {"estimator": _registered_name(value, what), "params": inner}
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
            stacklevel=5,
        )
        return None


def _encode_fitted(estimator: Any, prefix: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The common fitted attributes as JSON, and ``history_`` as ``<prefix>history.*``."""
    from forecast._codecs import encode_ids, encode_offset, encode_times, encode_value

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
    for attr in COMMON_ATTRIBUTES:
        if not hasattr(estimator, attr):  # not every estimator has them all (baselines)
            continue
        value = getattr(estimator, attr)
        if attr == "history_" and value is not None:  # per epoch: a tensor per column
            fitted["history_columns"] = encode_value(list(value.columns), "history_.columns")
            for col in value.columns:
                arrays[f"{prefix}history.{col}"] = np.ascontiguousarray(value[col].to_numpy())
            continue
        encode = encoders.get(attr, lambda v: v)
        fitted[attr.rstrip("_")] = encode_value(encode(value), attr)
    return fitted, arrays


def _describe_part(
    estimator: Any, prefix: str = ""
) -> tuple[dict[str, Any], dict[str, np.ndarray], list[str]]:
    """One estimator's document (without the file-level keys), arrays and dropped parameters.

    Array names start with ``prefix`` (``""``, or ``"member.<i>."`` for an ensemble's
    member); a meta-estimator's members are described by this same function, nested.
    """
    from sklearn.utils.validation import check_is_fitted

    from forecast._codecs import NotEncodable

    name = _registered_name(estimator, "a")
    check_is_fitted(estimator)
    params, dropped = _encode_params(estimator)
    try:
        fitted, arrays = _encode_fitted(estimator, prefix)
    except NotEncodable as exc:
        raise ModelFileError(f"Cannot save the {name}: {exc}.") from exc
    for key, value in estimator._fitted_arrays().items():
        arrays[f"{prefix}model.{key}"] = np.ascontiguousarray(value)
    for key, value in arrays.items():
        if value.dtype.kind not in "biuf":
            raise ModelFileError(
                f"Cannot save the {name}: array {key!r} has dtype {value.dtype}, not a number."
            )
    backtest = getattr(estimator, "backtest_", None)
    part = {
        "estimator": name,
        "params": params,
        "dropped_params": dropped,
        "fitted": fitted,
        "model": (estimator._fitted_metadata() if hasattr(estimator, "_fitted_metadata") else None),
        "backtest": _encode_backtest(backtest) if backtest is not None else None,
    }
    if hasattr(estimator, "_fitted_members"):
        part["members"] = []
        for i, member in enumerate(estimator._fitted_members()):
            # A member's dropped parameters are its base's, which `dropped` names already.
            member_part, member_arrays, _ = _describe_part(member, f"{prefix}member.{i}.")
            part["members"].append(member_part)
            arrays.update(member_arrays)
    return part, arrays, dropped


def describe(estimator: Any, *, warn: bool = True) -> tuple[dict[str, Any], dict[str, Any]]:
    """The JSON document and the arrays that a saved ``estimator`` consists of.

    Parameters
    ----------
    estimator : estimator of :data:`ESTIMATORS`
        Fitted.
    warn : bool, default True
        Warn about parameters that are not saved.

    Returns
    -------
    document : dict
        JSON-ready (see the module docstring).
    arrays : dict of str to numpy.ndarray
        Tensor name -> array: ``model.*`` and ``history.*``, and ``member.<i>.*`` for the
        members of an ensemble.

    Raises
    ------
    ModelFileError
        If the estimator (or an ensemble's base estimator) is not one of ours, or holds a
        value the file cannot carry (e.g. a frequency with no alias).
    sklearn.exceptions.NotFittedError
        If it is not fitted.
    """
    from forecast import __version__

    part, arrays, dropped = _describe_part(estimator)
    if dropped and warn:
        warnings.warn(
            f"{part['estimator']} parameters not saved, as they are not JSON-representable: "
            f"{', '.join(dropped)}. They only affect training: the loaded model predicts the "
            "same, but has the defaults in their place.",
            UserWarning,
            stacklevel=3,
        )
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "library_version": __version__,
        **part,
    }
    return document, arrays


# ------------------------------------------------------------------------------ save


def save(estimator: Any, path: str | os.PathLike[str]) -> None:
    """Save a fitted estimator to one safetensors file, atomically.

    Parameters
    ----------
    estimator : RNNForecaster, LSTMForecaster, GRUForecaster, a baseline or an ensemble
        Fitted. An :class:`~forecast.EnsembleForecaster` is saved with all its members.
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

    Nothing in the file is executed or imported: the estimator class (and an ensemble's
    base and members' classes) is looked up by name in :data:`ESTIMATORS`, parameters and
    attributes are JSON, weights are plain tensors.

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
    document, arrays = read(path)
    return _build(document, arrays, path)


def _resolve(name: Any, path: Any, where: str = "") -> type:
    """The allowlisted class ``name`` of the file at ``path``, or a one-line error."""
    try:
        return resolve_estimator(name)
    except KeyError:
        raise fail(
            path,
            f"it holds a {name!r}{where}, which is not an estimator forecast can load "
            f"({', '.join(ESTIMATORS)})",
        ) from None
    except (ImportError, AttributeError):
        raise fail(
            path,
            f"it holds a {name}{where}, which this installation of forecast does not "
            "have; upgrade forecast",
        ) from None


def _decode_params(params: dict[str, Any], path: Any, owner: Any) -> dict[str, Any]:
    """``params`` as saved back to values; a nested estimator is built through the allowlist."""
    from forecast._codecs import decode_value

    decoded = {}
    for key, value in params.items():
        if isinstance(value, dict) and set(value) == {ESTIMATOR_TAG}:
            nested = value[ESTIMATOR_TAG]
            cls = _resolve(nested["estimator"], path, f" as the {key!r} of its {owner}")
            decoded[key] = cls(**_decode_params(nested["params"], path, nested["estimator"]))
        else:
            decoded[key] = decode_value(value)
    return decoded


def _members_of(document: dict[str, Any], arrays: dict[str, np.ndarray], path: Any) -> list[Any]:
    """The loaded members of a meta-estimator's document; their tensor count must match."""
    members = document["members"]
    if not isinstance(members, list) or not all(isinstance(m, dict) for m in members):
        raise fail(path, "it is damaged (its 'members' are not a list of descriptions)")
    found = sorted({int(m.group(1)) for k in arrays if (m := _MEMBER_KEY.match(k))})
    if found != list(range(len(members))):
        raise fail(
            path,
            f"it is inconsistent: its description lists {len(members)} members, but its "
            f"tensors are those of members {found}",
        )
    loaded = []
    for i, member in enumerate(members):
        prefix = f"member.{i}."
        own = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
        loaded.append(_build(member, own, path, where=f" in member {i}"))
    return loaded


def _build(
    document: dict[str, Any], arrays: dict[str, np.ndarray], path: Any, where: str = ""
) -> Any:
    """The estimator a (member's) document and its arrays (names without prefix) describe."""
    from forecast._codecs import decode_ids, decode_offset, decode_times, decode_value
    from forecast.data import Layout

    name = document.get("estimator")
    cls = _resolve(name, path, where)
    try:
        estimator = cls(**_decode_params(document["params"], path, name))
        decoders = {
            "freq": decode_offset,
            "layout": lambda v: Layout(**v),
            "feature_names_in": lambda v: np.asarray(v, dtype=object),
            "series_ids": decode_ids,
            "cutoffs": decode_times,
            "training_start": decode_times,
        }
        for key, value in document["fitted"].items():
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
        restore: dict[str, Any] = {}
        if document.get("model") is not None:
            restore["metadata"] = document["model"]
        if "members" in document:
            restore["members"] = _members_of(document, arrays, path)
        estimator._restore_fitted(own, **restore)
        if document.get("backtest") is not None:
            estimator.backtest_ = document["backtest"]
    except ModelFileError:
        raise  # already one line naming the file (a member's, or a nested class)
    except Exception as exc:  # any inconsistency means a bad file
        raise fail(path, f"it is inconsistent{where} ({type(exc).__name__}: {exc})") from None
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
