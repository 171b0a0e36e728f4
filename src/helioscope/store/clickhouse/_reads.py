"""ClickHouse forms of reads that run unchanged but slowly, and why.

Every log read runs unchanged on ClickHouse (``tests/store/clickhouse/test_query_parity.py``
proves the answers equal SQLite's). ``READS`` gives some a faster form, which
``ClickHouseOrgRunner.read`` runs in their place, with the same answers:

- ``property_keys`` (used by the benchmarks): the store's function expands every row's
  properties (an ARRAY JOIN of each Map's keys), which took 3.9 s at 10,000,000 rows; this
  reads the ``property_key`` table a materialized view keeps (one row per key), minus the
  hidden keys.
- property values search, top values and over time read ``request_property`` (one row per
  request and key, ``_properties``) instead of looking the key up in every log row's Map: a
  Map lookup reads all keys and values of every row (README: "Properties out of the scan");
  top values, and over time without a filter, read the window's whole hours from the
  per-hour rollup ``property_hour`` (``_property_hour_reads``) and only its edges there.
  Keys the log keeps as columns (``Helicone-Session-*``) are read from those, by the store's
  own functions.
- unfiltered dashboard totals, series and breakdowns and the users overview read the per-hour
  rollup ``request_hour`` (``_hourly_reads``) for the window's whole hours, and so does the
  user metrics page without a filter on rows (``_user_reads``); unfiltered latency quantiles
  read the per-hour histogram ``latency_hour`` the same way.
- the session page filtered by one property equal to a value (and session totals) reads
  ``session_property`` (``_session_reads``) instead of grouping the matching log rows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    MetaData,
    String,
    Table,
    and_,
    func,
    or_,
    select,
    tuple_,
)

from helioscope.store._dialects import UtcDateTime
from helioscope.store._runner import OrgDb
from helioscope.store.clickhouse import _hourly_reads as hourly
from helioscope.store.clickhouse import _property_hour_reads as property_hours
from helioscope.store.clickhouse import _session_reads, _user_reads
from helioscope.store.clickhouse._properties import request_property as rp
from helioscope.store.cost import usd_sum
from helioscope.store.filters import compile_filter
from helioscope.store.filters._fields import property_column
from helioscope.store.filters._values import check_text
from helioscope.store.log import metrics, properties, sessions, users
from helioscope.store.log.timeseries import Buckets, TimeWindow, filled
from helioscope.store.tables.log import hidden_property_key as hidden
from helioscope.store.tables.log import request_response as rr

_metadata = MetaData()

# Kept by the materialized view of ``_schema.property_keys_view`` (a set: replays cannot spoil it).
property_key = Table(
    "property_key",
    _metadata,
    Column("organization_id", String()),
    Column("key", String()),
    Column("last_seen", UtcDateTime()),
)


async def property_keys(db: OrgDb, include_hidden: bool = False) -> list[str]:
    """Distinct keys of the organization's request properties, sorted (hidden ones left out)."""
    stmt = select(property_key.c.key).where(db.in_org(property_key)).distinct()
    if not include_hidden:
        stmt = stmt.where(property_key.c.key.not_in(select(hidden.c.key).where(db.in_org(hidden))))
    return sorted(str(key) for key in await db.scalars(stmt))


def _of_key(db: OrgDb, key: str, *within: ColumnElement[bool]) -> ColumnElement[bool]:
    """The ``request_property`` rows holding each request's value of property ``key``.

    As ``filters.property_text`` reads it: the key as given or, for a request without it, the
    key lower-cased (header names are case-insensitive). ``within`` narrows both.
    """
    given = and_(db.in_org(rp), rp.c.key == key, *within)
    if key == key.lower():
        return given
    has_given = select(rp.c.request_created_at, rp.c.request_id).where(given)
    lowered = and_(
        db.in_org(rp),
        rp.c.key == key.lower(),
        *within,
        tuple_(rp.c.request_created_at, rp.c.request_id).not_in(has_given),
    )
    return or_(given, lowered)


