"""Estimator parameters on the command line: flags made from the signature, and TOML configs.

Every keyword of the estimator's ``__init__`` becomes a flag (``seq_len`` -> ``--seq-len``),
typed from its annotation and documented from the class docstring, so a parameter added to
an estimator is on the command line with no change here. Values:

* ``int``/``float``: numbers; ``bool``: ``true``/``false`` (also ``1``/``0``, ``yes``/``no``);
* a type that allows ``None``: ``none`` (or ``null``) gives ``None``;
* ``list[str]``: comma-separated (``--target close,open``);
* ``list[float]``: comma-separated numbers (``--quantiles 0.1,0.5,0.9``); a parameter that
  also takes one float (``--coverage 0.9``) gives a float without a comma;
* ``dict`` (``--trainer-kwargs``): a JSON object;
* ``freq``: an alias (``B``, ``MS``), or a JSON object for a business calendar with holidays
  (``{"holidays": ["2024-12-25"], "weekmask": "Mon Tue Wed Thu Fri"}``);
* anything else: a JSON number, ``null`` or ``true``/``false`` if it parses as one, else text.

A config file (TOML, ``--config job.toml``) holds the same parameters in a ``[model]`` table
(with an optional ``estimator = "lstm"``, and ``ensemble = 5`` for the median of five seeds)
and each command's options in ``[fit]``, ``[predict]``, ``[backtest]``; flags override it.
Relative paths in a config file are relative to the file's folder, so a cron line may run
from anywhere.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import re
import sys
from collections.abc import Collection
from pathlib import Path
from typing import Any

from forecast._exceptions import UsageError

__all__ = [
    "add_estimator_flags",
    "coerce_param",
    "estimator_aliases",
    "load_config",
    "resolve_cli_estimator",
]

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SECTIONS = ("model", "fit", "predict", "backtest")
# Parameter names that would collide with the command line's own options get this prefix.
RESERVED = {"verbose", "quiet", "config", "model_config", "data", "out", "help"}
RESERVED |= {"estimator", "ensemble", "preset", "partner", "partner_weight"}  # also keys of [model]
PREFIX = "estimator-"
# What the command line does differently from the Python defaults, said in the help.
_NOTES = {
    "progress_bar": "Here: on only when stderr is a terminal and --quiet is not given.",
    "freq": 'A JSON object makes a CustomBusinessDay: {"holidays": ["2024-12-25"]}.',
}


def _alias(class_name: str) -> str:
    return class_name.lower().removesuffix("forecaster")


def estimator_aliases() -> dict[str, type]:
    """``{"rnn": RNNForecaster, "lstm": LSTMForecaster, ...}`` for every built-in forecaster.

    Wrappers (:class:`~forecast.EnsembleForecaster`) are not among them.
    """
    from forecast.forecasters.builtin import BUILTIN, WRAPPERS

    return {_alias(cls.__name__): cls for cls in BUILTIN if cls not in WRAPPERS}


def resolve_cli_estimator(name: str) -> type:
    """The forecaster class for ``--estimator NAME``.

    ``NAME`` is a built-in forecaster (``lstm``, ``LSTMForecaster``, ``naive``), or a
    forecaster of your own as ``module:Class`` (``mypkg.models:MyForecaster``): the module
    the user names is imported, from the installed packages or the current folder (put
    first on ``sys.path``, as ``python -m`` and ``uvicorn`` do).
    """
    from forecast.forecasters.base import BaseForecaster
    from forecast.forecasters.builtin import WRAPPERS

    if ":" in str(name):
        return _import_forecaster(str(name), BaseForecaster)
    key = _alias(re.sub(r"[-_\s]", "", str(name)))
    aliases = estimator_aliases()
    wrappers = {_alias(w.__name__): (w.__name__, usage) for w, usage in WRAPPERS.items()}
    if key in wrappers:
        wrapper, usage = wrappers[key]
        raise UsageError(
            f"{wrapper} wraps another estimator; choose that one and wrap it: {usage}."
        )
    if key not in aliases:
        raise UsageError(
            f"Unknown estimator {name!r}; choose one of {', '.join(aliases)}, or name a "
            "forecaster of your own as module:Class."
        )
    return aliases[key]


def _import_forecaster(spec: str, base: type) -> type:
    """The class ``module:Class`` names, which must be a forecaster."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr or module_name.startswith("."):
        raise UsageError(f"--estimator {spec!r} must be module:Class, e.g. mypkg.models:Mine.")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # the user's module failed to import: say so, exit 2
        raise UsageError(
            f"Cannot import {module_name!r} for --estimator {spec}: {type(exc).__name__}: {exc}"
        ) from None
    cls: Any = module
    for part in attr.split("."):
        cls = getattr(cls, part, None)  # a dotted class path inside the module
        if cls is None:
            raise UsageError(f"Module {module_name!r} has no {attr!r} (--estimator {spec}).")
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise UsageError(
            f"--estimator {spec} is not a forecaster: it must name a subclass of "
            "forecast.BaseForecaster."
        )
    return cls


