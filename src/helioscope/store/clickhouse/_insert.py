"""Batches of ``LogRow`` into ClickHouse: one INSERT per batch, column by column.

ClickHouse writes every INSERT as a new part on disk and merges parts in the background: a row
per INSERT would bury it in parts. The writer hands over whole batches; each becomes one block,
built column-wise (one list per column), which is what the native format sends anyway.

A batch written twice (a replay from the journal) leaves one row per (organization, request
id) when read: the table is a ReplacingMergeTree on ``updated_at`` and reads use FINAL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import orjson

from helioscope.store._log import _clean
from helioscope.store.clickhouse._client import ClickHouse
from helioscope.store.clickhouse._ddl import LOG_COLUMNS
from helioscope.store.records import LogRow

COLUMN_NAMES = tuple(name for name, _, _ in LOG_COLUMNS)
_SESSION = {
    "session_id": "Helicone-Session-Id",
    "session_name": "Helicone-Session-Name",
    "session_path": "Helicone-Session-Path",
}
_TEXT = frozenset(
    name for name, kind, _ in LOG_COLUMNS if "String" in kind and not kind.startswith("Map")
)


def _text(values: list[Any]) -> list[Any]:
    # Text with NUL is cleaned as on SQLite/PostgreSQL (which cannot store it), so the log
    # reads back the same whichever engine keeps it.
    return [_clean(v) if v and "\x00" in v else v for v in values]


def _properties(rows: list[LogRow]) -> list[dict[str, str]]:
    return [_clean(r.properties) if r.properties else {} for r in rows]


def _scores(rows: list[LogRow]) -> list[dict[str, float]]:
    return [{_clean(k): float(v) for k, v in r.scores.items()} for r in rows]


def _prompt_inputs(rows: list[LogRow]) -> list[str | None]:
    return [
        None if r.prompt_inputs is None else orjson.dumps(_clean(r.prompt_inputs)).decode()
        for r in rows
    ]


def _session_name(rows: list[LogRow]) -> list[str | None]:
    # A session without a name is named '' (it groups with itself), as the SQL writer does.
    out: list[str | None] = []
    for r in rows:
        name = r.properties.get("Helicone-Session-Name")
        out.append("" if name is None and r.properties.get("Helicone-Session-Id") else name)
    return out


_DERIVED: dict[str, Callable[[list[LogRow]], list[Any]]] = {
    "properties": _properties,
    "scores": _scores,
    "prompt_inputs": _prompt_inputs,
    "session_name": _session_name,
    "session_id": lambda rows: [r.properties.get(_SESSION["session_id"]) for r in rows],
    "session_path": lambda rows: [r.properties.get(_SESSION["session_path"]) for r in rows],
}


def log_columns(rows: list[LogRow], now: dt.datetime) -> list[list[Any]]:
    """The rows as one list per column of ``COLUMN_NAMES`` (the last of a repeated key wins)."""
    latest = list({(r.organization_id, r.request_id): r for r in rows}.values())
    columns: list[list[Any]] = []
    for name in COLUMN_NAMES:
        if name == "updated_at":
            values: list[Any] = [now] * len(latest)
        elif name in _DERIVED:
            values = _DERIVED[name](latest)
        else:
            values = [getattr(r, name) for r in latest]
        columns.append(_text(values) if name in _TEXT else values)
    return columns


async def insert_log_rows(clickhouse: ClickHouse, rows: list[LogRow]) -> None:
    """Write a batch of log rows as one INSERT (a replayed batch replaces its rows)."""
    if not rows:
        return
    columns = log_columns(rows, dt.datetime.now(dt.UTC))
    await clickhouse.insert("request_response", COLUMN_NAMES, columns)
