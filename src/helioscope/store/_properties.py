"""Properties: the keys an organization logged, their values, hidden keys, per-value totals."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Float, and_, cast, delete, func, select, true
from sqlalchemy.ext.asyncio import AsyncConnection

from helioscope.store._dialects import SqlDialect, insert_statement
from helioscope.store._schema import request_response as rr
from helioscope.store._schema_insights import hidden_property_key as hidden
from helioscope.store._timeseries import Buckets, TimeWindow, filled
from helioscope.store.filters import NANO_USD, compile_filter, where_or_true
from helioscope.store.filters._values import check_text

SEARCH_LIMIT = 25
TOP_LIMIT = 10


async def property_keys(conn: AsyncConnection, org_id: str, include_hidden: bool) -> list[str]:
    """Distinct keys of the organization's request properties, sorted."""
    d = SqlDialect(conn.dialect.name)
    keys = d.json_keys(rr.c.properties)
    # Joined ON TRUE: the expansion reads each row's own properties (a lateral join).
    stmt = (
        select(keys.c.key)
        .select_from(rr.join(keys, true()))
        .where(rr.c.organization_id == org_id)
        .distinct()
    )
    if not include_hidden:
        hidden_keys = select(hidden.c.key).where(hidden.c.organization_id == org_id)
        stmt = stmt.where(keys.c.key.not_in(hidden_keys))
    return sorted(str(row[0]) for row in await conn.execute(stmt))


async def hidden_keys(conn: AsyncConnection, org_id: str) -> list[str]:
    """The organization's hidden keys, sorted."""
    stmt = select(hidden.c.key).where(hidden.c.organization_id == org_id).order_by(hidden.c.key)
    return [str(row[0]) for row in await conn.execute(stmt)]


async def set_hidden(conn: AsyncConnection, org_id: str, key: str, is_hidden: bool) -> None:
    """Hide a key (idempotent) or restore it."""
    check_text(key, "key")
    if not is_hidden:
        await conn.execute(
            delete(hidden).where(hidden.c.organization_id == org_id, hidden.c.key == key)
        )
        return
    stmt = insert_statement(hidden, conn.dialect.name).values(
        organization_id=org_id, key=key, created_at=dt.datetime.now(dt.UTC)
    )
    await conn.execute(stmt.on_conflict_do_nothing(index_elements=["organization_id", "key"]))


async def search_values(conn: AsyncConnection, org_id: str, key: str, term: str) -> list[str]:
    """Distinct values of property ``key`` containing ``term`` (any case), at most 25."""
    check_text(key, "propertyKey")
    check_text(term, "searchTerm")
    d = SqlDialect(conn.dialect.name)
    value = d.json_text(rr.c.properties, key)
    stmt = (
        select(value)
        .where(rr.c.organization_id == org_id, value.is_not(None), d.contains(value, term))
        .distinct()
        .order_by(value)
        .limit(SEARCH_LIMIT)
    )
    return [str(row[0]) for row in await conn.execute(stmt)]


async def top_values(
    conn: AsyncConnection, org_id: str, key: str, window: TimeWindow, by: str
) -> tuple[list[dict[str, Any]], float]:
    """The ten values of ``key`` with the most cost (``by="cost"``) or requests, and the total."""
    check_text(key, "propertyKey")
    d = SqlDialect(conn.dialect.name)
    value = d.json_text(rr.c.properties, key)
    measure = (
        cast(func.coalesce(func.sum(rr.c.cost), 0), Float()) / NANO_USD
        if by == "cost"
        else func.count()
    )
    # Helicone's top-N routes use an open window (gt/lt), unlike the dashboard's gte/lte.
    scope = and_(
        rr.c.organization_id == org_id,
        rr.c.request_created_at > window.start,
        rr.c.request_created_at < window.end,
        value.is_not(None),
    )
    top = select(value.label("value"), measure.label(by)).where(scope).group_by(value)
    top = top.order_by(measure.desc(), value).limit(TOP_LIMIT)
    rows = [dict(r._mapping) for r in await conn.execute(top)]
    total = (await conn.execute(select(measure).where(scope))).scalar_one()
    return rows, float(total or 0)


async def over_time(
    conn: AsyncConnection, org_id: str, key: str, node: Any, window: TimeWindow, buckets: Buckets
) -> list[dict[str, Any]]:
    """Cost and request count per value of ``key`` per bucket, empty buckets filled."""
    check_text(key, "propertyKey")
    buckets.check(window)
    d = SqlDialect(conn.dialect.name)
    value = d.json_text(rr.c.properties, key)
    bucket = d.time_bucket(rr.c.request_created_at, buckets.unit, buckets.tz_minutes)
    stmt = (
        select(
            bucket.label("bucket"),
            value.label("property"),
            (cast(func.coalesce(func.sum(rr.c.cost), 0), Float()) / NANO_USD).label("total_cost"),
            func.count().label("request_count"),
        )
        .where(
            rr.c.organization_id == org_id,
            rr.c.request_created_at >= window.start,
            rr.c.request_created_at <= window.end,
            value.is_not(None),
            where_or_true(compile_filter(node, d, path="userFilter")),
        )
        .group_by(bucket, value)
        .order_by(bucket, value)
    )
    rows = [dict(r._mapping) for r in await conn.execute(stmt)]
    empty = {"property": "", "total_cost": 0.0, "request_count": 0}
    return filled(rows, window, buckets, empty)
