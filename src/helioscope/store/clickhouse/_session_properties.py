"""``session_property``: each session's totals per property value, kept as the summary is.

One row per (session, name, property key, value): the session summary's totals over the
session's requests carrying that value. The session page filtered by one property equal to a
value reads them (``_session_reads``) instead of grouping every matching log row by session.

It is kept exactly as ``_sessions`` keeps ``session_summary``: rows new to the log are added
(the stored totals read, folded in, written back as a newer version); the sessions of rows
that replaced others (a replay, a rewritten row, an edit) are recomputed from the log with
one INSERT … SELECT per organization, after a tombstone for every pair they had, which the
fresh totals replace wherever the pair still exists. A batch that failed after its log insert
is replayed by the journal; its rows are then replaced rows, whose sessions are recomputed.
Keys the log keeps as columns (``Helicone-Session-*``) are left out, as in the rollups.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import BigInteger, Column, MetaData, String, Table

from helioscope.store._dialects import UtcDateTime
from helioscope.store.clickhouse import _sessions as sessions
from helioscope.store.clickhouse._client import ClickHouse
from helioscope.store.clickhouse._id_lists import IDS, id_list
from helioscope.store.clickhouse._properties import IN_COLUMNS, ticks
from helioscope.store.clickhouse._replaced import Replaced
from helioscope.store.log._session_summary import SUMMED
from helioscope.store.records import LogRow

_CHUNK = 1000

# The table's columns, in the order the statements below write them.
COLUMNS = (
    "organization_id",
    "key",
    "value",
    "session_id",
    "session_name",
    "created_at",
    "latest_request_created_at",
    *SUMMED,
    "version",
    "is_deleted",
)
_INSERT = f"INSERT INTO session_property ({', '.join(COLUMNS)})"
_NOT_COLUMNS = "lower(key) NOT IN (" + ", ".join(f"'{key}'" for key in IN_COLUMNS) + ")"
_SESSIONS = "organization_id = {org:String} AND session_id IN " + IDS

_TOMBSTONES = f"""{_INSERT}
SELECT organization_id, key, value, session_id, session_name, created_at,
       latest_request_created_at, 0, 0, 0, 0, 0, 0, 0, {{v:DateTime64(6, 'UTC')}}, 1
FROM session_property FINAL
WHERE {_SESSIONS}
"""

_TOTALS_OF = f"""{_INSERT}
SELECT organization_id, key, value, session_id, coalesce(session_name, '') AS name,
       min(request_created_at), max(request_created_at), coalesce(sum(cost), 0), count(),
       sum(coalesce(prompt_tokens, 0)), sum(coalesce(completion_tokens, 0)),
       sum(coalesce(prompt_tokens, 0) + coalesce(completion_tokens, 0)),
       coalesce(sum(latency), 0), count(latency), {{v:DateTime64(6, 'UTC')}}, 0
FROM request_response FINAL
ARRAY JOIN mapKeys(properties) AS key, mapValues(properties) AS value
WHERE {_NOT_COLUMNS} AND """
_GROUPED = "\nGROUP BY organization_id, key, value, session_id, name"
_TOTALS = _TOTALS_OF + _SESSIONS + _GROUPED
# Every session at once, for a log written before the table existed (or a generated one).
# In parts of the sessions (by a hash of the id: a session's rows stay together), so that
# the GROUP BY holds a part's groups at a time: the 10M-row log's 8.6M groups in one took
# 4.3 GB of RSS (51 s).
_ALL_TOTALS = (
    _TOTALS_OF
    + "session_id IS NOT NULL AND cityHash64(session_id) % {parts:UInt64} = {part:UInt64}"
    + _GROUPED
)
# Log rows per part of the rebuild (~0.4 GB of groups per million rows measured).
REBUILD_ROWS = 1_000_000

_CURRENT = (
    f"SELECT {', '.join(COLUMNS[:14])} FROM session_property FINAL "
    "WHERE organization_id = {org:String} AND key IN {keys:Array(String)} "
    "AND session_id IN " + IDS
)


async def refresh(clickhouse: ClickHouse, keys: Iterable[tuple[str, str | None]]) -> None:
    """Recompute these ``(organization_id, session_id)`` sessions' rows from the log."""
    await sessions.recompute(clickhouse, keys, _TOMBSTONES, _TOTALS)


