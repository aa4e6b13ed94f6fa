"""JSON encodings of what a saved model carries besides arrays: frequencies, timestamps, ids.

Every ``encode_*`` has a ``decode_*`` that gives back an equal object, and each encoder
checks that round trip before it answers, so a value that JSON cannot carry faithfully is
refused when the model is saved (naming the value), never discovered when it is loaded.

* **frequency** (a pandas ``DateOffset``): its alias (``"B"``, ``"MS"``, ``"15min"``), or for
  the custom business calendars (``CustomBusinessDay`` ...) a mapping with the holidays and
  the weekmask, which an alias (``"C"``) would lose, and for ``DateOffset(months=k)`` (data
  stamped mid-month, which has no alias) ``{"kind": "DateOffset", "months": k}``;
* **timestamps** (a ``DatetimeIndex``): ISO strings plus the resolution (``"us"``,
  ``"ns"``) and time zone, so the restored index has the same dtype, and forecasts the same
  index dtype;
* **series ids**: ``str``, ``int`` or NumPy integers, with their NumPy dtype;
* **values** (estimator parameters, attributes): JSON with tags for what JSON lacks:
  ``{"__offset__": ...}`` for a frequency, ``{"__tuple__": [...]}`` for a tuple.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

__all__ = [
    "NotEncodable",
    "decode_ids",
    "decode_offset",
    "decode_times",
    "decode_value",
    "encode_ids",
    "encode_offset",
    "encode_times",
    "encode_value",
]

# Custom business calendars: an alias would drop their holidays and weekmask.
_CUSTOM = {
    "CustomBusinessDay": pd.offsets.CustomBusinessDay,
    "CustomBusinessMonthBegin": pd.offsets.CustomBusinessMonthBegin,
    "CustomBusinessMonthEnd": pd.offsets.CustomBusinessMonthEnd,
    "CustomBusinessHour": pd.offsets.CustomBusinessHour,
}


class NotEncodable(ValueError):
    """A value that the model file cannot carry faithfully (the message says which)."""


def _same(a: Any, b: Any) -> bool:
    """Equality that also compares types (1 != 1.0 != True) and container kinds."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


# ------------------------------------------------------------------------------ frequency


def encode_offset(offset: pd.offsets.BaseOffset) -> str | dict[str, Any]:
    """A pandas offset as an alias, or a mapping for the custom business calendars."""
    kind = type(offset).__name__
    if kind in _CUSTOM:
        custom: Any = offset  # one of _CUSTOM's classes, whose attributes BaseOffset lacks
        data: dict[str, Any] = {
            "kind": kind,
            "n": int(custom.n),
            "normalize": bool(custom.normalize),
            "weekmask": str(custom.weekmask),
            # The busdaycalendar holds every holiday, also those that came from calendar=.
            "holidays": [str(d) for d in np.asarray(custom.calendar.holidays, "datetime64[D]")],
            "offset_us": int(custom.offset / dt.timedelta(microseconds=1)),
        }
        if kind == "CustomBusinessHour":
            data["start"] = [t.isoformat() for t in custom.start]
            data["end"] = [t.isoformat() for t in custom.end]
        encoded: str | dict[str, Any] = data
    elif type(offset) is pd.DateOffset and set(offset.kwds) == {"months"}:
        encoded = {"kind": "DateOffset", "n": int(offset.n), "months": int(offset.kwds["months"])}
    else:
        encoded = offset.freqstr
    try:
        same = decode_offset(encoded) == offset
    except (ValueError, TypeError):
        same = False
    if not same:
        raise NotEncodable(
            f"the frequency {offset!r} cannot be saved: it has no pandas alias that gives it "
            "back. Use an alias such as 'D', 'B', 'MS', a CustomBusinessDay, or "
            "pandas.DateOffset(months=k) alone (no other argument) for data stamped mid-month."
        )
    return encoded


def decode_offset(data: str | dict[str, Any]) -> pd.offsets.BaseOffset:
    """Inverse of :func:`encode_offset`; raises ``ValueError`` or ``TypeError`` if invalid."""
    if isinstance(data, str):
        return to_offset(data)
    if isinstance(data, dict) and data.get("kind") == "DateOffset":
        n, months = data.get("n", 1), data.get("months")
        if type(n) is not int or type(months) is not int:  # bool is no int here
            raise ValueError(f"a month frequency needs integer n and months: {data!r}")
        return pd.DateOffset(n=n, months=months)
    if not isinstance(data, dict) or data.get("kind") not in _CUSTOM:
        raise ValueError(f"unknown frequency {data!r}")
    kwargs: dict[str, Any] = {
        "n": int(data.get("n", 1)),
        "normalize": bool(data.get("normalize", False)),
        "weekmask": data.get("weekmask", "Mon Tue Wed Thu Fri"),
        "holidays": list(data.get("holidays", [])),
        "offset": dt.timedelta(microseconds=int(data.get("offset_us", 0))),
    }
    if data["kind"] == "CustomBusinessHour":
        kwargs["start"] = list(data.get("start", ["09:00"]))
        kwargs["end"] = list(data.get("end", ["17:00"]))
    return _CUSTOM[data["kind"]](**kwargs)


# ------------------------------------------------------------------------------ timestamps


