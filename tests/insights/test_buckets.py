"""Bucket edges on both engines: months, years and weeks in the client's wall-clock time."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from helioscope.errors import BadRequest
from helioscope.store import Buckets, LogRow, Store, TimeWindow
from helioscope.store.log import metrics

ORG = "00000000-0000-4000-8000-00000000b0c7"


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)


def row(created: dt.datetime) -> LogRow:
    return LogRow(
        request_id=str(uuid.uuid4()),
        organization_id=ORG,
        request_created_at=created,
        status=200,
        provider="OPENAI",
    )


@pytest.mark.parametrize(
    ("unit", "tz", "created", "bucket"),
    [
        # 23:30 UTC on Jan 31 is 00:30 on Feb 1 an hour east of UTC (offset -60).
        ("month", -60, at(2026, 1, 31, 23, 30), at(2026, 1, 31, 23, 0)),
        ("month", 0, at(2026, 1, 31, 23, 30), at(2026, 1, 1)),
        ("year", -60, at(2025, 12, 31, 23, 30), at(2025, 12, 31, 23, 0)),
        ("year", 300, at(2026, 1, 1, 3, 0), at(2025, 1, 1, 5, 0)),
        # Sunday 23:30 UTC is Monday 00:30 an hour east: the week starting that Monday.
        ("week", -60, at(2026, 11, 1, 23, 30), at(2026, 11, 1, 23, 0)),
        ("week", 0, at(2026, 11, 1, 23, 30), at(2026, 10, 26)),
        ("hour", 330, at(2026, 11, 1, 5, 45), at(2026, 11, 1, 5, 30)),
        ("minute", 0, at(2026, 11, 1, 5, 45, 30), at(2026, 11, 1, 5, 45)),
    ],
)
async def test_rows_fall_in_the_local_bucket(
    store: Store, unit: str, tz: int, created: dt.datetime, bucket: dt.datetime
) -> None:
    await store.log.write_batch([row(created)])
    window = TimeWindow(created - dt.timedelta(seconds=1), created + dt.timedelta(seconds=1))
    got = await store.log.org(ORG).read(
        metrics.over_time, "all", window, Buckets(unit, tz), ["count"]
    )
    assert [(r["time"], r["count"]) for r in got] == [(bucket, 1.0)]


def test_bucket_arithmetic() -> None:
    month = Buckets("month", 0)
    assert month.next(dt.datetime(2026, 12, 1)) == dt.datetime(2027, 1, 1)
    assert Buckets("year", 0).next(dt.datetime(2026, 1, 1)) == dt.datetime(2027, 1, 1)
    window = TimeWindow(at(2026, 1, 15), at(2026, 4, 2))
    assert [s.month for s in month.starts(window)] == [1, 2, 3, 4]
    with pytest.raises(BadRequest, match="dbIncrement"):
        Buckets.parse("fortnight", 0)
    with pytest.raises(BadRequest, match="timeZoneDifference"):
        Buckets.parse("day", 5000)
    with pytest.raises(BadRequest, match="timeFilter"):
        TimeWindow(at(2026, 2, 1), at(2026, 1, 1))
    with pytest.raises(BadRequest, match="dbIncrement"):
        Buckets("minute", 0).check(TimeWindow(at(2025, 1, 1), at(2026, 1, 1)))


@pytest.mark.parametrize("tz", [-600, 600])
@pytest.mark.parametrize("unit", ["week", "month", "year"])
def test_windows_at_the_ends_of_the_calendar_have_buckets(tz: int, unit: str) -> None:
    # Shifted to the client's clock, or stepped to the next month, these left Python's years.
    for start, end in (
        (dt.datetime.min.replace(tzinfo=dt.UTC), at(3, 1, 1)),
        (at(9997, 6, 1), dt.datetime.max.replace(tzinfo=dt.UTC)),
    ):
        starts = list(Buckets(unit, tz).starts(TimeWindow(start, end)))
        assert starts and starts == sorted(starts)
