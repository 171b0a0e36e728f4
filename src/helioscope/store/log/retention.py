"""Retention on SQLite/PostgreSQL (``HELIOSCOPE_LOG_RETENTION_DAYS``): deleting expired requests.

ClickHouse keeps retention as a TTL on its tables (``clickhouse/_schema.py``); here a periodic
task (``helioscope.ingest.retention``) calls ``delete_expired`` until nothing is left. Each
call deletes at most ``limit`` requests, in one transaction with everything hanging off them
(bodies, feedback, scores by key), and recomputes the totals of the sessions they belonged to:
short transactions, so the writer is never held up behind one long delete.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, tuple_

from helioscope.store._runner import Db
from helioscope.store.log import _session_summary as session_summary
from helioscope.store.tables.log import feedback, request_body, score_value
from helioscope.store.tables.log import request_response as rr

# Requests deleted per transaction.
BATCH = 5_000


async def delete_expired(db: Db, before: dt.datetime, limit: int = BATCH) -> int:
    """Delete up to ``limit`` requests created before ``before`` (every organization's).

    Returns how many were deleted: fewer than ``limit`` means none are left.
    """
    expired = await db.tuples(
        select(rr.c.organization_id, rr.c.request_id, rr.c.session_id)
        .where(rr.c.request_created_at < before)
        .order_by(rr.c.request_created_at)
        .limit(limit)
    )
    if not expired:
        return 0
    keys = [(org, request_id) for org, request_id, _ in expired]
    for table in (request_body, feedback, score_value, rr):
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            await db.execute(
                delete(table).where(tuple_(table.c.organization_id, table.c.request_id).in_(chunk))
            )
    sessions = {(org, session) for org, _, session in expired if session is not None}
    await session_summary.refresh(db, sessions)
    return len(expired)
