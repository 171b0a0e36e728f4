"""Reads behind Helioscope's own UI routes: live-tail news and the sortable session list.

Both are cheap by construction: news is a bounded range scan of the (organization, created)
index, and the session list reads the per-session summary, adding per-page extras (error
counts, users) for at most one page of sessions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Float, and_, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from helioscope.errors import BadRequest
from helioscope.store._dialects import SqlDialect
from helioscope.store._requests import MAX_OFFSET, rows_with_bodies
from helioscope.store._schema import request_response as rr
from helioscope.store._schema import session_summary as ss
from helioscope.store._sessions import session_users
from helioscope.store.filters import compile_filter, where_or_true
from helioscope.store.filters._values import check_text

# News counts stop here: "1000+ new" says enough, and the scan stays bounded.
NEWS_CAP = 1000
SESSION_PAGE_MAX = 500
TRACE_MAX = 2000

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


@dataclass(frozen=True, slots=True)
class SessionPage:
    """A page of the session list: sessions overlapping a window, searched and sorted."""

    search: str = ""
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    sort: Mapping[str, str] = field(default_factory=lambda: {"created_at": "desc"})
    offset: int = 0
    limit: int = 50


def _session_conditions(org_id: str, page: SessionPage, d: SqlDialect) -> list[Any]:
    # A session belongs to a window when it overlaps it; its totals are the whole session's.
    conditions: list[Any] = [ss.c.organization_id == org_id]
    if page.start is not None:
        conditions.append(ss.c.latest_request_created_at >= page.start)
    if page.end is not None:
        conditions.append(ss.c.created_at <= page.end)
    if page.search:
        check_text(page.search, "search")
        conditions.append(
            or_(
                d.contains(ss.c.session_id, page.search), d.contains(ss.c.session_name, page.search)
            )
        )
    return conditions


def _session_order(sort: Mapping[str, str]) -> list[Any]:
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


async def _error_counts(conn: AsyncConnection, org_id: str, ids: list[str]) -> dict[str, int]:
    if not ids:
        return {}
    failed = or_(rr.c.status < 200, rr.c.status >= 300)
    stmt = (
        select(rr.c.session_id, func.count())
        .where(rr.c.organization_id == org_id, rr.c.session_id.in_(ids), failed)
        .group_by(rr.c.session_id)
    )
    return {sid: int(n) for sid, n in (await conn.execute(stmt)).all()}


class ExploreStore:
    """The UI's reads: what is new since a moment, sessions sorted by any total, one trace."""

    trace_max = TRACE_MAX

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def news(self, org_id: str, node: Any, since: dt.datetime) -> dict[str, Any]:
        """How many matching requests were created after ``since`` (up to the cap), the latest."""
        async with self._engine.connect() as conn:
            d = SqlDialect(conn.dialect.name)
            newer = (
                select(rr.c.request_created_at)
                .where(
                    rr.c.organization_id == org_id,
                    rr.c.request_created_at > since,
                    where_or_true(compile_filter(node, d)),
                )
                .limit(NEWS_CAP + 1)
                .subquery()
            )
            stmt = select(func.count(), func.max(newer.c.request_created_at))
            count, latest = (await conn.execute(stmt)).one()
        return {"count": min(int(count), NEWS_CAP), "capped": count > NEWS_CAP, "latest": latest}

    async def session_page(self, org_id: str, page: SessionPage) -> dict[str, Any]:
        """A page of sessions with totals, error counts and users, and how many match."""
        if not 0 <= page.offset <= MAX_OFFSET or not 0 < page.limit <= SESSION_PAGE_MAX:
            raise BadRequest(f"limit must be 1 to {SESSION_PAGE_MAX} and offset at least 0")
        async with self._engine.connect() as conn:
            d = SqlDialect(conn.dialect.name)
            where = and_(*_session_conditions(org_id, page, d))
            stmt = (
                select(*ss.c, _AVG_LATENCY.label("avg_latency"))
                .where(where)
                .order_by(*_session_order(page.sort))
                .offset(page.offset)
                .limit(page.limit)
            )
            rows = [dict(r) for r in (await conn.execute(stmt)).mappings()]
            total = (await conn.execute(select(func.count()).select_from(ss).where(where))).scalar()
            ids = [r["session_id"] for r in rows]
            errors = await _error_counts(conn, org_id, ids)
            users = await session_users(conn, org_id, ids)
        for r in rows:
            r["error_count"] = errors.get(r["session_id"], 0)
            r["user_ids"] = users.get(r["session_id"], [])
        return {"sessions": rows, "total": int(total or 0)}

    async def trace(self, org_id: str, session_id: str) -> list[dict[str, Any]]:
        """A session's requests in time order (bodies included), at most ``TRACE_MAX``."""
        stmt = (
            rows_with_bodies()
            .where(rr.c.organization_id == org_id, rr.c.session_id == session_id)
            .order_by(rr.c.request_created_at, rr.c.request_id)
            .limit(TRACE_MAX)
        )
        async with self._engine.connect() as conn:
            return [dict(r) for r in (await conn.execute(stmt)).mappings()]
