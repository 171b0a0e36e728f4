"""The session summary on ClickHouse, kept as the SQL writer keeps its own.

Rows new to the log are added to their sessions' totals (read, added, written back as a newer
version); sessions of rows that replaced others (a replay, a reused id, an edit) are recomputed
from the log with one INSERT … SELECT per organization, run by the server. Work per batch thus
follows the batch, not the sessions' length. Pairs of (session, name) left without rows get a
tombstone first, which the fresh totals replace wherever the pair still exists.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from helioscope.store.clickhouse._client import ClickHouse
from helioscope.store.clickhouse._replaced import Replaced
from helioscope.store.log._session_summary import _increments
from helioscope.store.records import LogRow
from helioscope.store.tables.log import session_summary

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


# The SQL summary's columns, in its order: keys and times, then the sums.
_COLUMNS = tuple(c.name for c in session_summary.c)
_SUMMED = _COLUMNS[5:]
_CURRENT = (
    f"SELECT {', '.join(_COLUMNS)} FROM session_summary FINAL "
    "WHERE organization_id = {org:String} AND session_id IN {ids:Array(String)}"
)


def _as_summary_input(row: LogRow) -> dict[str, Any]:
    session = row.properties.get("Helicone-Session-Id")
    return {
        "organization_id": row.organization_id,
        "session_id": session,
        "session_name": row.properties.get("Helicone-Session-Name") or "",
        "request_created_at": row.request_created_at,
        "cost": row.cost,
        "prompt_tokens": row.prompt_tokens,
        "completion_tokens": row.completion_tokens,
        "latency": row.latency,
    }


def _add(totals: dict[str, Any], earlier: dict[str, Any]) -> None:
    """Fold a session's stored totals into the new rows' totals."""
    totals["created_at"] = min(totals["created_at"], earlier["created_at"])
    totals["latest_request_created_at"] = max(
        totals["latest_request_created_at"], earlier["latest_request_created_at"]
    )
    for name in _SUMMED:
        totals[name] += earlier[name]


async def add_new_rows(clickhouse: ClickHouse, rows: Iterable[LogRow]) -> None:
    """Add rows that were not in the log before to their sessions' totals."""
    increments = _increments(_as_summary_input(r) for r in rows)
    by_session: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
    for inc in increments:
        by_session.setdefault(inc["organization_id"], {})[
            (inc["session_id"], inc["session_name"])
        ] = inc
    now = dt.datetime.now(dt.UTC)
    for org, totals in by_session.items():
        ids = sorted({sid for sid, _ in totals})
        for start in range(0, len(ids), _CHUNK):
            current = await clickhouse.query(
                _CURRENT, {"org": org, "ids": ids[start : start + _CHUNK]}
            )
            for values in current.rows:
                old = dict(zip(_COLUMNS, values, strict=True))
                new = totals.get((old["session_id"], old["session_name"]))
                if new is not None:
                    _add(new, old)
        merged = list(totals.values())
        columns = [[t[c] for t in merged] for c in _COLUMNS]
        columns += [[now] * len(merged), [0] * len(merged)]
        await clickhouse.insert("session_summary", (*_COLUMNS, "version", "is_deleted"), columns)


async def after_insert(
    clickhouse: ClickHouse, rows: list[LogRow], replaced: dict[tuple[str, str], Replaced]
) -> None:
    """Bring the summary up to date with a written batch (``replaced``: rows it overwrote)."""
    await add_new_rows(
        clickhouse, (r for r in rows if (r.organization_id, r.request_id) not in replaced)
    )
    stale: set[tuple[str, str | None]] = {
        (org, old.session_id) for (org, _), old in replaced.items() if old.session_id is not None
    }
    stale |= {
        (r.organization_id, r.properties.get("Helicone-Session-Id"))
        for r in rows
        if (r.organization_id, r.request_id) in replaced
    }
    await refresh(clickhouse, stale)
