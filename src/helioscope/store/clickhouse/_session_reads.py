"""The session page filtered by one property, from ``session_property``.

``POST /v1/session/query`` with a filter on the requests (``properties.env = 'prod'``) cannot
use the session summary: the totals are then over the matching requests only, so the store's
function groups every matching log row by session (2.2 s CPU at 10M rows). When that filter is
one property equal to a value, alone or AND'ed with conditions on the session totals, the
totals are those ``session_property`` keeps per (session, name, key, value), read as
``sessions._from_summary`` reads the summary: sessions whose matching requests all lie inside
the window come from the table, those straddling its edges are aggregated from the log (with
the whole filter), and the page is merged and cut in Python. Anything else goes to the store's
function.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import ColumnElement, Float, and_, cast, func, not_, or_, select, true

from helioscope.store._runner import OrgDb
from helioscope.store.clickhouse._hourly_reads import one_property
from helioscope.store.clickhouse._session_properties import session_property as sp
from helioscope.store.cost import usd
from helioscope.store.filters import compile_filter
from helioscope.store.log import sessions
from helioscope.store.log.sessions import AGGREGATES, MAX_STRADDLING, SessionQuery

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


def _window(query: SessionQuery) -> tuple[list[ColumnElement[bool]], list[ColumnElement[bool]]]:
    """``(inside, overlapping)``: a (session, value)'s requests all inside the window, or some.

    The window is exclusive; the second holds for the sessions inside it and for those
    straddling an edge.
    """
    inside, overlapping = [], []
    if query.start is not None:
        inside.append(sp.c.created_at > query.start)
        overlapping.append(sp.c.latest_request_created_at > query.start)
    if query.end is not None:
        inside.append(sp.c.latest_request_created_at < query.end)
        overlapping.append(sp.c.created_at < query.end)
    return inside, overlapping


async def _page(
    db: OrgDb, query: SessionQuery, prop: tuple[str, str], rest: Any
) -> list[dict[str, Any]] | None:
    """The sessions (newest first) with their totals over the property's requests.

    One read of the value's rows: those straddling the window first (all of them: their
    sessions are aggregated from the log), then those inside it that pass the conditions, by
    time, as many as the page needs. None when too many sessions straddle the window for the
    log to add them cheaply, or a session's names straddling and inside cut the page short.
    """
    key, value = prop
    d = db.dialect
    inside, overlapping = _window(query)
    within = and_(*inside) if inside else true()
    wanted_if_inside = [
        *([] if (having := compile_filter(rest, d, _AGGREGATES).having) is None else [having]),
        *sessions.matching(query, d, sp.c.session_id, sp.c.session_name),
    ]
    kept = or_(not_(within), and_(*wanted_if_inside)) if wanted_if_inside else true()
    wanted = query.offset + query.limit
    limit = MAX_STRADDLING + 1 + wanted
    stmt = (
        select(
            sp.c.session_id,
            sp.c.session_name,
            sp.c.created_at,
            sp.c.latest_request_created_at,
            usd(sp.c.total_cost).label("total_cost"),
            sp.c.total_requests,
            sp.c.prompt_tokens,
            sp.c.completion_tokens,
            sp.c.total_tokens,
            (cast(sp.c.latency_sum, Float()) / func.nullif(sp.c.latency_count, 0)).label(
                "avg_latency"
            ),
            within.label("inside"),
        )
        .where(db.in_org(sp), sp.c.key == key, sp.c.value == value, *overlapping, kept)
        .order_by(within, sp.c.created_at.desc(), sp.c.session_id)
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
    rows.sort(key=lambda r: r["session_id"])
    rows.sort(key=lambda r: r["created_at"], reverse=True)
    return rows[query.offset : wanted]


async def query_sessions(db: OrgDb, query: SessionQuery) -> list[dict[str, Any]]:
    """``sessions.query_sessions``, from ``session_property`` for a one-property filter."""
    split = _split(db, query.filter) if query.use_summary else None
    page = None if split is None else await _page(db, query, *split)
    if page is None:
        return await sessions.query_sessions(db, query)
    users = await sessions.session_users(db, [s["session_id"] for s in page])
    for session in page:
        session["user_ids"] = users.get(session["session_id"], [])
    return page
