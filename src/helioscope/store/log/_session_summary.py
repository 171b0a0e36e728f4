"""The session summary: per-session totals kept current by every write that touches a session.

``refresh`` recomputes the summary rows of the given sessions from the request log, inside the
caller's transaction, so the summary never disagrees with the rows it sums (a replayed or
rewritten row cannot be counted twice). ``candidates`` answers the session list from it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
)

from helioscope.store._runner import Db
from helioscope.store.records import LogRow
from helioscope.store.tables.log import request_response as rr
from helioscope.store.tables.log import session_summary as ss

# What the filter language's session columns compare against, read from the summary.
SUMMARY_AGGREGATES: dict[str, ColumnElement[Any]] = {
    "total_cost": ss.c.total_cost,
    "total_tokens": ss.c.total_tokens,
    "prompt_tokens": ss.c.prompt_tokens,
    "completion_tokens": ss.c.completion_tokens,
    "total_requests": ss.c.total_requests,
    "created_at": ss.c.created_at,
    "latest_request_created_at": ss.c.latest_request_created_at,
    "session_id": ss.c.session_id,
    "session_name": ss.c.session_name,
}


# A new row of a session: its organization, session id and name (the columns as written), row.
SessionRow = tuple[str, str, str | None, LogRow]


def _increments(rows: Iterable[SessionRow]) -> list[dict[str, Any]]:
    """The new rows' totals per session, ready to add to the summary."""
    totals: dict[tuple[str, str, str], dict[str, Any]] = {}
    for org, session_id, session_name, row in rows:
        key = (org, session_id, session_name or "")
        prompt, completion = row.prompt_tokens or 0, row.completion_tokens or 0
        created = row.request_created_at
        t = totals.get(key)
        if t is None:
            t = totals[key] = {
                "organization_id": key[0],
                "session_id": key[1],
                "session_name": key[2],
                "created_at": created,
                "latest_request_created_at": created,
                "total_cost": 0,
                "total_requests": 0,
                "prompt_tokens": 0,
                "completion_tokens": 0,
                "total_tokens": 0,
                "latency_sum": 0,
                "latency_count": 0,
            }
        t["created_at"] = min(t["created_at"], created)
        t["latest_request_created_at"] = max(t["latest_request_created_at"], created)
        t["total_cost"] += row.cost or 0
        t["total_requests"] += 1
        t["prompt_tokens"] += prompt
        t["completion_tokens"] += completion
        t["total_tokens"] += prompt + completion
        if row.latency is not None:
            t["latency_sum"] += row.latency
            t["latency_count"] += 1
    return list(totals.values())


# The totals a session's row adds up (the summary's, and ClickHouse's session_property's).
SUMMED = (
    "total_cost",
    "total_requests",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "latency_sum",
    "latency_count",
)


async def add_new_rows(db: Db, rows: Iterable[SessionRow]) -> None:
    """Add rows that were not in the log before to their sessions' totals."""
    increments = _increments(rows)
    if not increments:
        return
    d = db.dialect
    stmt: Any = d.insert(ss)
    new = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=["organization_id", "session_id", "session_name"],
        set_={
            "created_at": d.least(ss.c.created_at, new.created_at),
            "latest_request_created_at": d.greatest(
                ss.c.latest_request_created_at, new.latest_request_created_at
            ),
            **{name: ss.c[name] + new[name] for name in SUMMED},
        },
    )
    await db.execute(stmt, increments)


async def refresh(db: Db, keys: Iterable[tuple[str, str]]) -> None:
    """Recompute the summaries of these ``(organization_id, session_id)`` sessions."""
    # Inline '' (not a bound parameter), so that PostgreSQL sees the SELECT and GROUP BY
    # expressions as the same one.
    name = func.coalesce(rr.c.session_name, literal_column("''"))
    grouped: dict[str, list[str]] = {}
    for org, session_id in sorted(set(keys)):
        grouped.setdefault(org, []).append(session_id)
    for org, sessions in grouped.items():
        scoped = db.for_org(org)
        for start in range(0, len(sessions), 200):
            chunk = sessions[start : start + 200]
            await db.execute(delete(ss).where(scoped.in_org(ss), ss.c.session_id.in_(chunk)))
            totals = (
                select(
                    rr.c.organization_id,
                    rr.c.session_id,
                    name,
                    func.min(rr.c.request_created_at),
                    func.max(rr.c.request_created_at),
                    func.coalesce(func.sum(rr.c.cost), 0),
                    func.count(),
                    func.sum(func.coalesce(rr.c.prompt_tokens, 0)),
                    func.sum(func.coalesce(rr.c.completion_tokens, 0)),
                    func.sum(
                        func.coalesce(rr.c.prompt_tokens, 0)
                        + func.coalesce(rr.c.completion_tokens, 0)
                    ),
                    func.coalesce(func.sum(rr.c.latency), 0),
                    func.count(rr.c.latency),
                )
                .where(scoped.in_org(rr), rr.c.session_id.in_(chunk))
                .group_by(rr.c.organization_id, rr.c.session_id, name)
            )
            await db.execute(insert(ss).from_select([c.name for c in ss.c], totals))


def within(start: dt.datetime | None, end: dt.datetime | None) -> ColumnElement[bool]:
    """Sessions whose every request lies inside the (exclusive) window: their summary is exact."""
    conditions = []
    if start is not None:
        conditions.append(ss.c.created_at > start)
    if end is not None:
        conditions.append(ss.c.latest_request_created_at < end)
    return and_(*conditions) if conditions else and_(True)


def straddling(start: dt.datetime | None, end: dt.datetime | None) -> ColumnElement[bool] | None:
    """Sessions with requests both inside and outside the window (None: no window)."""
    conditions = []
    if start is not None:
        conditions.append(and_(ss.c.created_at <= start, ss.c.latest_request_created_at > start))
    if end is not None:
        conditions.append(and_(ss.c.created_at < end, ss.c.latest_request_created_at >= end))
    return or_(*conditions) if conditions else None
