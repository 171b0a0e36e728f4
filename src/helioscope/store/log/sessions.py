"""Sessions: requests grouped by their ``Helicone-Session-Id``, computed on the fly."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, Table, and_, cast, func, or_, select, true

from helioscope.errors import NotFound
from helioscope.store._dialects import SqlDialect
from helioscope.store._runner import OrgDb
from helioscope.store.cost import usd, usd_sum
from helioscope.store.filters import Compiled, compile_filter
from helioscope.store.filters._values import check_text
from helioscope.store.log import _session_summary as summary
from helioscope.store.log.requests import rows_with_bodies, set_property
from helioscope.store.tables.log import request_response as rr
from helioscope.store.tables.log import session_summary as ss
from helioscope.store.tables.log import session_tag

SESSION_LIMIT = 50

_TOTAL_TOKENS = func.coalesce(rr.c.prompt_tokens, 0) + func.coalesce(rr.c.completion_tokens, 0)

# The per-session values the filter language's session columns compare against (in HAVING).
AGGREGATES: dict[str, ColumnElement[Any]] = {
    "total_cost": func.coalesce(func.sum(rr.c.cost), 0),
    "total_tokens": func.sum(_TOTAL_TOKENS),
    "prompt_tokens": func.sum(func.coalesce(rr.c.prompt_tokens, 0)),
    "completion_tokens": func.sum(func.coalesce(rr.c.completion_tokens, 0)),
    "total_requests": func.count(),
    "created_at": func.min(rr.c.request_created_at),
    "latest_request_created_at": func.max(rr.c.request_created_at),
    "session_id": rr.c.session_id,
    "session_name": func.coalesce(rr.c.session_name, ""),
}


@dataclass(frozen=True, slots=True)
class SessionQuery:
    """``POST /v1/session/query``."""

    filter: Any = "all"
    search: str = ""
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    name_equals: str | None = None
    limit: int = SESSION_LIMIT
    offset: int = 0
    use_summary: bool = True  # False forces aggregation over the log (tests compare the two)


def matching(
    query: SessionQuery, d: SqlDialect, session_id: Any, session_name: Any
) -> list[ColumnElement[bool]]:
    """``nameEquals`` and ``search``, against the log's or the summary's columns."""
    conditions: list[ColumnElement[bool]] = []
    if query.name_equals is not None:
        conditions.append(session_name == query.name_equals)
    if query.search:
        check_text(query.search, "search")
        search = query.search
        conditions.append(or_(d.contains(session_id, search), d.contains(session_name, search)))
    return conditions


def _scope(
    db: OrgDb, query: SessionQuery, compiled: Compiled, session_ids: list[str] | None = None
) -> Any:
    conditions: list[ColumnElement[bool]] = [db.in_org(rr), rr.c.session_id.is_not(None)]
    if session_ids is not None:
        conditions.append(rr.c.session_id.in_(session_ids))
    if query.start is not None:
        conditions.append(rr.c.request_created_at > query.start)
    if query.end is not None:
        conditions.append(rr.c.request_created_at < query.end)
    if compiled.where is not None:
        conditions.append(compiled.where)
    conditions += matching(query, db.dialect, rr.c.session_id, rr.c.session_name)
    return and_(*conditions)


async def query_sessions(db: OrgDb, query: SessionQuery) -> list[dict[str, Any]]:
    """The organization's sessions with their totals, newest first, and each session's users."""
    sessions = await _sessions(db, query)
    users = await session_users(db, [s["session_id"] for s in sessions])
    for session in sessions:
        session["user_ids"] = users.get(session["session_id"], [])
    return sessions


async def _sessions(db: OrgDb, query: SessionQuery) -> list[dict[str, Any]]:
    """The organization's sessions (newest first) with their totals.

    When the filter has no conditions on individual requests, the answer comes from the session
    summary: exact for every session wholly inside the time window, and the few sessions that
    straddle its edges are aggregated from the log. Otherwise the log is aggregated directly.
    """
    compiled = compile_filter(query.filter, db.dialect, AGGREGATES)
    if query.use_summary and compiled.where is None:
        straddlers = await _straddling_sessions(db, query)
        if straddlers is not None and len(straddlers) <= MAX_STRADDLING:
            return await _from_summary(db, query, straddlers)
    return await aggregate(db, query, compiled)


MAX_STRADDLING = 2000


async def _straddling_sessions(db: OrgDb, query: SessionQuery) -> list[str] | None:
    edge = summary.straddling(query.start, query.end)
    if edge is None:
        return []
    stmt = select(ss.c.session_id).where(db.in_org(ss), edge).distinct().limit(MAX_STRADDLING + 1)
    return await db.scalars(stmt)


def summary_columns(t: Table) -> list[ColumnElement[Any]]:
    """A session's row of totals, read from a table of them (``session_summary``'s columns)."""
    return [
        t.c.session_id,
        t.c.session_name,
        t.c.created_at,
        t.c.latest_request_created_at,
        usd(t.c.total_cost).label("total_cost"),
        t.c.total_requests,
        t.c.prompt_tokens,
        t.c.completion_tokens,
        t.c.total_tokens,
        (cast(t.c.latency_sum, Float()) / func.nullif(t.c.latency_count, 0)).label("avg_latency"),
    ]


def _summary_conditions(db: OrgDb, query: SessionQuery) -> list[ColumnElement[bool]]:
    d = db.dialect
    having = compile_filter(query.filter, d, summary.SUMMARY_AGGREGATES).having
    conditions = [db.in_org(ss), summary.within(query.start, query.end)]
    if having is not None:
        conditions.append(having)
    conditions += matching(query, d, ss.c.session_id, ss.c.session_name)
    return conditions


async def _from_summary(
    db: OrgDb, query: SessionQuery, straddlers: list[str]
) -> list[dict[str, Any]]:
    wanted = query.offset + query.limit
    stmt = (
        select(*summary_columns(ss))
        .where(*_summary_conditions(db, query))
        # A straddling session's every name comes from the log, even a name (a pair of the
        # summary) that lies inside the window: without this, that pair came twice.
        .where(*([ss.c.session_id.not_in(straddlers)] if straddlers else []))
        .order_by(ss.c.created_at.desc(), ss.c.session_id, ss.c.session_name)
        .limit(wanted)
    )
    rows = await db.rows(stmt)
    if straddlers:
        edge_query = dataclasses.replace(query, offset=0, limit=wanted)
        compiled = compile_filter(query.filter, db.dialect, AGGREGATES)
        rows += await aggregate(db, edge_query, compiled, straddlers)
    # A session id under two names started in one instant: its names in order, on every engine.
    rows.sort(key=lambda r: (r["session_id"], r["session_name"] or ""))
    rows.sort(key=lambda r: r["created_at"], reverse=True)
    return rows[query.offset : wanted]


async def aggregate(
    db: OrgDb, query: SessionQuery, compiled: Compiled, session_ids: list[str] | None = None
) -> list[dict[str, Any]]:
    """The sessions' totals (newest first) grouped from the log (only ``session_ids``, if given)."""
    a = AGGREGATES
    stmt = (
        select(
            rr.c.session_id,
            rr.c.session_name,
            a["created_at"].label("created_at"),
            a["latest_request_created_at"].label("latest_request_created_at"),
            usd(a["total_cost"]).label("total_cost"),
            a["total_requests"].label("total_requests"),
            a["prompt_tokens"].label("prompt_tokens"),
            a["completion_tokens"].label("completion_tokens"),
            a["total_tokens"].label("total_tokens"),
            func.avg(rr.c.latency).label("avg_latency"),
        )
        .where(_scope(db, query, compiled, session_ids))
        # Grouping by the bare columns lets the covering index deliver rows already grouped.
        .group_by(rr.c.session_id, rr.c.session_name)
        .having(compiled.having if compiled.having is not None else true())
        .order_by(a["created_at"].desc(), rr.c.session_id, rr.c.session_name)
        .offset(query.offset)
        .limit(query.limit)
    )
    return await db.rows(stmt)