# ------------------------------------------------------------------------------ flags


def _param_docs(cls: type) -> dict[str, str]:
    """Each parameter's numpydoc type (without its default) and first sentence.

    Read from the class and the classes it derives from (``LSTMForecaster`` documents only
    ``cell``, and refers to ``RNNForecaster`` for the others); the nearest class wins.
    """
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        docs.update(_own_param_docs(klass))
    return docs


def _own_param_docs(cls: type) -> dict[str, str]:
    doc = (cls.__doc__ and inspect.cleandoc(cls.__doc__)) or ""
    match = re.search(r"Parameters\n-+\n(.*?)(?:\n\n[A-Z][a-z]+\n-+\n|\Z)", doc, re.S)
    kinds: dict[str, str] = {}
    texts: dict[str, list[str]] = {}
    names: list[str] = []
    for line in (match.group(1) if match else "").splitlines():
        if line.startswith("*"):  # **params: "the others", documented by a base class
            names = []
        elif line and not line.startswith(" ") and " : " in line:
            head, kind = line.split(" : ", 1)
            names = [n.strip() for n in head.split(",")]
            for n in names:
                kinds[n], texts[n] = re.sub(r",?\s*default .*", "", kind.strip()), []
        elif line.strip():
            for n in names:
                texts[n].append(line.strip())
    docs = {}
    for n, kind in kinds.items():
        # The first sentence: up to a full stop and a space, but not "e.g. " or "i.e. ",
        # nor a stop inside brackets ("(sorted, in (0, 1), e.g. [0.1, 0.9])").
        sentence = _first_sentence(" ".join(texts[n]))
        docs[n] = f"{kind}. {sentence}".strip().rstrip(".").replace("``", "") + "."
    return {k: v.replace("%", "%%") for k, v in docs.items()}


def _first_sentence(text: str) -> str:
    """``text`` up to its first full stop followed by a space, outside brackets and
    abbreviations (``e.g.``, ``i.e.``)."""
    depth = 0
    for i, char in enumerate(text):
        depth += (char in "([{") - (char in ")]}")
        if (
            char == "."
            and depth <= 0
            and text[i + 1 : i + 2] == " "
            and not text[: i + 1].endswith(("e.g.", "i.e.", "etc.", "vs."))
        ):
            return text[: i + 1]
    return text


def _metavar(annotation: str) -> str:
    for word, metavar in (
        ("dict", "JSON"),
        ("list[float]", "NUM[,NUM]"),
        ("list[", "COL[,COL]"),
        ("bool", "BOOL"),
    ):
        if word in annotation:
            return metavar
    for start, metavar in (("int | float", "NUM"), ("int", "INT"), ("float", "FLOAT")):
        if annotation.startswith(start):
            return metavar
    return "VALUE"


def _parse_bool(text: str) -> bool:
    value = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
    if text.lower() not in value:
        raise ValueError(f"expected true or false, got {text!r}")
    return value[text.lower()]


