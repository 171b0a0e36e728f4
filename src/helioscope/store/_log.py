"""The request log: batch inserts from the writer, single-row reads for the API."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from helioscope.store._dialects import upsert
from helioscope.store._schema import request_body, request_response
from helioscope.store.records import LogRow

_KEY = ("organization_id", "request_id")


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


def _row_dict(row: LogRow, now: dt.datetime) -> dict[str, Any]:
    values = {name: _clean(getattr(row, name)) for name in _FIELDS}
    values["updated_at"] = now
    properties = values["properties"]
    values["session_id"] = properties.get("Helicone-Session-Id")
    values["session_name"] = properties.get("Helicone-Session-Name")
    values["session_path"] = properties.get("Helicone-Session-Path")
    return values


async def insert_log_rows(conn: AsyncConnection, rows: list[LogRow]) -> None:
    """Insert (or replace, by organization and request id) a batch of rows."""
    if not rows:
        return
    now = dt.datetime.now(dt.UTC)
    # One statement per distinct key: a multi-row upsert may not touch the same key twice.
    latest: dict[tuple[str, str], LogRow] = {}
    for row in rows:
        latest[(row.organization_id, row.request_id)] = row
    await conn.execute(
        upsert(request_response, conn.dialect.name, _KEY),
        [_row_dict(row, now) for row in latest.values()],
    )
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
        await conn.execute(upsert(request_body, conn.dialect.name, _KEY), bodies)
