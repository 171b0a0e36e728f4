"""The session summary on ClickHouse, kept as the SQL writer keeps its own.

Rows new to the log are added to their sessions' totals (read, added, written back as a newer
version); sessions of rows that replaced others (a replay, a reused id, an edit) are recomputed
from the log with one INSERT … SELECT per organization, run by the server. Work per batch thus
follows the batch, not the sessions' length. Pairs of (session, name) left without rows get a
tombstone first, which the fresh totals replace wherever the pair still exists.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from helioscope.store.clickhouse._client import ClickHouse
from helioscope.store.clickhouse._id_lists import IDS, id_list
from helioscope.store.clickhouse._properties import ticks
from helioscope.store.clickhouse._replaced import Replaced
from helioscope.store.records import LogRow
from helioscope.store.tables.log import session_summary

_CHUNK = 1000

_TOMBSTONES = (
    """
INSERT INTO session_summary
SELECT organization_id, session_id, session_name, created_at, latest_request_created_at,
       0, 0, 0, 0, 0, 0, 0, {v:DateTime64(6, 'UTC')}, 1
FROM session_summary FINAL
WHERE organization_id = {org:String} AND session_id IN """
    + IDS
)

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
_TOTALS = _TOTALS_OF + "organization_id = {org:String} AND session_id IN " + IDS + _GROUPED
# Every session at once, for a log written before the summary existed (or a generated one).
_ALL_TOTALS = _TOTALS_OF + "session_id IS NOT NULL" + _GROUPED


async def refresh(clickhouse: ClickHouse, keys: Iterable[tuple[str, str | None]]) -> None:
    """Recompute the summaries of these ``(organization_id, session_id)`` sessions."""
    await recompute(clickhouse, keys, _TOMBSTONES, _TOTALS)


async def recompute(
    clickhouse: ClickHouse, keys: Iterable[tuple[str, str | None]], tombstones: str, totals: str
) -> None:
    """Recompute these sessions' rows in a table of session totals.

    The table is the summary or ``session_property``: ``tombstones`` for every row the
    sessions had, then ``totals`` from the log, a microsecond newer, replacing those still
    valid. Both statements take ``{org}``, ``{ids}`` (``_id_lists.IDS``) and ``{v}``.
    """
    grouped: dict[str, list[str]] = {}
    for org, session_id in sorted({(o, s) for o, s in keys if s is not None}):
        grouped.setdefault(org, []).append(session_id)
    for org, ids in grouped.items():
        for start in range(0, len(ids), _CHUNK):
            params = {"org": org, "ids": id_list(ids[start : start + _CHUNK])}
            now = dt.datetime.now(dt.UTC)
            await clickhouse.command(tombstones, {**params, "v": now})
            await clickhouse.command(totals, {**params, "v": now + dt.timedelta(microseconds=1)})


async def rebuild(clickhouse: ClickHouse) -> None:
    """Recompute every session of the log (for a log that predates the summary)."""
    await clickhouse.command(_ALL_TOTALS, {"v": dt.datetime.now(dt.UTC)})


# The SQL summary's columns, in its order: keys and times, then the sums.
_COLUMNS = tuple(c.name for c in session_summary.c)
_CURRENT = (
    f"SELECT {', '.join(_COLUMNS)} FROM session_summary FINAL "
    "WHERE organization_id = {org:String} AND session_id IN " + IDS
)


# The log's columns the summary sums (as inserted: text cleaned, times as ticks).
SOURCE = (
    "organization_id",
    "session_id",
    "session_name",
    "request_created_at",
    "cost",
    "prompt_tokens",
    "completion_tokens",
    "latency",
)


def totals(columns: Sequence[Sequence[Any]]) -> dict[tuple[str, Any, str], list[Any]]:
    """The rows' totals per (organization, session, name), in ``_COLUMNS[3:]`` order.

    A column at a time (no dict per row): rows without a session are left out. The session
    may be any hashable value (``_session_properties`` passes (session, key, value)).
    """
    org, session, name, created, cost, prompt, completion, latency = columns
    if None in session:
        keep = [i for i, sid in enumerate(session) if sid is not None]
        columns = [[column[i] for i in keep] for column in columns]
        org, session, name, created, cost, prompt, completion, latency = columns
    index: dict[tuple[str, Any, str], int] = {}
    group_of = [
        index.setdefault(key, len(index))
        for key in zip(org, session, (n or "" for n in name), strict=True)
    ]
    size = len(index)
    first: list[int] = []
    last: list[int] = []
    for group, moment in zip(group_of, created, strict=True):
        if group == len(first):  # groups are numbered as first seen: this is its first row
            first.append(moment)
            last.append(moment)
        elif moment < first[group]:
            first[group] = moment
        elif moment > last[group]:
            last[group] = moment
    prompts, completions = [v or 0 for v in prompt], [v or 0 for v in completion]
    sums: list[list[int]] = [[0] * size for _ in range(7)]
    per_row: list[Iterable[int]] = [
        (v or 0 for v in cost),
        (1 for _ in group_of),
        prompts,
        completions,
        (p + c for p, c in zip(prompts, completions, strict=True)),
        (v or 0 for v in latency),
        (v is not None for v in latency),
    ]
    for total, values in zip(sums, per_row, strict=True):
        for group, value in zip(group_of, values, strict=True):
            total[group] += value
    return {key: [first[i], last[i], *(t[i] for t in sums)] for key, i in index.items()}


async def add_new_rows(clickhouse: ClickHouse, columns: Sequence[Sequence[Any]]) -> None:
    """Add rows that were not in the log before (``SOURCE`` columns) to their sessions."""
    by_org: dict[str, dict[tuple[str, str], list[Any]]] = {}
    for (org, session, name), values in totals(columns).items():
        by_org.setdefault(org, {})[(session, name)] = values
    now = dt.datetime.now(dt.UTC)
    for org, sessions in by_org.items():
        ids = sorted({sid for sid, _ in sessions})
        for start in range(0, len(ids), _CHUNK):
            current = await clickhouse.query(
                _CURRENT, {"org": org, "ids": id_list(ids[start : start + _CHUNK])}
            )
            for stored in current.rows:
                new = sessions.get((stored[1], stored[2]))
                if new is not None:
                    # Fold the stored totals in (its times as ticks, as the new rows' are).
                    new[0] = min(new[0], ticks(stored[3]))
                    new[1] = max(new[1], ticks(stored[4]))
                    for i in range(2, len(new)):
                        new[i] += stored[3 + i]
        keys = list(sessions)
        merged: list[list[Any]] = [[org] * len(keys), [k[0] for k in keys], [k[1] for k in keys]]
        merged += [[sessions[k][i] for k in keys] for i in range(len(_COLUMNS) - 3)]
        merged += [[now] * len(keys), [0] * len(keys)]
        await clickhouse.insert("session_summary", (*_COLUMNS, "version", "is_deleted"), merged)


async def after_insert(
    clickhouse: ClickHouse,
    rows: list[LogRow],
    replaced: dict[tuple[str, str], Replaced],
    columns: Sequence[Sequence[Any]],
) -> None:
    """Bring the summary up to date with a written batch (``replaced``: rows it overwrote).

    ``columns`` are the batch's ``SOURCE`` columns as inserted, in the order of ``rows``.
    """
    if replaced:
        new = [i for i, r in enumerate(rows) if (r.organization_id, r.request_id) not in replaced]
        columns = [[column[i] for i in new] for column in columns]
    await add_new_rows(clickhouse, columns)
    await refresh(clickhouse, touched_sessions(rows, replaced))


def touched_sessions(
    rows: list[LogRow], replaced: Mapping[tuple[str, str], Replaced]
) -> set[tuple[str, str | None]]:
    """The sessions a batch's replaced rows left (their stored version's) and joined."""
    stale: set[tuple[str, str | None]] = {
        (org, old.session_id) for (org, _), old in replaced.items() if old.session_id is not None
    }
    stale |= {
        (r.organization_id, r.properties.get("Helicone-Session-Id"))
        for r in rows
        if (r.organization_id, r.request_id) in replaced
    }
    return stale