async def rebuild(clickhouse: ClickHouse) -> None:
    """Compute every session of the log (for a log that predates the table), in parts."""
    counted = await clickhouse.query(
        "SELECT count() FROM request_response WHERE session_id IS NOT NULL"
    )
    parts = max(1, -(-int(counted.rows[0][0]) // REBUILD_ROWS))
    version = dt.datetime.now(dt.UTC)
    for part in range(parts):
        await clickhouse.command(_ALL_TOTALS, {"v": version, "parts": parts, "part": part})


_Kind = tuple[tuple[str, str], ...]  # a row's kept properties, as (key, value) pairs


def _kinds(
    session: Sequence[str | None], maps: Sequence[Mapping[str, str]]
) -> tuple[list[tuple[str, int] | None], list[_Kind], set[str]]:
    """Each row's ``(session, kind id)``, the kinds by id, and the kept keys seen.

    A row without a session or a kept property is None. Each distinct map (its items,
    hashed at C speed) is sorted out once: a batch's rows repeat a few thousand of them.
    """
    in_columns: dict[str, bool] = {}

    def kept(properties: Mapping[str, str]) -> _Kind:
        for key in properties:
            if key not in in_columns:
                in_columns[key] = key.lower() in IN_COLUMNS
        return tuple(item for item in properties.items() if not in_columns[item[0]])

    ids: dict[_Kind, int] = {}
    kinds: list[_Kind] = []
    keyed: list[tuple[str, int] | None] = []
    for sid, properties in zip(session, maps, strict=True):
        if sid is None or not properties:
            keyed.append(None)
            continue
        items = tuple(properties.items())
        kind = ids.get(items)
        if kind is None:
            kind = ids[items] = len(kinds)
            kinds.append(kept(properties))
        keyed.append((sid, kind) if kinds[kind] else None)
    return keyed, kinds, {key for key, is_column in in_columns.items() if not is_column}


def _group_totals(
    columns: Sequence[Sequence[Any]], maps: Sequence[Mapping[str, str]]
) -> tuple[dict[tuple[str, str, str, str, str], list[Any]], set[str]]:
    """The rows' totals per (org, key, value, session, name), and the keys seen.

    Rows repeat their properties (a few environments and features), so they are totalled
    per (org, session, name, the properties kept) with ``_sessions``' fold first, and each
    group's totals then go to its keys: 10,000 shaped rows took 46 ms expanded to a row per
    (row, key) before the fold, 28 ms so.
    """
    keyed, kinds, keys = _kinds(columns[1], maps)
    groups: dict[tuple[str, str, str, str, str], list[Any]] = {}
    for (org, (session, kind), name), values in sessions.totals(
        [columns[0], keyed, *columns[2:]]
    ).items():
        for key, value in kinds[kind]:
            group = (org, key, value, session, name)
            found = groups.get(group)
            if found is None:
                groups[group] = list(values)
                continue
            found[0] = min(found[0], values[0])
            found[1] = max(found[1], values[1])
            for i in range(2, len(values)):
                found[i] += values[i]
    return groups, keys


async def add_new_rows(
    clickhouse: ClickHouse, columns: Sequence[Sequence[Any]], maps: Sequence[Mapping[str, str]]
) -> None:
    """Add rows new to the log (``_sessions.SOURCE`` columns, and their properties)."""
    totals, keys = _group_totals(columns, maps)
    if not totals:
        return
    by_org: dict[str, dict[tuple[str, str, str, str], list[Any]]] = {}
    for (org, key, value, session, name), values in totals.items():
        by_org.setdefault(org, {})[(key, value, session, name)] = values
    now = dt.datetime.now(dt.UTC)
    for org, groups in by_org.items():
        ids = sorted({session for _, _, session, _ in groups})
        for start in range(0, len(ids), _CHUNK):
            chunk = id_list(ids[start : start + _CHUNK])
            params = {"org": org, "keys": sorted(keys), "ids": chunk}
            current = await clickhouse.query(_CURRENT, params)
            for stored in current.rows:
                new = groups.get((stored[1], stored[2], stored[3], stored[4]))
                if new is not None:
                    # Fold the stored totals in (its times as ticks, as the new rows' are).
                    new[0] = min(new[0], ticks(stored[5]))
                    new[1] = max(new[1], ticks(stored[6]))
                    for i in range(2, len(new)):
                        new[i] += stored[5 + i]
        found = list(groups)
        merged: list[list[Any]] = [[org] * len(found)]
        merged += [[k[i] for k in found] for i in range(4)]
        merged += [[groups[k][i] for k in found] for i in range(9)]
        merged += [[now] * len(found), [0] * len(found)]
        await clickhouse.insert("session_property", COLUMNS, merged)


async def after_insert(
    clickhouse: ClickHouse,
    rows: list[LogRow],
    replaced: Mapping[tuple[str, str], Replaced],
    columns: Sequence[Sequence[Any]],
    maps: Sequence[Mapping[str, str]],
) -> None:
    """Bring the table up to date with a written batch (``replaced``: rows it overwrote).

    ``columns`` are the batch's ``_sessions.SOURCE`` columns as inserted and ``maps`` its
    properties, in the order of ``rows``. As ``_sessions.after_insert``: new rows are added,
    the old and new sessions of replaced rows recomputed.
    """
    if replaced:
        new = [i for i, r in enumerate(rows) if (r.organization_id, r.request_id) not in replaced]
        columns = [[column[i] for i in new] for column in columns]
        maps = [maps[i] for i in new]
    await add_new_rows(clickhouse, columns, maps)
    await refresh(clickhouse, sessions.touched_sessions(rows, replaced))


# The table as the reads see it (``_session_reads``); read FINAL (``_sql``).
session_property = Table(
    "session_property",
    MetaData(),
    Column("organization_id", String()),
    Column("key", String()),
    Column("value", String()),
    Column("session_id", String()),
    Column("session_name", String()),
    Column("created_at", UtcDateTime()),
    Column("latest_request_created_at", UtcDateTime()),
    *(Column(name, BigInteger()) for name in COLUMNS[7:14]),
)
