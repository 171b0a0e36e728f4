"""Time buckets: the window, the unit and the client's offset; truncation and gap filling.

The database truncates (``SqlDialect.time_bucket``); this module computes the same buckets in
Python to fill the ones no row fell into, as Helicone's ``WITH FILL`` does, and shifts bucket
starts back to UTC instants.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from helioscope.errors import BadRequest
from helioscope.store._dialects import BUCKET_UNITS

# Helicone's names for the units; "min" is its spelling of minute.
UNIT_NAMES = {"min": "minute", **{u: u for u in BUCKET_UNITS}}
MAX_TZ_MINUTES = 24 * 60
MAX_BUCKETS = 10_000
_BUCKET_FORMAT = "%Y-%m-%d %H:%M:%S"
_EARLIEST = dt.datetime(2, 1, 1, tzinfo=dt.UTC)
_LATEST = dt.datetime(9998, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """``[start, end]`` in UTC, both ends included (Helicone's metrics use gte/lte)."""

    start: dt.datetime
    end: dt.datetime

    def __post_init__(self) -> None:
        # Clamped so that shifting to the client's clock and stepping to the next month or
        # year stay within Python's years 1 to 9999; no log row lies outside these anyway.
        object.__setattr__(self, "start", max(self.start, _EARLIEST))
        object.__setattr__(self, "end", min(self.end, _LATEST))
        if self.start > self.end:
            raise BadRequest("timeFilter: start is after end")


@dataclass(frozen=True, slots=True)
class Buckets:
    """How a series is cut: a unit and the client's offset (minutes west of UTC)."""

    unit: str
    tz_minutes: int = 0

    @classmethod
    def parse(cls, increment: str, tz_minutes: float, path: str = "dbIncrement") -> Buckets:
        """Validate Helicone's ``dbIncrement`` and ``timeZoneDifference``."""
        unit = UNIT_NAMES.get(increment)
        if unit is None:
            known = ", ".join(UNIT_NAMES)
            raise BadRequest(f"{path}: unknown time increment {increment!r} (known: {known})")
        if not -MAX_TZ_MINUTES <= tz_minutes <= MAX_TZ_MINUTES:
            raise BadRequest(f"timeZoneDifference: must be within ±{MAX_TZ_MINUTES} minutes")
        return cls(unit, round(tz_minutes))

    def local(self, instant: dt.datetime) -> dt.datetime:
        """The client's wall-clock time (naive) at a UTC instant."""
        return instant.astimezone(dt.UTC).replace(tzinfo=None) - dt.timedelta(
            minutes=self.tz_minutes
        )

    def truncate(self, local: dt.datetime) -> dt.datetime:
        """The start of the bucket holding a wall-clock time (as the database truncates)."""
        day = local.replace(hour=0, minute=0, second=0, microsecond=0)
        cut: dict[str, Callable[[], dt.datetime]] = {
            "minute": lambda: local.replace(second=0, microsecond=0),
            "hour": lambda: local.replace(minute=0, second=0, microsecond=0),
            "day": lambda: day,
            "week": lambda: day - dt.timedelta(days=day.weekday()),
            "month": lambda: day.replace(day=1),
            "year": lambda: day.replace(month=1, day=1),
        }
        return cut[self.unit]()

    def next(self, start: dt.datetime) -> dt.datetime:
        """The start of the bucket after ``start``."""
        if self.unit == "month":
            year, month = divmod(start.month, 12)
            return start.replace(year=start.year + year, month=month + 1)
        if self.unit == "year":
            return start.replace(year=start.year + 1)
        size = {"minute": 1, "hour": 60, "day": 1440, "week": 10080}[self.unit]
        return start + dt.timedelta(minutes=size)

    def instant(self, local_start: dt.datetime) -> dt.datetime:
        """A bucket's start as a UTC instant (its wall-clock start shifted back)."""
        return (local_start + dt.timedelta(minutes=self.tz_minutes)).replace(tzinfo=dt.UTC)

    def parse_bucket(self, text: str) -> dt.datetime:
        """The database's bucket text as a naive wall-clock time."""
        return dt.datetime.strptime(text, _BUCKET_FORMAT)

    def check(self, window: TimeWindow) -> None:
        """A 400 naming ``dbIncrement`` when the window holds too many buckets to return."""
        approx = {"minute": 1, "hour": 60, "day": 1440, "week": 10080, "month": 40320}
        minutes = (window.end - window.start).total_seconds() / 60
        if minutes / approx.get(self.unit, 525600) > MAX_BUCKETS:
            raise BadRequest(
                f"dbIncrement: more than {MAX_BUCKETS} {self.unit} buckets in this window; "
                "use a larger unit"
            )

    def starts(self, window: TimeWindow) -> Iterator[dt.datetime]:
        """Every bucket start (wall clock) from the window's first bucket to its last."""
        current = self.truncate(self.local(window.start))
        last = self.truncate(self.local(window.end))
        for _ in range(MAX_BUCKETS + 1):
            if current > last:
                return
            yield current
            current = self.next(current)
        raise BadRequest(
            f"dbIncrement: more than {MAX_BUCKETS} buckets in this window; use a larger unit"
        )


def filled(
    rows: list[dict[str, Any]], window: TimeWindow, buckets: Buckets, empty: dict[str, Any]
) -> list[dict[str, Any]]:
    """One row per bucket of the window, in order: ``rows`` where they exist, else ``empty``.

    Each row's ``bucket`` text becomes ``time``, a UTC instant. Rows with a group column (more
    than one per bucket) keep all of them.
    """
    by_bucket: dict[dt.datetime, list[dict[str, Any]]] = {}
    for row in rows:
        by_bucket.setdefault(buckets.parse_bucket(row.pop("bucket")), []).append(row)
    out: list[dict[str, Any]] = []
    for start in buckets.starts(window):
        for row in by_bucket.get(start, [dict(empty)]):
            out.append({"time": buckets.instant(start), **row})
    return out
