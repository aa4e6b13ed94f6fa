"""Dates on the command line: one rule for every source (:mod:`forecast.cli.sources`) and
file (:mod:`forecast.cli.tables`).

``--date-format`` (a :func:`~datetime.datetime.strptime` format such as ``%d/%m/%Y``) when
given, else ISO 8601 only (``2024-01-31``, ``2024-01-31T09:30:00+01:00``; never a guess
that might read day-first dates month-first); a value that does not parse is a
:class:`~forecast.DataError` naming the column, the first bad value and the flag.
Timestamps written with UTC offsets that change (a zone with daylight saving, as
``forecast predict`` writes tz-aware forecasts to CSV: ``+01:00`` in winter, ``+02:00`` in
summer) name no zone: they are read in ``--timezone`` (an IANA name), by default the saved
model's own zone, and refused without either.
"""

from __future__ import annotations

import argparse
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from forecast._exceptions import DataError, UsageError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["add_timezone_flag", "is_iana_zone", "parse_dates"]

# An ISO 8601 UTC offset after a time of day (a date's own -31 is none): the offset group.
_OFFSET = r"[T ]\d{2}(?::?\d{2}(?::?\d{2}(?:[.,]\d+)?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)$"


def add_timezone_flag(parser: argparse.ArgumentParser) -> None:
    """``--timezone``: the zone of timestamps written with changing UTC offsets."""
    parser.add_argument(
        "--timezone", default=argparse.SUPPRESS, metavar="ZONE",
        help="IANA time zone (Europe/Berlin) of the timestamps: those with UTC offsets are "
        "converted to it, naive ones are its wall times; needed when offsets change with "
        "daylight saving (default: a saved model's zone, for timestamps with offsets)",
    )  # fmt: skip


def parse_dates(
    values: pd.Series | pd.Index,
    col: Hashable,
    where: str,
    date_format: str | None,
    timezone: Any = None,
    model_zone: Any = None,
) -> Any:
    """``values`` as datetimes: with ``date_format`` if given, else ISO 8601 inference.

    ``timezone`` (``--timezone``, a name or a tzinfo): timestamps with UTC offsets are
    converted to it, naive ones are its wall times (one that does not exist there, or
    exists twice, is refused). ``model_zone`` (a saved model's IANA zone), used without
    ``timezone``: timestamps with UTC offsets are converted to it, naive ones left as they
    are. Offsets that change (daylight saving) need one of the two.

    Raises
    ------
    DataError
        Naming the column, ``where`` (the source), the first value that does not parse and
        ``--date-format``; offsets that change without a zone; timestamps with and without
        an offset in one column; a wall time that ``timezone`` skips or repeats.
    UsageError
        ``timezone`` is not a time zone.
    """
    import pandas as pd

    if timezone is not None:
        _check_zone(timezone)
    zone = model_zone if timezone is None else timezone
    if pd.api.types.is_datetime64_any_dtype(values) and date_format is None:
        return _in_zone(values, zone, timezone, col, where)  # Parquet, SQL: typed already
    text = values.astype(str) if pd.api.types.is_datetime64_any_dtype(values) else values
    # Without a format, ISO 8601 only: pandas would otherwise guess a format from the first
    # value, and read 01/02/2024 as January 2nd whether it was or not (a wrong forecast
    # dated right); day-first or other dates need --date-format.
    how = date_format or "ISO8601"
    parsed: Any
    try:
        parsed = pd.to_datetime(text, format=how)
    except (ValueError, TypeError, OverflowError):
        parsed = _changing_offsets(text, how, col, where, zone)
    if parsed is not None:
        return _in_zone(parsed, zone, timezone, col, where)
    # Find the first value that does not parse, to name it (pandas' own message is several
    # lines and names a position, not the column).
    bad = None
    for value in pd.Series(text).dropna().unique()[:100_000]:
        try:
            pd.to_datetime(value, format=how)
        except (ValueError, TypeError, OverflowError):
            bad = value
            break
    shown = f" {bad!r}" if bad is not None else ""
    if date_format is None:
        fix = (
            "Give its format with --date-format, e.g. --date-format '%d/%m/%Y' for day-first "
            "dates (2024-01-31 and 2024-01-31T09:30:00 need none)"
        )
    else:
        fix = f"It does not match --date-format {date_format!r}; correct the flag or the data"
    raise DataError(
        f"Column {col!r} of {where} does not hold dates: value{shown} is not a date. {fix}."
    )


def is_iana_zone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone (``Europe/Berlin``, ``UTC``), not an offset."""
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _check_zone(timezone: Any) -> None:
    import pandas as pd

    try:
        pd.Timestamp(0, tz=timezone)
    except Exception:  # pandas raises several types for an unknown zone name
        raise UsageError(
            f"--timezone {timezone!r} is not a time zone: give an IANA name such as "
            "Europe/Berlin, America/New_York or UTC."
        ) from None


def _in_zone(parsed: Any, zone: Any, wall: Any, col: Hashable, where: str) -> Any:
    """``parsed`` converted to ``zone`` if tz-aware; naive, localized to ``wall`` (the
    user's ``--timezone``) if given, else as it is."""
    import pandas as pd

    dates = parsed.dt if isinstance(parsed, pd.Series) else parsed
    if dates.tz is not None:
        return parsed if zone is None else dates.tz_convert(zone)
    if wall is None:
        return parsed
    try:
        return dates.tz_localize(wall, ambiguous="raise", nonexistent="raise")
    except (ValueError, TypeError) as exc:  # pandas' NonExistentTimeError, AmbiguousTimeError
        raise DataError(
            f"Column {col!r} of {where} holds a time that {wall} skips or repeats at a "
            f"daylight-saving change ({exc}): write the timestamps with their UTC offsets, or "
            "in UTC with --timezone UTC."
        ) from None


def _changing_offsets(
    text: Any, how: str, col: Hashable, where: str, timezone: Any
) -> pd.Series | pd.Index | None:
    """Timestamps whose UTC offsets differ, as UTC instants (``None``: not that case).

    pandas refuses mixed offsets without ``utc=True``. The offsets are exact instants, but
    they name no zone: without ``timezone`` a daily series would land on 23:00 and 22:00
    UTC by season, so that is refused, not guessed. Values without an offset among them
    would be read as UTC by ``utc=True``: a guess, refused too.
    """
    import pandas as pd

    strings = pd.Series(text).dropna().astype(str).str.strip()
    offsets = strings.str.extract(_OFFSET, expand=False)
    if offsets.isna().all():
        return None  # no offsets: not this case
    if offsets.isna().any():
        naive, aware = strings[offsets.isna()].iloc[0], strings[offsets.notna()].iloc[0]
        raise DataError(
            f"Column {col!r} of {where} mixes timestamps without a UTC offset ({naive!r}) and "
            f"with one ({aware!r}): write them all in one form, for example all in UTC."
        )
    try:
        instants = pd.to_datetime(text, format=how, utc=True)
    except (ValueError, TypeError, OverflowError):
        return None  # a value that is no date at all: named by the caller
    if timezone is None:
        first = strings[offsets != offsets.iloc[0]].iloc[0]
        raise DataError(
            f"Column {col!r} of {where} holds timestamps with different UTC offsets "
            f"({offsets.iloc[0]} at {strings.iloc[0]!r}, {offsets[strings == first].iloc[0]} "
            f"at {first!r}): a zone with daylight saving, written as offsets, which do not "
            "name the zone. Give it with --timezone (an IANA name such as Europe/Berlin), "
            "or write the timestamps in UTC."
        )
    return instants
