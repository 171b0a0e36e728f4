"""Batches of ``LogRow`` into ClickHouse: one INSERT per batch, column by column.

ClickHouse writes every INSERT as a new part on disk and merges parts in the background: a row
per INSERT would bury it in parts. The writer hands over whole batches; each becomes one block,
built column-wise (one list per column), which is what the native format sends anyway.

A batch written twice (a replay from the journal) leaves one row per (organization, request
id) when read: the table is a ReplacingMergeTree on ``updated_at`` and reads use FINAL. The
sessions a batch touches are then recomputed (``_sessions``).
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Sequence
from itertools import repeat
from typing import Any

import orjson

from helioscope.store.clickhouse import _deltas as deltas
from helioscope.store.clickhouse import _hourly as hourly
from helioscope.store.clickhouse import _properties as properties
from helioscope.store.clickhouse import _replaced as replaced_rows
from helioscope.store.clickhouse import _session_properties as session_properties
from helioscope.store.clickhouse import _sessions as sessions
from helioscope.store.clickhouse._client import ClickHouse
from helioscope.store.clickhouse._ddl import LOG_COLUMNS
from helioscope.store.clickhouse._properties import ticks
from helioscope.store.log.write import _clean
from helioscope.store.records import LogRow

COLUMN_NAMES = tuple(name for name, _, _ in LOG_COLUMNS)
# Times the rows carry, handed over as ticks (``updated_at`` is the batch's, made once).
_TIMES = frozenset(
    name for name, kind, _ in LOG_COLUMNS if "DateTime64" in kind and name != "updated_at"
)
_TEXT = frozenset(
    name for name, kind, _ in LOG_COLUMNS if "String" in kind and not kind.startswith("Map")
)
_BODIES = frozenset({"request_body", "response_body"})
_DERIVED = frozenset(
    {"properties", "scores", "prompt_inputs", "updated_at", "session_id", "session_name"}
    | {"session_path"}
)
_DIRECT = tuple(name for name in COLUMN_NAMES if name not in _DERIVED)
_get_direct = operator.attrgetter(*_DIRECT)


def _has_nul(values: Sequence[Any]) -> bool:
    return "\x00" in "".join(filter(None, values))


def _body_has_nul(values: Sequence[Any]) -> bool:
    # Each body searched where it lies (``operator.contains`` mapped in C): joining them
    # first copied the batch's bodies once more, three times as long (short texts join faster).
    return any(map(operator.contains, filter(None, values), repeat("\x00")))


def _text(values: Sequence[Any], scan: Callable[[Sequence[Any]], bool]) -> Sequence[Any]:
    # Text with NUL is cleaned as on SQLite/PostgreSQL (which cannot store it), so the log
    # reads back the same whichever engine keeps it. One C-speed scan finds the rare NUL.
    if not scan(values):
        return values
    return [_clean(v) if v and "\x00" in v else v for v in values]


def _properties(rows: list[LogRow]) -> list[dict[str, str]]:
    maps = [r.properties for r in rows]
    if not _has_nul([k + v for p in maps for k, v in p.items()]):
        return maps
    return [_clean(p) for p in maps]


def _scores(rows: list[LogRow]) -> list[dict[str, float]]:
    return [{_clean(k): float(v) for k, v in r.scores.items()} if r.scores else {} for r in rows]


def _prompt_inputs(rows: list[LogRow]) -> list[str | None]:
    return [
        None if r.prompt_inputs is None else orjson.dumps(_clean(r.prompt_inputs)).decode()
        for r in rows
    ]


SESSION_ID = "Helicone-Session-Id"


def _session_columns(maps: list[dict[str, str]]) -> dict[str, list[Any]]:
    ids = [p.get(SESSION_ID) for p in maps]
    names = [p.get("Helicone-Session-Name") for p in maps]
    # A session without a name is named '' (it groups with itself), as the SQL writer does.
    names = [
        "" if name is None and session else name for name, session in zip(names, ids, strict=True)
    ]
    paths = [p.get("Helicone-Session-Path") for p in maps]
    return {"session_id": ids, "session_name": names, "session_path": paths}


def log_columns(rows: list[LogRow], now: dt.datetime) -> list[Sequence[Any]]:
    """The rows as one sequence per column of ``COLUMN_NAMES`` (the last of a key wins)."""
    return _columns(_latest(rows), now)


def _latest(rows: list[LogRow]) -> list[LogRow]:
    """The last row of each (organization, request id), in the order of the first."""
    return list({(r.organization_id, r.request_id): r for r in rows}.values())


def _columns(latest: list[LogRow], now: dt.datetime) -> list[Sequence[Any]]:
    if not latest:
        return [[] for _ in COLUMN_NAMES]
    direct = dict(zip(_DIRECT, zip(*map(_get_direct, latest), strict=True), strict=True))
    derived: dict[str, Sequence[Any]] = {
        "properties": _properties(latest),
        "scores": _scores(latest),
        "prompt_inputs": _prompt_inputs(latest),
        "updated_at": [ticks(now)] * len(latest),
        **_session_columns([r.properties for r in latest]),
    }
    columns: list[Sequence[Any]] = []
    for name in COLUMN_NAMES:
        values = direct[name] if name in direct else derived[name]
        if name in _TIMES:
            values = [None if v is None else ticks(v) for v in values]
        elif name in _TEXT:
            values = _text(values, _body_has_nul if name in _BODIES else _has_nul)
        columns.append(values)
    return columns


async def insert_log_rows(clickhouse: ClickHouse, rows: list[LogRow]) -> None:
    """Write a batch of log rows as one INSERT (a replayed batch replaces its rows).

    The rollup takes the batch's signed deltas (``_hourly``): exact when every earlier
    batch succeeded whole, or was healed since (``_hourly.heal``, which the log runs).
    """
    if not rows:
        return
    latest = _latest(rows)
    # Which rows replace others decides how the tables kept beside the log change.
    replaced = await replaced_rows.existing(clickhouse, latest)
    now = dt.datetime.now(dt.UTC)
    columns = _columns(latest, now)

    def column(name: str) -> Sequence[Any]:
        return columns[COLUMN_NAMES.index(name)]

    await clickhouse.insert("request_response", COLUMN_NAMES, columns)
    # The property table after the log, with the same version: a failure here fails the
    # batch, and its replay writes both again.
    logged = properties.LoggedColumns(
        column("organization_id"),
        column("request_id"),
        column("request_created_at"),
        column("properties"),
        column("cost"),
    )
    previous = {
        key: (old.request_created_at, list(old.properties)) for key, old in replaced.items()
    }
    await properties.insert_rows(clickhouse, properties.property_rows(logged, now, previous))
    units = [column(name) for name in hourly.UNIT_NAMES]
    maps = column("properties")
    await deltas.add_deltas(clickhouse, deltas.batch_deltas(latest, units, maps, replaced))
    source = [column(n) for n in sessions.SOURCE]
    await sessions.after_insert(clickhouse, latest, replaced, source)
    await session_properties.after_insert(clickhouse, latest, replaced, source, maps)
