"""The request log: batch inserts from the writer, single-row reads for the API."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from helioscope.store._dialects import upsert
from helioscope.store._schema import request_response
from helioscope.store.records import LogRow

_KEY = ("organization_id", "request_id")


def _row_dict(row: LogRow, now: dt.datetime) -> dict[str, Any]:
    values = {f.name: getattr(row, f.name) for f in dataclasses.fields(row)}
    values["updated_at"] = now
    return values


async def insert_log_rows(conn: AsyncConnection, rows: list[LogRow]) -> None:
    """Insert (or replace, by organization and request id) a batch of rows."""
    if not rows:
        return
    now = dt.datetime.now(dt.UTC)
    # One statement per distinct key: a multi-row upsert may not touch the same key twice.
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        latest[(row.organization_id, row.request_id)] = _row_dict(row, now)
    await conn.execute(upsert(request_response, conn.dialect.name, _KEY), list(latest.values()))


async def get_request(conn: AsyncConnection, org_id: str, request_id: str) -> dict[str, Any] | None:
    """One logged request of ``org_id`` as a column → value mapping, or None."""
    stmt = select(request_response).where(
        request_response.c.organization_id == org_id,
        request_response.c.request_id == request_id,
    )
    row = (await conn.execute(stmt)).mappings().first()
    return dict(row) if row is not None else None
