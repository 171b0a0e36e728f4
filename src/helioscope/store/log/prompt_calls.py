"""Calls made with a prompt, as the request log records them.

The gateway writes ``prompt_id``, ``prompt_version`` and ``prompt_inputs`` on each call's log
row, so the inputs queries read the log itself: nothing is written twice per call. Input records
made by hand (experiments' rows) live with the prompts (``store.prompts.inputs``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, func, select

from helioscope.store._runner import OrgDb
from helioscope.store.records import InputRecord
from helioscope.store.tables.log import request_body
from helioscope.store.tables.log import request_response as rr


async def log_inputs(db: OrgDb, version_id: str, limit: int, random: bool) -> list[InputRecord]:
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
        .where(db.in_org(rr), rr.c.prompt_version == version_id, rr.c.prompt_inputs.is_not(None))
        .order_by(order)
        .limit(limit)
    )
    return [
        InputRecord(
            id=row["request_id"],
            prompt_version=version_id,
            inputs=dict(row["prompt_inputs"] or {}),
            source_request=row["request_id"],
            created_at=row["request_created_at"],
            request_body=row["request_body"],
            response_body=row["response_body"],
        )
        for row in await db.rows(stmt)
    ]


async def call_inputs(
    db: OrgDb, prompt_id: str, version_id: str, request_id: str
) -> dict[str, Any] | None:
    """The inputs one logged call gave a prompt version, or None."""
    inputs = await db.scalar(
        select(rr.c.prompt_inputs).where(
            db.in_org(rr),
            rr.c.request_id == request_id,
            rr.c.prompt_id == prompt_id,
            rr.c.prompt_version == version_id,
        )
    )
    return None if inputs is None else dict(inputs)


async def last_used(db: OrgDb, prompt_key: str) -> dt.datetime | None:
    """When a call last carried this prompt id (a legacy prompt's ``Helicone-Prompt-Id``)."""
    stmt = select(func.max(rr.c.request_created_at)).where(
        db.in_org(rr), rr.c.prompt_id == prompt_key
    )
    when: dt.datetime | None = await db.scalar(stmt)
    return when
