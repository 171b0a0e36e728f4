"""The session page on ClickHouse: from the summary, or ``session_property`` for one property.

``POST /v1/session/query`` with a filter on the requests (``properties.env = 'prod'``) cannot
use the session summary: the totals are then over the matching requests only, so the store's
function groups every matching log row by session (2.2 s CPU at 10M rows). When that filter is
one property equal to a value, alone or AND'ed with conditions on the session totals, the
totals are those ``session_property`` keeps per (session, name, key, value), read as
``sessions._from_summary`` reads the summary: sessions whose matching requests all lie inside
the window come from the table, those straddling its edges are aggregated from the log (with
the whole filter), and the page is merged and cut in Python. Anything else goes to the store's
function.

Without conditions on requests, the page reads ``session_summary`` the same way. Both read
their table once (the straddling rows first, then the page's rows inside the window: FINAL
over a key's rows cost 80 ms CPU for the page and 140 for a separate straddlers' query at 10M
rows), and look the page's users up within the sessions' time span (a primary-key range of
the log; the summary gives every name's span): 30 → 10 ms.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, func, not_, or_, select, true

from helioscope.store._runner import OrgDb
from helioscope.store.clickhouse._hourly_reads import one_property
from helioscope.store.clickhouse._session_properties import session_property as sp
from helioscope.store.filters import compile_filter
from helioscope.store.log import sessions
from helioscope.store.log._session_summary import SUMMARY_AGGREGATES
from helioscope.store.log.sessions import AGGREGATES, MAX_STRADDLING, SessionQuery
from helioscope.store.tables.log import request_response as rr
from helioscope.store.tables.log import session_summary as ss

# What the filter language's session columns compare against, read from the table.
_AGGREGATES: dict[str, ColumnElement[Any]] = {
    "total_cost": sp.c.total_cost,
    "total_tokens": sp.c.total_tokens,
    "prompt_tokens": sp.c.prompt_tokens,
    "completion_tokens": sp.c.completion_tokens,
    "total_requests": sp.c.total_requests,
    "created_at": sp.c.created_at,
    "latest_request_created_at": sp.c.latest_request_created_at,
    "session_id": sp.c.session_id,
    "session_name": sp.c.session_name,
}


def _split(db: OrgDb, node: Any) -> tuple[tuple[str, str], Any] | None:
    """``((key, value), rest)``: the filter as one property equal to a value, AND the rest.

    ``rest`` ("all", or the other side of a top-level AND) names session totals only. None
    when the filter has another shape.
    """
    found = one_property(node)
    if found is not None:
        return found, "all"
    if not isinstance(node, dict) or node.get("operator") != "and" or len(node) != 3:
        return None
    for side, other in (("left", "right"), ("right", "left")):
        found = one_property(node.get(side))
        if (
            found is not None
            and compile_filter(node.get(other), db.dialect, AGGREGATES).where is None
        ):
            return found, node[other]
    return None


@dataclasses.dataclass(frozen=True, slots=True)
class _Source:
    """Where the page's totals are read: a table, the rows of it that count, its aggregates."""

    table: Table
    scope: tuple[ColumnElement[bool], ...]
    aggregates: dict[str, ColumnElement[Any]]


def _window(
    t: Table, query: SessionQuery
) -> tuple[list[ColumnElement[bool]], list[ColumnElement[bool]]]:
    """``(inside, overlapping)``: a (session, value)'s requests all inside the window, or some.

    The window is exclusive; the second holds for the sessions inside it and for those
    straddling an edge.
    """
    inside, overlapping = [], []
    if query.start is not None:
        inside.append(t.c.created_at > query.start)
        overlapping.append(t.c.latest_request_created_at > query.start)
    if query.end is not None:
        inside.append(t.c.latest_request_created_at < query.end)
        overlapping.append(t.c.created_at < query.end)
    return inside, overlapping


