"""The UI's session list: sessions from the summary, sorted by any total, one page at a time.

Sorting by cost or size is as cheap as sorting by time because every total is a column of the
per-session summary; error counts and users are added for the page's sessions only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Float, and_, cast, func, or_, select

from helioscope.errors import BadRequest
from helioscope.store._runner import OrgDb
from helioscope.store.cost import usd
from helioscope.store.filters._values import check_text
from helioscope.store.log.requests import MAX_OFFSET
from helioscope.store.log.sessions import session_users
from helioscope.store.tables.log import request_response as rr
from helioscope.store.tables.log import session_summary as ss

SESSION_PAGE_MAX = 500

_AVG_LATENCY = cast(ss.c.latency_sum, Float()) / func.nullif(ss.c.latency_count, 0)
SESSION_SORTS: dict[str, ColumnElement[Any]] = {
    "created_at": ss.c.created_at,
    "latest_request_created_at": ss.c.latest_request_created_at,
    "session_name": ss.c.session_name,
    "session_id": ss.c.session_id,
    "total_cost": ss.c.total_cost,
    "total_requests": ss.c.total_requests,
    "total_tokens": ss.c.total_tokens,
    "avg_latency": _AVG_LATENCY,
}
# A summary row as it leaves the store: every column, the cost in USD.
_ROW = [usd(col).label("total_cost") if col.name == "total_cost" else col for col in ss.c]


@dataclass(frozen=True, slots=True)
class SessionPage:
    """A page of the session list: sessions overlapping a window, searched and sorted."""

    search: str = ""
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    sort: Mapping[str, str] = field(default_factory=lambda: {"created_at": "desc"})
    offset: int = 0
    limit: int = 50


def _conditions(db: OrgDb, page: SessionPage) -> list[ColumnElement[bool]]:
    # A session belongs to a window when it overlaps it; its totals are the whole session's.
    conditions = [db.in_org(ss)]
    if page.start is not None:
        conditions.append(ss.c.latest_request_created_at >= page.start)
    if page.end is not None:
        conditions.append(ss.c.created_at <= page.end)
    if page.search:
        check_text(page.search, "search")
        d = db.dialect
        conditions.append(
            or_(
                d.contains(ss.c.session_id, page.search), d.contains(ss.c.session_name, page.search)
            )
        )
    return conditions


def _order(sort: Mapping[str, str]) -> list[Any]:
    order = []
    for key, direction in sort.items():
        column = SESSION_SORTS.get(key)
        if column is None:
            raise BadRequest(
                f"sort.{key}: cannot sort sessions by it (known: {', '.join(SESSION_SORTS)})"
            )
        if direction not in ("asc", "desc"):
            raise BadRequest(f'sort.{key}: expected "asc" or "desc", got {direction!r}')
        order.append(column.asc() if direction == "asc" else column.desc())
    return [*order, ss.c.created_at.desc(), ss.c.session_id]


async def error_counts(db: OrgDb, session_ids: list[str]) -> dict[str, int]:
    """How many requests of each session failed (status outside 2xx), for sessions with any."""
    if not session_ids:
        return {}
    failed = or_(rr.c.status < 200, rr.c.status >= 300)
    stmt = (
        select(rr.c.session_id, func.count())
        .where(db.in_org(rr), rr.c.session_id.in_(session_ids), failed)
        .group_by(rr.c.session_id)
    )
    return {sid: int(n) for sid, n in await db.tuples(stmt)}


async def session_page(db: OrgDb, page: SessionPage) -> dict[str, Any]:
    """A page of sessions with totals (cost in USD), error counts and users, and how many match."""
    if not 0 <= page.offset <= MAX_OFFSET or not 0 < page.limit <= SESSION_PAGE_MAX:
        raise BadRequest(f"limit must be 1 to {SESSION_PAGE_MAX} and offset at least 0")
    where = and_(*_conditions(db, page))
    stmt = (
        select(*_ROW, _AVG_LATENCY.label("avg_latency"))
        .where(where)
        .order_by(*_order(page.sort))
        .offset(page.offset)
        .limit(page.limit)
    )
    rows = await db.rows(stmt)
    total = await db.scalar(select(func.count()).select_from(ss).where(where))
    ids = [r["session_id"] for r in rows]
    errors = await error_counts(db, ids)
    users = await session_users(db, ids)
    for r in rows:
        r["error_count"] = errors.get(r["session_id"], 0)
        r["user_ids"] = users.get(r["session_id"], [])
    return {"sessions": rows, "total": int(total or 0)}
