"""Properties: the keys an organization logged, their values, hidden keys, per-value totals."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, delete, func, select, true

from helioscope.store._runner import OrgDb
from helioscope.store.cost import usd_sum
from helioscope.store.filters import compile_filter, property_text, where_or_true
from helioscope.store.filters._values import check_text
from helioscope.store.log.timeseries import Buckets, TimeWindow, filled
from helioscope.store.tables.log import hidden_property_key as hidden
from helioscope.store.tables.log import request_response as rr

SEARCH_LIMIT = 25
TOP_LIMIT = 10


async def property_keys(db: OrgDb, include_hidden: bool = False) -> list[str]:
    """Distinct keys of the organization's request properties, sorted (hidden ones left out)."""
    keys = db.dialect.json_keys(rr.c.properties)
    # Joined ON TRUE: the expansion reads each row's own properties (a lateral join).
    stmt = select(keys.c.key).select_from(rr.join(keys, true())).where(db.in_org(rr)).distinct()
    if not include_hidden:
        hidden_keys = select(hidden.c.key).where(db.in_org(hidden))
        stmt = stmt.where(keys.c.key.not_in(hidden_keys))
    return sorted(str(key) for key in await db.scalars(stmt))


async def hidden_keys(db: OrgDb) -> list[str]:
    """The organization's hidden keys, sorted."""
    stmt = select(hidden.c.key).where(db.in_org(hidden)).order_by(hidden.c.key)
    return [str(key) for key in await db.scalars(stmt)]


async def set_hidden(db: OrgDb, key: str, is_hidden: bool) -> None:
    """Hide a key (idempotent) or restore it."""
    check_text(key, "key")
    if not is_hidden:
        await db.execute(delete(hidden).where(db.in_org(hidden), hidden.c.key == key))
        return
    stmt = db.dialect.insert(hidden).values(
        organization_id=db.org_id, key=key, created_at=dt.datetime.now(dt.UTC)
    )
    await db.execute(stmt.on_conflict_do_nothing(index_elements=["organization_id", "key"]))


async def search_values(db: OrgDb, key: str, term: str) -> list[str]:
    """Distinct values of property ``key`` containing ``term`` (any case), at most 25."""
    check_text(key, "propertyKey")
    check_text(term, "searchTerm")
    d = db.dialect
    value = property_text(d, key)
    stmt = (
        select(value)
        .where(db.in_org(rr), value.is_not(None), d.contains(value, term))
        .distinct()
        .order_by(value)
        .limit(SEARCH_LIMIT)
    )
    return [str(found) for found in await db.scalars(stmt)]


async def top_values(
    db: OrgDb, key: str, window: TimeWindow, by: str
) -> tuple[list[dict[str, Any]], float]:
    """The ten values of ``key`` with the most cost (USD) or requests, and the overall total."""
    check_text(key, "propertyKey")
    value = property_text(db.dialect, key)
    measure = usd_sum(rr.c.cost) if by == "cost" else func.count()
    # Helicone's top-N routes use an open window (gt/lt), unlike the dashboard's gte/lte.
    scope = and_(
        db.in_org(rr),
        rr.c.request_created_at > window.start,
        rr.c.request_created_at < window.end,
        value.is_not(None),
    )
    top = select(value.label("value"), measure.label(by)).where(scope).group_by(value)
    top = top.order_by(measure.desc(), value).limit(TOP_LIMIT)
    rows = await db.rows(top)
    total = await db.scalar(select(measure).where(scope))
    return rows, float(total or 0)


async def over_time(
    db: OrgDb, key: str, node: Any, window: TimeWindow, buckets: Buckets
) -> list[dict[str, Any]]:
    """Cost (USD) and request count per value of ``key`` per bucket, empty buckets filled."""
    check_text(key, "propertyKey")
    buckets.check(window)
    d = db.dialect
    value = property_text(d, key)
    bucket = d.time_bucket(rr.c.request_created_at, buckets.unit, buckets.tz_minutes)
    stmt = (
        select(
            bucket.label("bucket"),
            value.label("property"),
            usd_sum(rr.c.cost).label("total_cost"),
            func.count().label("request_count"),
        )
        .where(
            db.in_org(rr),
            rr.c.request_created_at >= window.start,
            rr.c.request_created_at <= window.end,
            value.is_not(None),
            where_or_true(compile_filter(node, d, path="userFilter")),
        )
        .group_by(bucket, value)
        .order_by(bucket, value)
    )
    rows = await db.rows(stmt)
    empty = {"property": "", "total_cost": 0.0, "request_count": 0}
    return filled(rows, window, buckets, empty)
