"""Inputs of calls made with a prompt, read from the request log, plus hand-made input records.

The gateway writes ``prompt_id``, ``prompt_version`` and ``prompt_inputs`` on each call's log
row, so the inputs queries read the log itself: nothing is written twice per call.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from helioscope.store._prompt_records import InputRecord
from helioscope.store._schema import request_body
from helioscope.store._schema import request_response as rr
from helioscope.store._schema_prompts import prompt_input_record

pir = prompt_input_record


async def log_inputs(
    conn: AsyncConnection, org_id: str, version_id: str, limit: int, random: bool
) -> list[InputRecord]:
    """The inputs of logged calls made with a version, newest first (or in random order)."""
    order = func.random() if random else rr.c.request_created_at.desc()
    stmt = (
        select(
            rr.c.request_id,
            rr.c.prompt_inputs,
            rr.c.request_created_at,
            request_body.c.request_body,
            request_body.c.response_body,
        )
        .outerjoin(
            request_body,
            and_(
                request_body.c.organization_id == rr.c.organization_id,
                request_body.c.request_id == rr.c.request_id,
            ),
        )
        .where(
            rr.c.organization_id == org_id,
            rr.c.prompt_version == version_id,
            rr.c.prompt_inputs.is_not(None),
        )
        .order_by(order)
        .limit(limit)
    )
    return [
        InputRecord(
            id=row.request_id,
            prompt_version=version_id,
            inputs=dict(row.prompt_inputs or {}),
            source_request=row.request_id,
            created_at=row.request_created_at,
            request_body=row.request_body,
            response_body=row.response_body,
        )
        for row in (await conn.execute(stmt)).all()
    ]


async def stored_inputs(
    conn: AsyncConnection, org_id: str, version_id: str, limit: int, random: bool
) -> list[InputRecord]:
    """Input records kept in ``prompt_input_record`` for a version."""
    order = func.random() if random else pir.c.created_at.desc()
    stmt = (
        select(pir)
        .where(pir.c.organization_id == org_id, pir.c.prompt_version == version_id)
        .order_by(order)
        .limit(limit)
    )
    return [
        InputRecord(
            id=row.id,
            prompt_version=row.prompt_version,
            inputs=dict(row.inputs or {}),
            auto_prompt_inputs=list(row.auto_prompt_inputs or []),
            source_request=row.source_request,
            created_at=row.created_at,
        )
        for row in (await conn.execute(stmt)).all()
    ]


async def add_input_record(
    conn: AsyncConnection,
    org_id: str,
    version_id: str,
    inputs: Mapping[str, Any],
    auto_prompt_inputs: Sequence[Any] = (),
    source_request: str | None = None,
    experiment_id: str | None = None,
) -> InputRecord:
    """Keep a row of inputs for a version (experiments' rows, inputs added by hand)."""
    record = InputRecord(
        id=str(uuid.uuid4()),
        prompt_version=version_id,
        inputs=dict(inputs),
        auto_prompt_inputs=list(auto_prompt_inputs),
        source_request=source_request,
        created_at=dt.datetime.now(dt.UTC),
    )
    await conn.execute(
        pir.insert().values(
            id=record.id,
            organization_id=org_id,
            prompt_version=version_id,
            inputs=record.inputs,
            auto_prompt_inputs=record.auto_prompt_inputs,
            source_request=source_request,
            experiment_id=experiment_id,
            created_at=record.created_at,
        )
    )
    return record


async def call_inputs(
    conn: AsyncConnection, org_id: str, prompt_id: str, version_id: str, request_id: str
) -> dict[str, Any] | None:
    """The inputs one logged call gave a prompt version, or None."""
    row = (
        await conn.execute(
            select(rr.c.prompt_inputs).where(
                rr.c.organization_id == org_id,
                rr.c.request_id == request_id,
                rr.c.prompt_id == prompt_id,
                rr.c.prompt_version == version_id,
            )
        )
    ).first()
    if row is None or row.prompt_inputs is None:
        return None
    return dict(row.prompt_inputs)


async def last_used(conn: AsyncConnection, org_id: str, prompt_key: str) -> dt.datetime | None:
    """When a call last carried this prompt id."""
    stmt = select(func.max(rr.c.request_created_at)).where(
        rr.c.organization_id == org_id, rr.c.prompt_id == prompt_key
    )
    value: dt.datetime | None = (await conn.execute(stmt)).scalar()
    return value