async def _page(
    db: OrgDb, query: SessionQuery, source: _Source, rest: Any
) -> list[dict[str, Any]] | None:
    """The sessions (newest first) with their totals (over the source's requests).

    One read of the value's rows: those straddling the window first (all of them: their
    sessions are aggregated from the log), then those inside it that pass the conditions, by
    time, as many as the page needs. None when too many sessions straddle the window for the
    log to add them cheaply, or a session's names straddling and inside cut the page short.
    """
    t = source.table
    d = db.dialect
    inside, overlapping = _window(t, query)
    within = and_(*inside) if inside else true()
    having = compile_filter(rest, d, source.aggregates).having
    wanted_if_inside = [
        *([] if having is None else [having]),
        *sessions.matching(query, d, t.c.session_id, t.c.session_name),
    ]
    kept = or_(not_(within), and_(*wanted_if_inside)) if wanted_if_inside else true()
    wanted = query.offset + query.limit
    limit = MAX_STRADDLING + 1 + wanted
    stmt = (
        select(*sessions.summary_columns(t), within.label("inside"))
        .where(db.in_org(t), *source.scope, *overlapping, kept)
        .order_by(within, t.c.created_at.desc(), t.c.session_id, t.c.session_name)
        .limit(limit)
    )
    found = await db.rows(stmt)
    cut = len(found) == limit
    if cut and not found[-1]["inside"]:
        return None  # straddlers beyond the limit
    straddlers = sorted({r["session_id"] for r in found if not r["inside"]})
    if len(straddlers) > MAX_STRADDLING:
        return None
    # A session's other names may lie inside the window: the log gives all of a straddler's.
    edge = set(straddlers)
    rows = [r for r in found if r.pop("inside") and r["session_id"] not in edge]
    if cut and len(rows) < wanted:
        return None
    if straddlers:
        edge_query = dataclasses.replace(query, offset=0, limit=wanted)
        compiled = compile_filter(query.filter, d, AGGREGATES)
        rows += await sessions.aggregate(db, edge_query, compiled, straddlers)
    rows.sort(key=lambda r: (r["session_id"], r["session_name"] or ""))
    rows.sort(key=lambda r: r["created_at"], reverse=True)
    return rows[query.offset : wanted]


def _source(db: OrgDb, query: SessionQuery) -> tuple[_Source, Any] | None:
    """The table that answers the query and the filter's session conditions, or None."""
    if not query.use_summary:
        return None
    if compile_filter(query.filter, db.dialect, AGGREGATES).where is None:
        return _Source(ss, (), SUMMARY_AGGREGATES), query.filter
    split = _split(db, query.filter)
    if split is None:
        return None
    (key, value), rest = split
    return _Source(sp, (sp.c.key == key, sp.c.value == value), _AGGREGATES), rest


async def session_users(db: OrgDb, session_ids: list[str]) -> dict[str, list[str]]:
    """``sessions.session_users``, reading the log only within the sessions' time span.

    The summary holds every (session, name)'s first and last request, so the span of all of
    them bounds every request of these sessions: a primary-key range of the log.
    """
    if not session_ids:
        return {}
    span = select(func.min(ss.c.created_at), func.max(ss.c.latest_request_created_at)).where(
        db.in_org(ss), ss.c.session_id.in_(session_ids)
    )
    first, last = (await db.tuples(span))[0]
    if first is None:
        return {}
    t = rr.c.request_created_at
    stmt = (
        select(rr.c.session_id, rr.c.user_id)
        .where(db.in_org(rr), t >= first, t <= last, rr.c.session_id.in_(session_ids))
        .where(rr.c.user_id.is_not(None))
        .distinct()
    )
    users: dict[str, list[str]] = {}
    for session_id, user_id in await db.tuples(stmt):
        users.setdefault(session_id, []).append(user_id)
    return {k: sorted(v) for k, v in users.items()}


async def query_sessions(db: OrgDb, query: SessionQuery) -> list[dict[str, Any]]:
    """``sessions.query_sessions``: from the summary, or ``session_property`` for one property."""
    found = _source(db, query)
    page = None if found is None else await _page(db, query, *found)
    if page is None:
        return await sessions.query_sessions(db, query)
    users = await session_users(db, [s["session_id"] for s in page])
    for session in page:
        session["user_ids"] = users.get(session["session_id"], [])
    return page
