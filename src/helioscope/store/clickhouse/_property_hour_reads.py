"""Property top values and over time from ``property_hour``: whole hours from the rollup.

``property_hour`` (``_hourly``) keeps the requests and their cost per property key, hour and
value. A window is cut at whole hours, as in ``_hourly_reads``: those come from the rollup,
the partial hours at its ends from ``request_property`` (each row one request), as rows of
the same shape. The rollup serves a lower-case key only: a mixed-case key is read, as
``filters.property_text`` reads it, from the lower-cased key for a request without it, which
is a per-request choice the rollup cannot make; ``_reads`` answers those, a filtered series,
minute buckets and an offset that is not whole hours from ``request_property``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, Subquery, and_, func, literal_column, or_, select, union_all

from helioscope.store._dialects import UtcDateTime
from helioscope.store._runner import OrgDb
from helioscope.store.clickhouse._hourly import END_HOUR, FIRST_HOUR, hour_of
from helioscope.store.clickhouse._hourly import property_hour as ph
from helioscope.store.clickhouse._properties import request_property as rp
from helioscope.store.cost import NANO_USD, usd, usd_sum
from helioscope.store.log import properties
from helioscope.store.log.timeseries import Buckets, TimeWindow, filled

_HOUR = dt.timedelta(hours=1)
Hours = tuple[dt.datetime, dt.datetime]


def whole_hours(
    key: str, window: TimeWindow, *, open_start: bool, buckets: Buckets | None = None
) -> Hours | None:
    """``(h0, h1)``: the rollup's hours inside the window, or None when it cannot serve it.

    ``open_start``: the window leaves out its start (top values' ``>``), so an hour starting
    there is not whole.
    """
    if key != key.lower():
        return None
    if buckets is not None and (buckets.unit == "minute" or buckets.tz_minutes % 60 != 0):
        return None
    start = hour_of(window.start)
    whole = start == window.start.astimezone(dt.UTC) and not open_start
    first = start if whole else start + _HOUR
    last = hour_of(window.end)
    if first >= last or first < FIRST_HOUR or last > END_HOUR:
        return None
    return first, last


def _units(db: OrgDb, key: str, hours: Hours, *within: ColumnElement[bool]) -> Subquery:
    """The key's rows as (t, value, requests, cost): the rollup's hours, then the edges."""
    first, last = hours
    from_rollup = select(
        literal_column("toDateTime64(hour, 6, 'UTC')", UtcDateTime()).label("t"),
        ph.c.value,
        ph.c.requests,
        ph.c.cost,
    ).where(db.in_org(ph), ph.c.key == key, ph.c.hour >= first, ph.c.hour < last)
    t = rp.c.request_created_at
    from_table = select(
        t.label("t"),
        rp.c.value,
        literal_column("toInt64(1)").label("requests"),
        func.coalesce(rp.c.cost, 0).label("cost"),
    ).where(and_(db.in_org(rp), rp.c.key == key, *within, or_(t < first, t >= last)))
    return union_all(from_rollup, from_table).subquery("units")


async def top_values(
    db: OrgDb, key: str, window: TimeWindow, by: str, hours: Hours
) -> tuple[list[dict[str, Any]], float]:
    """``properties.top_values`` (an open window) from the rollup and the window's edges."""
    t = rp.c.request_created_at
    u = _units(db, key, hours, t > window.start, t < window.end)
    # In the stored unit (nano-USD, exact integers), converted once summed.
    measure = func.coalesce(func.sum(u.c.cost if by == "cost" else u.c.requests), 0)
    return await top_of(db, u.c.value, measure, by)


async def top_of(
    db: OrgDb,
    value: ColumnElement[Any],
    measure: ColumnElement[Any],
    by: str,
    *where: ColumnElement[bool],
) -> tuple[list[dict[str, Any]], float]:
    """The top values by ``measure`` (in the stored unit) and the overall total.

    The total is a window over the groups: one scan of the key's rows, not two.
    """
    top = (
        select(
            value.label("value"),
            (usd(measure) if by == "cost" else measure).label(by),
            func.sum(measure).over().label("total"),
        )
        .where(*where)
        .group_by(value)
        .order_by(measure.desc(), value)
        .limit(properties.TOP_LIMIT)
    )
    rows = await db.rows(top)
    total = rows[0]["total"] if rows else 0
    for row in rows:
        del row["total"]
    return rows, float(total) / NANO_USD if by == "cost" else float(total)


async def over_time(
    db: OrgDb, key: str, window: TimeWindow, buckets: Buckets, hours: Hours
) -> list[dict[str, Any]]:
    """``properties.over_time`` without a filter, from the rollup and the window's edges."""
    t = rp.c.request_created_at
    u = _units(db, key, hours, t >= window.start, t <= window.end)
    bucket = db.dialect.time_bucket(u.c.t, buckets.unit, buckets.tz_minutes)
    stmt = (
        select(
            bucket.label("bucket"),
            u.c.value.label("property"),
            usd_sum(u.c.cost).label("total_cost"),
            func.sum(u.c.requests).label("request_count"),
        )
        .group_by(bucket, u.c.value)
        .order_by(bucket, u.c.value)
    )
    rows = await db.rows(stmt)
    empty = {"property": "", "total_cost": 0.0, "request_count": 0}
    return filled(rows, window, buckets, empty)
