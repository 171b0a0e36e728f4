"""Filter values: checked against the kind of column they are compared with."""

from __future__ import annotations

import datetime as dt
import math
from enum import Enum
from typing import Any

from helioscope.errors import InvalidFilter


class Kind(Enum):
    """What a filterable column holds, and so which operators and values it takes."""

    TEXT = "text"
    NUMBER = "number"
    TIMESTAMP = "timestamp"
    # Helicone types `request.created_at` and `feedback.created_at` as plain strings: a value
    # that is not a time is accepted and matches nothing, rather than failing the query.
    TIMESTAMP_TEXT = "timestamp (string)"
    BOOL = "boolean"
    VECTOR = "vector"  # body search: only `contains`


# The longest text a pattern operator (`like`, `ilike`, `contains`, `not-contains`) takes. SQLite
# refuses a LIKE or GLOB pattern past 50,000 bytes with the error an outage raises, which made one
# client's long pattern a 503 and the server's outage state; 10,000 characters stay under it
# however they are encoded and escaped (4 bytes a character at most), and the limit is the same
# on every engine.
MAX_PATTERN_CHARS = 10_000


def check_pattern(value: str, path: str) -> str:
    """A pattern operator's text, refused past ``MAX_PATTERN_CHARS``."""
    if len(value) > MAX_PATTERN_CHARS:
        raise InvalidFilter(
            f"{path}: a pattern of {len(value)} characters is longer than the limit of "
            f"{MAX_PATTERN_CHARS}"
        )
    return value


def check_text(value: str, path: str) -> str:
    """A string the database can hold (PostgreSQL text cannot hold a NUL character)."""
    if "\x00" in value:
        raise InvalidFilter(f"{path}: a NUL character is not allowed")
    return value


def as_text(value: Any, path: str) -> str:
    """A string value (numbers are accepted and written as text, as Helicone's UI sends them)."""
    if isinstance(value, str):
        return check_text(value, path)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise InvalidFilter(f"{path}: expected a string, got {value!r}")


def as_number(value: Any, path: str) -> float:
    """A finite number; numeric strings are accepted."""
    if isinstance(value, bool):
        raise InvalidFilter(f"{path}: expected a number, got {value!r}")
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise InvalidFilter(f"{path}: expected a number, got {value!r}") from None
    else:
        raise InvalidFilter(f"{path}: expected a number, got {value!r}")
    if not math.isfinite(number):
        raise InvalidFilter(f"{path}: expected a finite number, got {value!r}")
    return number


def as_timestamp(value: Any, path: str) -> dt.datetime:
    """An ISO 8601 time (``Z`` or offset; no offset means UTC) or epoch milliseconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return dt.datetime.fromtimestamp(value / 1000, dt.UTC)
        except (OverflowError, OSError, ValueError):
            raise InvalidFilter(f"{path}: {value!r} is not a valid epoch time in ms") from None
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidFilter(f"{path}: expected an ISO 8601 time, got {value!r}") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    raise InvalidFilter(f"{path}: expected an ISO 8601 time, got {value!r}")


def as_bool(value: Any, path: str) -> bool:
    """A boolean; the strings ``"true"`` and ``"false"`` are accepted."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise InvalidFilter(f"{path}: expected true or false, got {value!r}")
