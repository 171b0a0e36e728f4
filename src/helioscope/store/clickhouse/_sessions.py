"""The session summary on ClickHouse: recomputed from the log for every session a write touches.

The SQL writer adds new rows to their sessions' totals and recomputes replaced ones; here every
touched session is recomputed, one INSERT … SELECT per organization, run by the server (no rows
travel). A replay recomputes the same totals, so the newest version of a summary row is right
whatever was written twice. Pairs of (session, name) that no longer have rows get a tombstone
first, which the fresh totals then replace wherever the pair still exists.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from helioscope.store.clickhouse._client import ClickHouse

_CHUNK = 1000

_TOMBSTONES = """
INSERT INTO session_summary
SELECT organization_id, session_id, session_name, created_at, latest_request_created_at,
       0, 0, 0, 0, 0, 0, 0, {v:DateTime64(6, 'UTC')}, 1
FROM session_summary FINAL
WHERE organization_id = {org:String} AND session_id IN {ids:Array(String)}
"""

_TOTALS_OF = """
INSERT INTO session_summary
SELECT organization_id, session_id, coalesce(session_name, '') AS name,
       min(request_created_at), max(request_created_at), coalesce(sum(cost), 0), count(),
       sum(coalesce(prompt_tokens, 0)), sum(coalesce(completion_tokens, 0)),
       sum(coalesce(prompt_tokens, 0) + coalesce(completion_tokens, 0)),
       coalesce(sum(latency), 0), count(latency), {v:DateTime64(6, 'UTC')}, 0
FROM request_response FINAL
WHERE """
_GROUPED = "\nGROUP BY organization_id, session_id, name"
_TOTALS = (
    _TOTALS_OF + "organization_id = {org:String} AND session_id IN {ids:Array(String)}" + _GROUPED
)
# Every session at once, for a log written before the summary existed (or a generated one).
_ALL_TOTALS = _TOTALS_OF + "session_id IS NOT NULL" + _GROUPED


async def refresh(clickhouse: ClickHouse, keys: Iterable[tuple[str, str | None]]) -> None:
    """Recompute the summaries of these ``(organization_id, session_id)`` sessions."""
    grouped: dict[str, list[str]] = {}
    for org, session_id in sorted({(o, s) for o, s in keys if s is not None}):
        grouped.setdefault(org, []).append(session_id)
    for org, sessions in grouped.items():
        for start in range(0, len(sessions), _CHUNK):
            ids = sessions[start : start + _CHUNK]
            # Tombstones strictly older than the totals, which replace those still valid.
            now = dt.datetime.now(dt.UTC)
            params = {"org": org, "ids": ids}
            await clickhouse.command(_TOMBSTONES, {**params, "v": now})
            await clickhouse.command(_TOTALS, {**params, "v": now + dt.timedelta(microseconds=1)})


async def rebuild(clickhouse: ClickHouse) -> None:
    """Recompute every session of the log (for a log that predates the summary)."""
    await clickhouse.command(_ALL_TOTALS, {"v": dt.datetime.now(dt.UTC)})