async def session_users(db: OrgDb, session_ids: list[str]) -> dict[str, list[str]]:
    """The distinct users of each session."""
    if not session_ids:
        return {}
    stmt = (
        select(rr.c.session_id, rr.c.user_id)
        .where(db.in_org(rr), rr.c.session_id.in_(session_ids), rr.c.user_id.is_not(None))
        .distinct()
    )
    users: dict[str, list[str]] = {}
    for session_id, user_id in await db.tuples(stmt):
        users.setdefault(session_id, []).append(user_id)
    return {k: sorted(v) for k, v in users.items()}


async def session_names(
    db: OrgDb,
    name_contains: str,
    filter_node: Any,
    start: dt.datetime | None,
    end: dt.datetime | None,
) -> list[dict[str, Any]]:
    """Session names with how many sessions carry each, and when they were used."""
    d = db.dialect
    compiled = compile_filter(filter_node, d, AGGREGATES)
    query = SessionQuery(filter=filter_node, start=start, end=end)
    name = func.coalesce(rr.c.session_name, "")
    conditions = [_scope(db, query, compiled)]
    if name_contains:
        check_text(name_contains, "nameContains")
        conditions.append(d.contains(name, name_contains))
    stmt = (
        select(
            name.label("name"),
            func.min(rr.c.request_created_at).label("first_used"),
            func.max(rr.c.request_created_at).label("last_used"),
            func.count(rr.c.session_id.distinct()).label("session_count"),
            func.avg(rr.c.latency).label("avg_latency"),
            usd_sum(rr.c.cost).label("total_cost"),
        )
        .where(*conditions)
        .group_by(name)
        .order_by(func.max(rr.c.request_created_at).desc())
        .limit(100)
    )
    return await db.rows(stmt)


