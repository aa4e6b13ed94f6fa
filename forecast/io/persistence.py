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

* tensors: ``model.<name>`` for each array of the forecaster's ``_fitted_arrays()`` (for
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
  class name, looked up among the classes this process defined, never imported because a
  file names it: :mod:`forecast.io.registry`), ``params`` (``get_params()``),
  ``dropped_params``, ``fitted`` (the common fitted attributes of
  :mod:`forecast.protocol`: frequency, layout, target, covariate and feature names, series
  ids, cutoffs and training start timestamps, and for a trained network best epoch, seed,
  history columns; see :mod:`forecast.io.document`), ``model`` (the forecaster's own
  ``_fitted_metadata()``, with the conformal calibration's count) and ``backtest`` (the
  ``backtest_`` attribute, if set).

**Format versions.** 2 (this one) keeps the known-future and static covariate names in
``fitted``, for every forecaster; 1 kept a recurrent model's in ``model``. A file of format 1
is upgraded when it is read (:func:`forecast.io.document.upgrade`); a file of a newer
version than this reader's is refused.

**An ensemble** (:class:`~forecast.EnsembleForecaster`) is one file too. Its JSON document
is laid out as above, and adds ``members``: one document per fitted member (``estimator``,
``params``, ``dropped_params``, ``fitted``, ``model``, ``backtest``: a single model's keys
but the file-level ones), whose tensors are named as a single model's under the prefix
``member.<i>.`` (``member.0.model.network.<key>``, ``member.0.history.train_loss``). The
ensemble's own ``params`` hold its base estimator as ``{"__estimator__": {"estimator":
<class name>, "params": {...}}}`` (the class name goes through the registry, as the top
one does); ``fitted`` holds the data attributes it shares with its members (targets,
series, cutoffs: what ``forecast info`` shows) and ``model`` its seeds. A member is saved
and loaded by the same code as a single model.

**What a forecaster provides.** Everything goes through the methods of
:class:`forecast.protocol.Forecaster` (``_saved_state`` and ``_restore_saved``), which
:class:`~forecast.BaseForecaster` implements once for every forecaster from its hooks
(``_fitted_arrays``, ``_fitted_metadata``, ``_fitted_members``, ``_restore_fitted``).
Loading rebuilds the forecaster as ``cls(**params)`` and hands it back its state; a
meta-forecaster's members are loaded first, by this same code.

