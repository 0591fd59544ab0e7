"""The `dateTime` and `duration` formats of Table B-3 (EMAP-B-10).

dateTime: RFC 3339 in UTC with ``Z`` and a real date and time (leap second 60 not representable: rejected).
duration: ISO 8601 subset ``PnW`` / ``PnDTnHnMnS``, no sign, one day = 86400 s.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_DATETIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z$")
_DURATION = re.compile(r"^P(?:(\d+)W|(?=\d|T\d)(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?)$")


def parse_duration(text: str) -> float:
    """Seconds of a Table B-3 duration; ValueError naming the text when it is not one."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"not an EMAP duration: {text!r}")
    weeks, days, hours, minutes, seconds = match.groups()
    return (int(weeks or 0) * 604800 + int(days or 0) * 86400 + int(hours or 0) * 3600 + int(minutes or 0) * 60
            + float(seconds or 0))


def format_duration(seconds: float) -> str:
    """``PT<seconds>S`` (e.g. ``PT1S``, ``PT0.5S``, ``PT0S``)."""
    if seconds < 0:
        raise ValueError(f"negative duration: {seconds}")
    if float(seconds).is_integer():
        return f"PT{int(seconds)}S"
    return f"PT{format(seconds, 'f').rstrip('0')}S"


def parse_datetime(text: str) -> datetime:
    """Aware UTC datetime of a Table B-3 dateTime; ValueError naming the text when it is not one."""
    match = _DATETIME.match(text) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"not an EMAP dateTime (RFC 3339, UTC with Z): {text!r}")
    year, month, day, hour, minute, second, fraction = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=UTC)
    except ValueError as exc:
        raise ValueError(f"not a valid date and time: {text!r} ({exc})") from None


def format_datetime(dt: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS(.fff)Z``; a naive datetime is taken as UTC."""
    dt = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    text = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if dt.microsecond:
        text += f".{dt.microsecond // 1000:03d}" if dt.microsecond % 1000 == 0 else f".{dt.microsecond:06d}"
    return text + "Z"


def utc_now() -> datetime:
    """The current time, aware UTC."""
    return datetime.now(UTC)


def add(dt: datetime, duration: str) -> datetime:
    """``dt`` plus a Table B-3 duration."""
    return dt + timedelta(seconds=parse_duration(duration))
