"""The forecaster classes a model file may name: those defined in this process, by name.

Every subclass of :class:`~forecast.BaseForecaster` registers itself here when its class
statement runs (``BaseForecaster.__init_subclass__``). Loading a file looks its
``estimator`` name up in this table and nowhere else: **nothing is ever imported because a
file names it**, so a file can only build a class the program has already defined. The
built-in forecasters are registered under their class name (``"LSTMForecaster"``, as files
have always named them); any other class under ``"module:qualname"``, which cannot collide
with a built-in name. :func:`forecast.load` imports the built-in forecasters first; a
model of your own class loads wherever your class is imported.
"""

from __future__ import annotations

import inspect

__all__ = ["class_name", "register", "registered_name", "resolve"]

_CLASSES: dict[str, type] = {}


def class_name(cls: type) -> str:
    """The name a model file gives ``cls``: its own for forecast's, else ``module:qualname``."""
    if cls.__module__.split(".")[0] == "forecast":
        return cls.__name__
    return f"{cls.__module__}:{cls.__qualname__}"


def register(cls: type) -> None:
    """Make ``cls`` loadable by :func:`class_name`; abstract classes are left out.

    A class defined again under the same name (a notebook cell run twice) replaces the
    earlier one.
    """
    if not inspect.isabstract(cls):
        _CLASSES[class_name(cls)] = cls


def registered_name(estimator: object) -> str | None:
    """The name ``estimator``'s class is registered under, or None if it is not."""
    name = class_name(type(estimator))
    return name if _CLASSES.get(name) is type(estimator) else None


def resolve(name: object) -> type:
    """The class registered as ``name``; ``KeyError`` if there is none."""
    if not isinstance(name, str) or name not in _CLASSES:
        raise KeyError(name)
    return _CLASSES[name]