**Parameters JSON cannot carry** (callbacks or loggers in ``trainer_kwargs``, a
``RandomState`` as ``random_state``) are dropped with a warning rather than refused: they
only affect training, so the loaded model predicts exactly the same, and refusing would
leave a user who trained with a callback unable to save at all. The dropped names are
recorded in the file (``dropped_params``) and shown by ``forecast info``; the loaded model
has the defaults in their place.
"""

from __future__ import annotations

import inspect
import os
import re
from typing import Any, cast

import numpy as np

from forecast import _warnings
from forecast._exceptions import ModelFileError
from forecast._version import __version__
from forecast.io import registry
from forecast.io.codecs import NotEncodable, decode_value, encode_value
from forecast.io.document import (
    ADDED_PARAMS,
    ESTIMATOR_TAG,
    decode_attributes,
    encode_attributes,
    encode_params,
    saved_name,
    upgrade,
)
from forecast.io.model_file import FORMAT, FORMAT_VERSION, fail, from_bytes, read, to_bytes, write
from forecast.protocol import Forecaster

__all__ = ["FORMAT", "FORMAT_VERSION", "describe", "dumps", "load", "loads", "read", "save"]

_MEMBER_KEY = re.compile(r"member\.(\d+)\.")  # tensors of member i: "member.<i>.model.*"


# ------------------------------------------------------------------------------ describe


def _encode_backtest(value: Any) -> Any:
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
        _warnings.warn(
            "The backtest_ attribute is not a JSON-representable mapping (e.g. "
            "{'mae': 1.2}); it is not saved.",
        )
        return None


def _describe_part(
    estimator: Forecaster, prefix: str = ""
) -> tuple[dict[str, Any], dict[str, np.ndarray], list[str]]:
    """One forecaster's document (without the file-level keys), arrays and dropped parameters.

    Array names start with ``prefix`` (``""``, or ``"member.<i>."`` for an ensemble's
    member); a meta-forecaster's members are described by this same function, nested.
    """
    name = saved_name(estimator, "a")
    state = estimator._saved_state()  # NotFittedError before fit
    params, dropped = encode_params(estimator)
    try:
        fitted, arrays = encode_attributes(state.attributes, prefix)
    except NotEncodable as exc:
        raise ModelFileError(f"Cannot save the {name}: {exc}.") from exc
    for key, value in state.arrays.items():
        arrays[f"{prefix}model.{key}"] = np.ascontiguousarray(value)
    for key, value in arrays.items():
        if value.dtype.kind not in "biuf":
            raise ModelFileError(
                f"Cannot save the {name}: array {key!r} has dtype {value.dtype}, not a number."
            )
    part: dict[str, Any] = {
        "estimator": name,
        "params": params,
        "dropped_params": dropped,
        "fitted": fitted,
        "model": state.metadata,
        "backtest": None if state.backtest is None else _encode_backtest(state.backtest),
    }
    if state.members:
        part["members"] = []
        for i, member in enumerate(state.members):
            # A member's dropped parameters are its base's, which `dropped` names already.
            member_part, member_arrays, _ = _describe_part(member, f"{prefix}member.{i}.")
            part["members"].append(member_part)
            arrays.update(member_arrays)
    return part, arrays, dropped


def describe(estimator: Forecaster, *, warn: bool = True) -> tuple[dict[str, Any], dict[str, Any]]:
    """The JSON document and the arrays that a saved ``estimator`` consists of.

    Parameters
    ----------
    estimator : BaseForecaster
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
        If the estimator (or an ensemble's base estimator) is not a forecaster, or holds a
        value the file cannot carry (e.g. a frequency with no alias).
    sklearn.exceptions.NotFittedError
        If it is not fitted.
    """
    part, arrays, dropped = _describe_part(estimator)
    if dropped and warn:
        _warnings.warn(
            f"{part['estimator']} parameters not saved, as they are not JSON-representable: "
            f"{', '.join(dropped)}. They only affect training: the loaded model predicts the "
            "same, but has the defaults in their place.",
        )
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "library_version": __version__,
        **part,
    }
    return document, arrays


# ------------------------------------------------------------------------------ save


def save(estimator: Forecaster, path: str | os.PathLike[str]) -> None:
    """Save a fitted forecaster to one safetensors file, atomically (see :func:`forecast.save`)."""
    document, arrays = describe(estimator)
    write(path, document, arrays)


def dumps(estimator: Forecaster) -> bytes:
    """A fitted forecaster as the bytes of its model file: :func:`save` without the file.

    What an engine (:mod:`forecast.engines`) ships to its workers, where :func:`loads`
    rebuilds it, scalers, calendar and covariate names included, as :func:`load` would.
    """
    document, arrays = describe(estimator, warn=False)  # dropped: training-only parameters
    return to_bytes(document, arrays)


# ------------------------------------------------------------------------------ load


def loads(raw: bytes, name: str = "<bytes>") -> Forecaster:
    """The forecaster of a model file's bytes ``raw`` (from :func:`dumps`); see :func:`load`.

    Parameters
    ----------
    raw : bytes
    name : str
        How error messages name the bytes.

    Raises
    ------
    ModelFileError
        As :func:`load`.
    """
    document, arrays = from_bytes(raw, name)
    return _document_to_forecaster(document, arrays, name, None)


def load(path: str | os.PathLike[str], expect: type[Forecaster] | None = None) -> Forecaster:
    """Load a forecaster saved with :func:`save` (see :func:`forecast.load`).

    Parameters
    ----------
    path : str or path-like
    expect : type, optional
        Refuse a file that holds a forecaster of another class than this (or a subclass).

    Raises
    ------
    ModelFileError
        One line naming the file and the problem.
    """
    document, arrays = read(path)  # its format version checked against the file's
    return _document_to_forecaster(document, arrays, path, expect)


def _document_to_forecaster(
    document: dict[str, Any], arrays: dict[str, np.ndarray], path: Any, expect: Any
) -> Forecaster:
    """:func:`load`'s work once the file is read: upgrade, check the class, build."""
    try:
        document = upgrade(document, document["format_version"])
    except Exception as exc:  # a damaged or crafted document of an older version
        raise fail(path, f"it is inconsistent ({type(exc).__name__}: {exc})") from None
    name = document.get("estimator")
    if expect is not None:
        try:
            is_expected = issubclass(registry.resolve(name), expect)
        except KeyError:
            _resolve(name, path)  # raises: no class of that name is defined here
            raise
        if not is_expected:
            raise fail(
                path,
                f"it holds a {name}, not a {expect.__name__}; use forecast.load(path) to "
                "load any model",
            )
    return _build(document, arrays, path)


def _resolve(name: Any, path: Any, where: str = "") -> type[Forecaster]:
    """The registered class ``name`` of the file at ``path``, or a one-line error."""
    try:
        return cast("type[Forecaster]", registry.resolve(name))
    except KeyError:
        raise fail(
            path,
            f"it holds a {name!r}{where}, which is not an estimator forecast can load (no "
            "forecaster of that name is defined in this program: forecast.load(path) defines "
            "forecast's own; a class of yours must be imported first, from an importable "
            "module)",
        ) from None


def _check_complete(cls: type, params: Any, dropped: list[str], path: Any, what: str) -> None:
    """Every parameter of ``cls`` is in ``params``, or was ``dropped`` (not JSON) on saving.

    A parameter absent from a file would take its default (a network trained on
    ``seq_len=6`` read with 24, and forecast from a window it never saw); only the ones
    saving dropped, named in the file, may; those of :data:`~forecast.io.document.ADDED_PARAMS`
    take the value that files written before them were fitted with.
    """
    if not isinstance(params, dict):
        raise fail(path, f"it is damaged (the parameters of {what} are not a JSON object)")
    signature = inspect.signature(cls).parameters
    for name, value in ADDED_PARAMS.items():  # files written before these existed
        if name in signature and name not in params:
            params[name] = value
    missing = [
        name
        for name, p in inspect.signature(cls).parameters.items()
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
        and name not in params
        and name not in dropped
    ]
    if missing:
        raise fail(
            path,
            f"it lacks the parameter(s) {missing} of {what}, which would take their defaults "
            "instead of the values the model was fitted with. The file was edited or "
            "damaged: restore it from a good copy, or refit",
        )


def _decode_params(
    params: dict[str, Any], path: Any, owner: Any, dropped: list[str] | None = None
) -> dict[str, Any]:
    """``params`` as saved back to values; a nested forecaster is built through the registry.

    ``dropped``: the parameter names saving left out (a nested one's as ``key__name``).
    """
    decoded = {}
    for key, value in params.items():
        if isinstance(value, dict) and set(value) == {ESTIMATOR_TAG}:
            nested = value[ESTIMATOR_TAG]
            where = f" as the {key!r} of its {owner}"
            cls = _resolve(nested["estimator"], path, where)
            inner = [d[len(key) + 2 :] for d in dropped or [] if d.startswith(f"{key}__")]
            what = f"the {nested['estimator']}{where}"
            _check_complete(cls, nested["params"], inner, path, what)
            decoded[key] = cls(**_decode_params(nested["params"], path, nested["estimator"], inner))
        else:
            decoded[key] = decode_value(value)
    return decoded


def _members_of(
    document: dict[str, Any], arrays: dict[str, np.ndarray], path: Any
) -> list[Forecaster]:
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
) -> Forecaster:
    """The forecaster a (member's) document and its arrays (names without prefix) describe."""
    name = document.get("estimator")
    cls = _resolve(name, path, where)
    dropped = document.get("dropped_params") or []
    if not isinstance(dropped, list) or not all(isinstance(d, str) for d in dropped):
        raise fail(path, f"it is damaged{where} (its dropped_params are not a list of names)")
    _check_complete(cls, document.get("params"), dropped, path, f"its {name}{where}")
    try:
        estimator = cls(**_decode_params(document["params"], path, name, dropped))
        attributes = decode_attributes(document["fitted"], arrays)
        own = {k[len("model.") :]: v for k, v in arrays.items() if k.startswith("model.")}
        members = _members_of(document, arrays, path) if "members" in document else []
        metadata = dict(document.get("model") or {})
        backtest = document.get("backtest")
        estimator._restore_saved(attributes, own, metadata, members, backtest)
    except ModelFileError as exc:
        if str(exc).startswith("Cannot load model file"):
            raise  # already one line naming the file (a member's, or a nested class)
        raise fail(path, f"it is inconsistent{where}: {exc}") from None
    except Exception as exc:  # any inconsistency means a bad file
        raise fail(path, f"it is inconsistent{where} ({type(exc).__name__}: {exc})") from None
    return estimator