METRICS_SESSION_LIMIT = 100_000


async def session_rows(db: OrgDb, query: SessionQuery) -> list[dict[str, Any]]:
    """Per-session request count, duration (s) and cost (USD), for histograms."""
    query = SessionQuery(
        filter=query.filter,
        search=query.search,
        start=query.start,
        end=query.end,
        limit=METRICS_SESSION_LIMIT,
        use_summary=query.use_summary,
    )
    sessions = await _sessions(db, query)
    out = []
    for s in sessions:
        duration = (s["latest_request_created_at"] - s["created_at"]).total_seconds()
        out.append({"count": s["total_requests"], "duration": duration, "cost": s["total_cost"]})
    return out


async def has_session(db: OrgDb, session_id: str | None = None) -> bool:
    """True when the organization logged a request in a session (in ``session_id``, if given)."""
    match = rr.c.session_id.is_not(None) if session_id is None else rr.c.session_id == session_id
    stmt = select(rr.c.request_id).where(db.in_org(rr), match)
    return await db.row(stmt.limit(1)) is not None


def _session_requests(db: OrgDb, session_id: str) -> Select[Any]:
    return rows_with_bodies().where(db.in_org(rr), rr.c.session_id == session_id)


async def session_trace(db: OrgDb, session_id: str) -> list[dict[str, Any]]:
    """Every request of a session, ordered by trace path and time (the session's tree)."""
    stmt = _session_requests(db, session_id).order_by(
        func.coalesce(rr.c.session_path, "/"), rr.c.request_created_at, rr.c.request_id
    )
    return await db.rows(stmt)


TIMELINE_MAX = 2000


async def session_timeline(db: OrgDb, session_id: str) -> list[dict[str, Any]]:
    """A session's requests in time order (bodies included), at most ``TIMELINE_MAX``.

    The UI lays the tree out from their paths, and aligns each span on one time axis.
    """
    stmt = _session_requests(db, session_id).order_by(rr.c.request_created_at, rr.c.request_id)
    return await db.rows(stmt.limit(TIMELINE_MAX))


async def set_session_feedback(db: OrgDb, session_id: str, rating: bool) -> None:
    """Rate a session as Helicone does.

    The rating is the property ``Helicone-Session-Feedback`` (1 or 0) on the session's earliest
    request.
    """
    stmt = (
        select(rr.c.request_id)
        .where(db.in_org(rr), rr.c.session_id == session_id)
        .order_by(rr.c.request_created_at, rr.c.request_id)
        .limit(1)
    )
    first = await db.scalar(stmt)
    if first is None:
        raise NotFound(f"session {session_id} not found")
    await set_property(db, first, "Helicone-Session-Feedback", "1" if rating else "0")


async def get_session_tag(db: OrgDb, session_id: str) -> str | None:
    """The session's tag, or None."""
    stmt = select(session_tag.c.tag).where(
        db.in_org(session_tag), session_tag.c.session_id == session_id
    )
    tag: str | None = await db.scalar(stmt)
    return tag


async def set_session_tag(db: OrgDb, session_id: str, tag: str) -> None:
    """Set (or replace) the session's tag."""
    if not await has_session(db, session_id):
        raise NotFound(f"session {session_id} not found")
    stmt = db.dialect.upsert(session_tag, ("organization_id", "session_id"))
    now = dt.datetime.now(dt.UTC)
    await db.execute(
        stmt,
        [{"organization_id": db.org_id, "session_id": session_id, "tag": tag, "created_at": now}],
    )
