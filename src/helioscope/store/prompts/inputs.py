"""Input records kept for a prompt version by hand (``prompt_input_record``): experiments' rows.

The inputs of calls made with a prompt are read from the request log (``log.prompt_calls``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select

from helioscope.store._runner import OrgDb
from helioscope.store.records import InputRecord
from helioscope.store.tables.prompts import prompt_input_record as pir


async def stored_inputs(db: OrgDb, version_id: str, limit: int, random: bool) -> list[InputRecord]:
    """Input records kept for a version, newest first (or in random order)."""
    order = func.random() if random else pir.c.created_at.desc()
    stmt = (
        select(pir)
        .where(db.in_org(pir), pir.c.prompt_version == version_id)
        .order_by(order)
        .limit(limit)
    )
    return [
        InputRecord(
            id=row["id"],
            prompt_version=row["prompt_version"],
            inputs=dict(row["inputs"] or {}),
            auto_prompt_inputs=list(row["auto_prompt_inputs"] or []),
            source_request=row["source_request"],
            created_at=row["created_at"],
        )
        for row in await db.rows(stmt)
    ]


async def add_input_record(
    db: OrgDb,
    version_id: str,
    inputs: Mapping[str, Any],
    auto_prompt_inputs: Sequence[Any] = (),
    source_request: str | None = None,
    experiment_id: str | None = None,
) -> InputRecord:
    """Keep a row of inputs for a version (the caller has checked the version exists)."""
    record = InputRecord(
        id=str(uuid.uuid4()),
        prompt_version=version_id,
        inputs=dict(inputs),
        auto_prompt_inputs=list(auto_prompt_inputs),
        source_request=source_request,
        created_at=dt.datetime.now(dt.UTC),
    )
    await db.execute(
        pir.insert().values(
            id=record.id,
            organization_id=db.org_id,
            prompt_version=version_id,
            inputs=record.inputs,
            auto_prompt_inputs=record.auto_prompt_inputs,
            source_request=source_request,
            experiment_id=experiment_id,
            created_at=record.created_at,
        )
    )
    return record
