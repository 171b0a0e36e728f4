"""Users: the request log grouped by ``user_id``, filtered on per-user aggregates (HAVING)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Float, and_, case, cast, distinct, func, select, true

from helioscope.errors import BadRequest
from helioscope.store._dialects import SqlDialect
from helioscope.store._runner import OrgDb
from helioscope.store.cost import usd, usd_sum
from helioscope.store.filters import compile_filter, where_or_true
from helioscope.store.log.timeseries import TimeWindow
from helioscope.store.tables.log import request_response as rr

MAX_USERS_PAGE = 1000
# Helicone's user metrics count "rate_limited", while its gateway (and ours) writes
# "bucket_rate_limited" on a refused call, so its count stayed 0; both values count here.
RATE_LIMITED = ("rate_limited", "bucket_rate_limited")


@dataclass(frozen=True, slots=True)
class UserQuery:
    """``POST /v1/user/metrics/query``, validated for type."""

    filter: Any = "all"
    offset: int = 0
    limit: int = 100
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    sort: Mapping[str, str] = field(default_factory=dict)


def aggregates(d: SqlDialect) -> dict[str, ColumnElement[Any]]:
    """The per-user values, by the names the filter language's ``users_view`` uses.

    ``cost`` is in the stored unit (nano-USD), as the filter compares it; queries select it
    through ``usd``.
    """
    days = func.count(distinct(d.time_bucket(rr.c.request_created_at, "day", 0)))
    requests = func.count()
    tokens = func.coalesce(func.sum(rr.c.prompt_tokens), 0) + func.coalesce(
        func.sum(rr.c.completion_tokens), 0
    )
    limited = d.property_in(rr.c.properties, "Helicone-Rate-Limit-Status", RATE_LIMITED)
    return {
        "user_id": rr.c.user_id,
        "active_for": days,
        "first_active": func.min(rr.c.request_created_at),
        "last_active": func.max(rr.c.request_created_at),
        "total_requests": requests,
        "average_requests_per_day_active": cast(requests, Float()) / days,
        "average_tokens_per_request": cast(tokens, Float()) / requests,
        "total_completion_tokens": func.coalesce(func.sum(rr.c.completion_tokens), 0),
        "total_prompt_tokens": func.coalesce(func.sum(rr.c.prompt_tokens), 0),
        "cost": func.coalesce(func.sum(rr.c.cost), 0),
        "rate_limited_count": func.coalesce(func.sum(case((limited, 1), else_=0)), 0),
    }


def page_order(
    sort: Mapping[str, str], columns: Mapping[str, ColumnElement[Any]]
) -> list[ColumnElement[Any]]:
    """The page's ORDER BY over the per-user ``columns`` (by name), ties broken by user id.

    Shared with ClickHouse's rollup form of the page, which sorts the same names.
    """
    order: list[ColumnElement[Any]] = []
    for key, direction in sort.items():
        if key not in columns:
            raise BadRequest(
                f"sort.{key}: cannot sort users by {key!r} (known: {', '.join(columns)})"
            )
        if direction not in ("asc", "desc"):
            raise BadRequest(f'sort.{key}: expected "asc" or "desc", got {direction!r}')
        order.append(columns[key].asc() if direction == "asc" else columns[key].desc())
    if not order:  # Helicone's default
        order.append(columns["last_active"].asc())
    return [*order, columns["user_id"].asc()]


async def user_metrics(db: OrgDb, query: UserQuery) -> tuple[list[dict[str, Any]], int]:
    """A page of users with their metrics (cost in USD), and how many users match the filter."""
    if not 0 < query.limit <= MAX_USERS_PAGE or query.offset < 0:
        raise BadRequest(f"limit: must be 1 to {MAX_USERS_PAGE}, and offset at least 0")
    values = aggregates(db.dialect)
    compiled = compile_filter(query.filter, db.dialect, values)
    conditions = [db.in_org(rr), rr.c.user_id.is_not(None), where_or_true(compiled)]
    if query.start is not None:
        conditions.append(rr.c.request_created_at > query.start)
    if query.end is not None:
        conditions.append(rr.c.request_created_at < query.end)
    labelled = {name: expr.label(name) for name, expr in values.items()}
    labelled["cost"] = usd(values["cost"]).label("cost")
    grouped = (
        select(*labelled.values())
        .where(and_(*conditions))
        .group_by(rr.c.user_id)
        .having(compiled.having if compiled.having is not None else true())
    )
    page = grouped.order_by(*page_order(query.sort, values)).offset(query.offset).limit(query.limit)
    rows = await db.rows(page)
    count_stmt = select(func.count()).select_from(grouped.subquery())
    count = int(await db.scalar(count_stmt))
    return rows, count


async def has_users(db: OrgDb) -> bool:
    """True when a request of the organization names a user."""
    stmt = select(rr.c.user_id).where(db.in_org(rr), rr.c.user_id.is_not(None))
    return await db.row(stmt.limit(1)) is not None


async def user_totals(
    db: OrgDb, user_ids: list[str] | None, window: TimeWindow
) -> list[dict[str, Any]]:
    """Requests, tokens and cost (USD) per user in the window, at most 100 users."""
    conditions = [
        db.in_org(rr),
        rr.c.user_id.is_not(None),
        rr.c.request_created_at >= window.start,
        rr.c.request_created_at <= window.end,
    ]
    if user_ids:
        conditions.append(rr.c.user_id.in_(user_ids))
    stmt = (
        select(
            func.count().label("count"),
            func.coalesce(func.sum(rr.c.prompt_tokens), 0).label("prompt_tokens"),
            func.coalesce(func.sum(rr.c.completion_tokens), 0).label("completion_tokens"),
            rr.c.user_id,
            usd_sum(rr.c.cost).label("cost"),
        )
        .where(and_(*conditions))
        .group_by(rr.c.user_id)
        .order_by(rr.c.user_id)
        .limit(100)
    )
    return await db.rows(stmt)


async def per_user_values(db: OrgDb, node: Any) -> list[dict[str, Any]]:
    """Request count and cost (USD) of every user matching the filter."""
    values = aggregates(db.dialect)
    compiled = compile_filter(node, db.dialect, values)
    stmt = (
        select(values["total_requests"].label("requests"), usd(values["cost"]).label("cost"))
        .where(db.in_org(rr), rr.c.user_id.is_not(None), where_or_true(compiled))
        .group_by(rr.c.user_id)
        .having(compiled.having if compiled.having is not None else true())
    )
    return await db.rows(stmt)
