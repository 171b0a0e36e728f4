"""The whole filtered log, a page at a time, for exports: keyset pages in time order.

``OFFSET`` pages cost more the deeper they go and shift when rows arrive; a cursor on
``(request_created_at, request_id)`` costs the same for the last page as for the first (the
``(organization_id, request_created_at)`` index serves it) and never repeats or skips a row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_

from helioscope.errors import BadRequest
from helioscope.store._runner import OrgDb
from helioscope.store.filters import compile_filter, where_or_true
from helioscope.store.log.requests import MAX_PAGE, rows_with_bodies
from helioscope.store.tables.log import request_response as rr


@dataclass(frozen=True, slots=True)
class LogCursor:
    """Where a page ended: the next page starts after this row."""

    created_at: dt.datetime
    request_id: str


@dataclass(frozen=True, slots=True)
class LogPageQuery:
    """One page of the organization's log matching a Helicone filter tree, oldest first."""

    filter: Any = "all"
    after: LogCursor | None = None
    limit: int = 500
    include_bodies: bool = True


async def log_page(db: OrgDb, query: LogPageQuery) -> list[dict[str, Any]]:
    """The next page of rows (with feedback, and bodies if asked) after ``query.after``."""
    if not 0 < query.limit <= MAX_PAGE:
        raise BadRequest(f"limit must be 1 to {MAX_PAGE}")
    created = rr.c.request_created_at
    condition = and_(db.in_org(rr), where_or_true(compile_filter(query.filter, db.dialect)))
    if query.after is not None:
        at = query.after.created_at
        condition = and_(
            condition,
            or_(created > at, and_(created == at, rr.c.request_id > query.after.request_id)),
        )
    stmt = (
        rows_with_bodies(query.include_bodies)
        .where(condition)
        .order_by(created, rr.c.request_id)
        .limit(query.limit)
    )
    return await db.rows(stmt)


def cursor_after(rows: list[dict[str, Any]]) -> LogCursor | None:
    """The cursor that continues after the last of ``rows`` (None for an empty page)."""
    if not rows:
        return None
    return LogCursor(rows[-1]["request_created_at"], rows[-1]["request_id"])