def _converter(name: str, annotation: str) -> Any:
    """A function of the flag's text to the parameter's value, from the annotation text."""
    allows_none = "None" in annotation or annotation in ("Any", "")

    def convert(text: str) -> Any:
        if allows_none and text.lower() in ("none", "null"):
            return None
        if "dict" in annotation:
            value = json.loads(text)
            if not isinstance(value, dict):
                raise ValueError('expected a JSON object such as \'{"accelerator": "cpu"}\'')
            return value
        if name == "freq" and text.lstrip().startswith("{"):
            return coerce_param("freq", json.loads(text))
        if annotation.startswith("bool"):
            return _parse_bool(text)
        if "list[" in annotation and ("," in text or not annotation.startswith(("str", "float"))):
            parts = [part.strip() for part in text.split(",") if part.strip()]
            return [float(p) for p in parts] if "list[float]" in annotation else parts
        if annotation.startswith("int | float"):
            return int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)
        if annotation.startswith("int"):
            return int(text)
        if annotation.startswith("float"):
            return float(text)
        if annotation.startswith("str"):
            return text
        try:  # Any: a JSON scalar (number, true/false, null) if it is one, else the text
            value = json.loads(text)
        except ValueError:
            return text
        return value if isinstance(value, int | float | bool) or value is None else text

    convert.__name__ = annotation or "value"  # argparse names it in "invalid ... value"
    return convert


def add_estimator_flags(
    parser: argparse.ArgumentParser, cls: type, taken: Collection[str] = ()
) -> list[str]:
    """Add one flag per parameter of ``cls``; return the parameter names.

    A parameter named like one of :data:`RESERVED` or of the command's own options
    (``taken``: ``window`` for ``backtest``) gets the flag ``--estimator-NAME``.

    Flags default to ``argparse.SUPPRESS``: only the parameters given are in the namespace,
    so a config file's values are overridden by flags, never by flag defaults.
    """
    group = parser.add_argument_group(
        f"{cls.__name__} parameters", "Override the [model] table of --config."
    )
    docs = _param_docs(cls)
    names = []
    for p in inspect.signature(cls).parameters.values():
        if p.kind not in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD):
            continue
        annotation = p.annotation if isinstance(p.annotation, str) else ""
        flag = p.name.replace("_", "-")
        if p.name in RESERVED or p.name in taken:
            flag = PREFIX + flag
        default = "" if p.default is p.empty else f" Default: {p.default!r}."
        default += f" {_NOTES[p.name]}" if p.name in _NOTES else ""
        group.add_argument(
            f"--{flag}",
            dest=f"param.{p.name}",
            type=_converter(p.name, annotation),
            default=argparse.SUPPRESS,
            metavar=_metavar(annotation),
            help=docs.get(p.name, annotation) + default,
        )
        names.append(p.name)
    return names


def coerce_param(name: str, value: Any) -> Any:
    """Turn config values JSON/TOML cannot express directly into parameter values."""
    if name == "freq" and isinstance(value, dict):
        from forecast.io.codecs import decode_offset

        spec = {"kind": "CustomBusinessDay", **value}
        spec["holidays"] = [str(h) for h in spec.get("holidays", [])]
        try:
            return decode_offset(spec)
        except (ValueError, TypeError) as exc:
            raise UsageError(f"Cannot make a frequency of {value!r}: {exc}") from None
    return value


# ------------------------------------------------------------------------------ config


def load_config(path: str | Path) -> dict[str, dict[str, Any]]:
    """Read a TOML job file: ``{"model": {...}, "fit": {...}, "predict": ..., "backtest": ...}``.

    Relative paths (values of ``data``, ``out``, ``model``) are made relative to the file.

    Raises
    ------
    UsageError
        Missing or unreadable file, invalid TOML, unknown tables; the message names the file.
    """
    path = Path(path)
    try:
        with path.open("rb") as f:
            raw = tomllib.load(f)
    except FileNotFoundError:
        raise UsageError(f"Config file '{path}': no such file.") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"Config file '{path}' cannot be read: {exc}") from None
    unknown = [k for k in raw if k not in SECTIONS or not isinstance(raw[k], dict)]
    if unknown:
        raise UsageError(
            f"Config file '{path}': unknown entries {unknown}; it may hold the tables "
            f"{', '.join(f'[{s}]' for s in SECTIONS)} (estimator parameters go in [model])."
        )
    config = {section: dict(raw.get(section, {})) for section in SECTIONS}
    for section in ("fit", "predict", "backtest"):
        for key in ("data", "out", "model"):
            value = config[section].get(key)
            if isinstance(value, str) and value != "-":
                config[section][key] = str(path.parent / Path(value).expanduser())
    return config
