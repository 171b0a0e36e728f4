"""The request log's write path on SQLite/PostgreSQL: a batch of rows in one transaction.

This is the one query code that reaches ``db.conn`` (the driver's executemany on tuples): the
writer's hot path. Another engine keeping the log has a write path of its own.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import operator
from collections.abc import Callable
from typing import Any, TypeVar, cast

import orjson

from helioscope.store._dialects import JsonText
from helioscope.store._runner import Db
from helioscope.store.log import _session_summary as session_summary
from helioscope.store.records import LogRow
from helioscope.store.tables.log import request_body, request_response

_KEY = ("organization_id", "request_id")
_T = TypeVar("_T")
_U = TypeVar("_U")


_BODIES = ("request_body", "response_body")
_FIELDS = tuple(f.name for f in dataclasses.fields(LogRow) if f.name not in _BODIES)


def _clean(value: Any) -> Any:
    # PostgreSQL text and JSONB cannot hold NUL; a log record must not be refused for one.
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _json_document(value: Any) -> JsonText | None:
    """``value`` serialised once, for the store (a NUL escape cleaned out first)."""
    if value is None:
        return None
    text = orjson.dumps(value)
    if b"\\u0000" in text:
        text = orjson.dumps(_clean(value))
    return JsonText(text.decode())


_JSON_FIELDS = ("properties", "scores", "prompt_inputs")
_TEXT_FIELDS = tuple(
    f.name
    for f in dataclasses.fields(LogRow)
    if f.name in _FIELDS and f.name not in _JSON_FIELDS and "str" in str(f.type)
)


_get_fields = operator.attrgetter(*_FIELDS)
_get_texts = operator.attrgetter(*_TEXT_FIELDS)


def _row_dict(row: LogRow, now: dt.datetime) -> dict[str, Any]:
    values = dict(zip(_FIELDS, _get_fields(row), strict=True))
    # NUL is rare: look for it in all the text fields at once with one C-speed scan (a loop
    # over the ~16 fields cost ~1.5 µs a row), and clean only the fields that contain one.
    if "\x00" in "".join(filter(None, _get_texts(row))):
        for name in _TEXT_FIELDS:
            text = values[name]
            if text and "\x00" in text:
                values[name] = _clean(text)
    for name in _JSON_FIELDS:
        doc = values[name]
        if doc:
            values[name] = _json_document(doc)
    values["updated_at"] = now
    properties = row.properties
    values["session_id"] = properties.get("Helicone-Session-Id")
    # A session without a name has name '' (so it groups with itself on both engines).
    session_name = properties.get("Helicone-Session-Name")
    values["session_name"] = "" if session_name is None and values["session_id"] else session_name
    values["session_path"] = properties.get("Helicone-Session-Path")
    return values


def by_org(keys: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Keys grouped by organization.

    An ``org = ? AND id IN (…)`` lookup uses the index on both engines; a row-value
    ``(org, id) IN (…)`` list does not on SQLite, which then scans the table.
    """
    grouped: dict[str, list[str]] = {}
    for org, key in keys:
        grouped.setdefault(org, []).append(key)
    return grouped


# Keys looked up per statement: a few fixed sizes, the last part padded (by repeating a key),
# so that the driver sees a handful of statements (PostgreSQL prepares each one once).
_LOOKUP_SIZES = (16, 128, 500)


async def _existing_sessions(
    db: Db, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], str | None]:
    """For the rows of this batch already in the log: their current session id.

    Run on the driver's plain parameters, as the upsert is, scoped to each organization by
    the statement (``organization_id = ?``, the first parameter).
    """
    found: dict[tuple[str, str], str | None] = {}
    returned = ("request_id", "session_id")
    for org, ids in by_org(keys).items():
        for start in range(0, len(ids), _LOOKUP_SIZES[-1]):
            part = ids[start : start + _LOOKUP_SIZES[-1]]
            size = next(size for size in _LOOKUP_SIZES if size >= len(part))
            sql = db.dialect.keys_in_org(request_response, "request_id", returned, size)
            params = (org, *part, *[part[-1]] * (size - len(part)))
            result = await db.conn.exec_driver_sql(sql, params)
            for request_id, session_id in cast("list[tuple[str, str | None]]", result.all()):
                found[(org, request_id)] = session_id
    return found


_SLICE = 100


async def _in_slices(items: list[_T], convert: Callable[[list[_T]], list[_U]]) -> list[_U]:
    """``convert(items)``, a slice at a time, letting the event loop run between slices.

    The store shares its event loop with the gateway: a batch of 2,000 rows converted in one
    go would hold every call in flight for ~20 ms.
    """
    if len(items) <= _SLICE:
        return convert(items)
    out: list[_U] = []
    for start in range(0, len(items), _SLICE):
        out.extend(convert(items[start : start + _SLICE]))
        await asyncio.sleep(0)
    return out


async def insert_log_rows(db: Db, rows: list[LogRow]) -> None:
    """Insert (or replace, by organization and request id) a batch of rows.

    Everything happens in ``db``'s transaction, so a caller can commit more with the rows (the
    journal's position) or nothing at all.
    """
    if not rows:
        return
    now = dt.datetime.now(dt.UTC)
    # One statement per distinct key: a multi-row upsert may not touch the same key twice.
    latest: dict[tuple[str, str], LogRow] = {}
    for row in rows:
        latest[(row.organization_id, row.request_id)] = row
    replaced = await _existing_sessions(db, list(latest))
    values = await _in_slices(list(latest.values()), lambda part: [_row_dict(r, now) for r in part])
    rows_upsert = db.dialect.bulk_upsert(request_response, _KEY)
    await db.conn.exec_driver_sql(rows_upsert.sql, await _in_slices(values, rows_upsert.rows))
    # Session totals: new rows are added in; a row that replaced another (a replay, a reused
    # Helicone-Request-Id) has its old and new sessions recomputed from the log.
    await session_summary.add_new_rows(
        db, (v for v in values if (v["organization_id"], v["request_id"]) not in replaced)
    )
    stale = {(org, sid) for (org, _), sid in replaced.items() if sid is not None}
    stale |= {
        (v["organization_id"], v["session_id"])
        for v in values
        if (v["organization_id"], v["request_id"]) in replaced and v["session_id"] is not None
    }
    if stale:
        await session_summary.refresh(db, stale)
    bodies = [
        {
            "organization_id": row.organization_id,
            "request_id": row.request_id,
            "request_body": _clean(row.request_body),
            "response_body": _clean(row.response_body),
        }
        for row in latest.values()
        if row.request_body is not None or row.response_body is not None
    ]
    if bodies:
        bodies_upsert = db.dialect.bulk_upsert(request_body, _KEY)
        await db.conn.exec_driver_sql(bodies_upsert.sql, bodies_upsert.rows(bodies))