async def search_values(db: OrgDb, key: str, term: str) -> list[str]:
    """``properties.search_values`` over ``request_property``."""
    if property_column(db.dialect, key) is not None:
        return await properties.search_values(db, key, term)
    check_text(key, "propertyKey")
    check_text(term, "searchTerm")
    stmt = (
        select(rp.c.value)
        .where(_of_key(db, key, db.dialect.contains(rp.c.value, term)))
        .distinct()
        .order_by(rp.c.value)
        .limit(properties.SEARCH_LIMIT)
    )
    return [str(found) for found in await db.scalars(stmt)]


async def top_values(
    db: OrgDb, key: str, window: TimeWindow, by: str
) -> tuple[list[dict[str, Any]], float]:
    """``properties.top_values`` over ``request_property``."""
    if property_column(db.dialect, key) is not None:
        return await properties.top_values(db, key, window, by)
    check_text(key, "propertyKey")
    hours = property_hours.whole_hours(key, window, open_start=True)
    if hours is not None:
        return await property_hours.top_values(db, key, window, by, hours)
    # In the stored unit (nano-USD, exact integers), converted once summed.
    measure = func.coalesce(func.sum(rp.c.cost), 0) if by == "cost" else func.count()
    scope = _of_key(
        db, key, rp.c.request_created_at > window.start, rp.c.request_created_at < window.end
    )
    return await property_hours.top_of(db, rp.c.value, measure, by, scope)


async def over_time(
    db: OrgDb, key: str, node: Any, window: TimeWindow, buckets: Buckets
) -> list[dict[str, Any]]:
    """``properties.over_time`` over ``request_property``; a filter selects the log's rows."""
    if property_column(db.dialect, key) is not None:
        return await properties.over_time(db, key, node, window, buckets)
    check_text(key, "propertyKey")
    buckets.check(window)
    d = db.dialect
    within = [rp.c.request_created_at >= window.start, rp.c.request_created_at <= window.end]
    compiled = compile_filter(node, d, path="userFilter")
    hours = property_hours.whole_hours(key, window, open_start=False, buckets=buckets)
    if compiled.where is None and hours is not None:
        return await property_hours.over_time(db, key, window, buckets, hours)
    if compiled.where is not None:
        # The filter names the log's columns: the requests it keeps, by the log's identity.
        kept = select(rr.c.request_created_at, rr.c.request_id).where(
            db.in_org(rr),
            rr.c.request_created_at >= window.start,
            rr.c.request_created_at <= window.end,
            compiled.where,
        )
        within.append(tuple_(rp.c.request_created_at, rp.c.request_id).in_(kept))
    bucket = d.time_bucket(rp.c.request_created_at, buckets.unit, buckets.tz_minutes)
    stmt = (
        select(
            bucket.label("bucket"),
            rp.c.value.label("property"),
            usd_sum(rp.c.cost).label("total_cost"),
            func.count().label("request_count"),
        )
        .where(_of_key(db, key, *within))
        .group_by(bucket, rp.c.value)
        .order_by(bucket, rp.c.value)
    )
    rows = await db.rows(stmt)
    empty = {"property": "", "total_cost": 0.0, "request_count": 0}
    return filled(rows, window, buckets, empty)


# The store's function -> its ClickHouse form (same arguments, same answer).
READS: dict[Callable[..., Awaitable[Any]], Callable[..., Awaitable[Any]]] = {
    properties.search_values: search_values,
    properties.top_values: top_values,
    properties.over_time: over_time,
    metrics.totals: hourly.totals,
    metrics.over_time: hourly.over_time,
    metrics.breakdown: hourly.breakdown,
    metrics.quantiles: hourly.quantiles,
    users.per_user_values: hourly.per_user_values,
    users.user_metrics: _user_reads.user_metrics,
    sessions.query_sessions: _session_reads.query_sessions,
}