def _tz_name(tz: Any) -> str | None:
    if tz is None:
        return None
    return getattr(tz, "key", None) or getattr(tz, "zone", None) or str(tz)


def encode_times(times: pd.DatetimeIndex) -> dict[str, Any]:
    """A ``DatetimeIndex`` as ISO strings (UTC wall time if tz-aware), resolution and zone."""
    times = pd.DatetimeIndex(times)
    name = times.name if times.name is None or isinstance(times.name, str | int) else None
    naive = times.tz_convert("UTC").tz_localize(None) if times.tz is not None else times
    data = {
        "unit": str(times.unit),
        "tz": _tz_name(times.tz),
        "name": name,
        "values": [None if pd.isna(t) else t.isoformat() for t in naive],
    }
    back = decode_times(data)
    if not (back.equals(times) and back.dtype == times.dtype):
        raise NotEncodable(f"the timestamps {times[:3].tolist()}... cannot be saved exactly")
    return data


def decode_times(data: dict[str, Any]) -> pd.DatetimeIndex:
    """Inverse of :func:`encode_times`."""
    times = pd.DatetimeIndex(
        pd.to_datetime(data["values"], format="ISO8601"), name=data.get("name")
    )
    times = times.as_unit(data["unit"])
    if data.get("tz") is not None:
        times = times.tz_localize("UTC").tz_convert(data["tz"])
    return times


# ------------------------------------------------------------------------------ series ids


def encode_ids(ids: list[Any]) -> dict[str, Any]:
    """Series ids (``[None]`` for a wide frame) with their type: ``str``, ``int``, NumPy int."""
    if all(i is None for i in ids):
        kind = "none"
    elif all(isinstance(i, str) for i in ids):
        kind = "str"
    elif all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        kind = "int"
    elif all(isinstance(i, np.integer) for i in ids) and len({type(i) for i in ids}) == 1:
        kind = np.dtype(type(ids[0])).name
    else:
        types = sorted({type(i).__name__ for i in ids})
        raise NotEncodable(
            f"series ids of type {', '.join(types)} cannot be saved; use str or int ids"
        )
    values = [i.item() if isinstance(i, np.integer) else i for i in ids]
    return {"kind": kind, "values": values}


def decode_ids(data: dict[str, Any]) -> list[Any]:
    """Inverse of :func:`encode_ids`; ``ValueError`` for ids of another type than their kind
    says, or the same id twice (two series a forecast could not tell apart)."""
    kind, values = data["kind"], data["values"]
    if not isinstance(values, list):
        raise ValueError(f"series ids must be a list, not {type(values).__name__}")
    if kind in ("none", "str", "int"):
        wanted = {"none": type(None), "str": str, "int": int}[kind]
        if not all(type(v) is wanted for v in values) or (kind == "none" and len(values) != 1):
            raise ValueError(f"series ids {values[:5]!r} are not of their kind {kind!r}")
        ids = values
    else:
        dtype = np.dtype(kind)
        if dtype.kind not in "iu" or not all(type(v) is int for v in values):
            raise ValueError(f"unknown series id type {kind!r}, or ids not of it")
        ids = [dtype.type(v) for v in values]
    if len(set(values)) != len(values):
        raise ValueError("the same series id is saved twice")
    return ids


# ------------------------------------------------------------------------------ values


# Tags of the encoding (an offset, a tuple, an ensemble's nested base estimator in
# persistence.py): a user's dict holding one would decode as something else.
RESERVED_KEYS = frozenset({"__offset__", "__tuple__", "__estimator__"})


def _encode(value: Any, where: str) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        if not math.isfinite(value):
            raise NotEncodable(f"{where} = {value!r} is not a finite number")
        return float(value)
    if isinstance(value, pd.offsets.BaseOffset):
        return {"__offset__": encode_offset(value)}
    if isinstance(value, list):
        return [_encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, f"{where}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise NotEncodable(f"{where} has keys that are not strings")
        reserved = sorted(RESERVED_KEYS & set(value))
        if reserved:
            raise NotEncodable(f"{where} uses the reserved key(s) {reserved}; rename them")
        return {k: _encode(v, f"{where}[{k!r}]") for k, v in value.items()}
    raise NotEncodable(f"{where} = {value!r} ({type(value).__name__}) is not JSON-representable")


def encode_value(value: Any, where: str = "value") -> Any:
    """A JSON-ready copy of ``value``; raises :class:`NotEncodable` naming ``where``.

    NumPy scalars become Python numbers (an equal value), tuples and offsets are tagged.
    """
    encoded = _encode(value, where)
    plain = _plain(value)
    if not _same(decode_value(json.loads(json.dumps(encoded))), plain):
        raise NotEncodable(f"{where} = {value!r} does not survive a JSON round trip")
    return encoded


def _plain(value: Any) -> Any:
    """``value`` with NumPy scalars as Python numbers (what decoding gives back)."""
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def decode_value(data: Any) -> Any:
    """Inverse of :func:`encode_value`."""
    if isinstance(data, list):
        return [decode_value(v) for v in data]
    if isinstance(data, dict):
        if set(data) == {"__offset__"}:
            return decode_offset(data["__offset__"])
        if set(data) == {"__tuple__"}:
            return tuple(decode_value(v) for v in data["__tuple__"])
        return {k: decode_value(v) for k, v in data.items()}
    return data
