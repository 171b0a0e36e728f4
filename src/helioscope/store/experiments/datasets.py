"""Datasets: named sets of logged requests (or of experiment input records).

A dataset's rows name logged requests; their bodies are read from the log (``db.log``) by id,
never joined, so the log can live in another engine.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select, update

from helioscope.errors import BadRequest, NotFound
from helioscope.store._runner import OrgDb
from helioscope.store.log.requests import bodies, existing_ids
from helioscope.store.tables.experiments import (
    experiment_dataset_row,
    experiment_input_record,
    helicone_dataset,
)
from helioscope.store.tables.experiments import helicone_dataset_row as row_t

MAX_DATASET_PAGE = 1000
_NO_BODIES = (None, None)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def live_dataset(db: OrgDb, dataset_id: str) -> dict[str, Any]:
    """The dataset row, or NotFound (deleted datasets are gone)."""
    found = await db.row(
        select(helicone_dataset).where(
            db.in_org(helicone_dataset),
            helicone_dataset.c.id == dataset_id,
            helicone_dataset.c.deleted_at.is_(None),
        )
    )
    if found is None:
        raise NotFound(f"dataset {dataset_id} not found")
    return found


async def _add_rows(db: OrgDb, dataset_id: str, ids: Sequence[str]) -> None:
    known = await existing_ids(db.log, ids)
    missing = [i for i in ids if i not in known]
    if missing:
        raise NotFound(f"requests not found: {', '.join(missing[:10])}")
    present = set(
        await db.scalars(
            select(row_t.c.origin_request_id).where(
                row_t.c.dataset_id == dataset_id, row_t.c.origin_request_id.in_(list(known))
            )
        )
    )
    new = list(dict.fromkeys(i for i in ids if i not in present))
    if new:
        now = _now()
        await db.execute(
            row_t.insert(),
            [
                {
                    "id": str(uuid.uuid4()),
                    "organization_id": db.org_id,
                    "dataset_id": dataset_id,
                    "origin_request_id": request_id,
                    # One microsecond apart: rows list in the order they were given.
                    "created_at": now + dt.timedelta(microseconds=i),
                }
                for i, request_id in enumerate(new)
            ],
        )


async def create_dataset(
    db: OrgDb,
    name: str,
    request_ids: Sequence[str],
    meta: Any = None,
    dataset_type: str = "helicone",
) -> str:
    """A new dataset holding these logged requests (all must exist); returns its id."""
    dataset_id = str(uuid.uuid4())
    await db.execute(
        helicone_dataset.insert().values(
            id=dataset_id,
            organization_id=db.org_id,
            name=name,
            dataset_type=dataset_type,
            meta=meta,
            created_at=_now(),
        )
    )
    await _add_rows(db, dataset_id, request_ids)
    return dataset_id


def _rows_named(ids: Sequence[str]) -> ColumnElement[bool]:
    """The rows named by these ids: a row's own id, or a logged request's id.

    Helicone's UI and API name a row to remove or edit by the ``id`` that ``/query`` returned;
    a logged request's id names every row made from that request.
    """
    return or_(row_t.c.id.in_(list(ids)), row_t.c.origin_request_id.in_(list(ids)))


async def mutate(db: OrgDb, dataset_id: str, add: Sequence[str], remove: Sequence[str]) -> None:
    """Add logged requests and remove rows (by row id or request id), in one transaction."""
    await live_dataset(db, dataset_id)
    if remove:
        await db.execute(delete(row_t).where(row_t.c.dataset_id == dataset_id, _rows_named(remove)))
    await _add_rows(db, dataset_id, add)


async def dataset_rows(
    db: OrgDb, dataset_id: str, offset: int = 0, limit: int = 100
) -> list[dict[str, Any]]:
    """A page of rows, oldest first, with their bodies (edited copies win)."""
    if offset < 0 or not 0 < limit <= MAX_DATASET_PAGE:
        raise BadRequest(f"limit must be 1 to {MAX_DATASET_PAGE} and offset at least 0")
    await live_dataset(db, dataset_id)
    stmt = (
        select(row_t)
        .where(db.in_org(row_t), row_t.c.dataset_id == dataset_id)
        .order_by(row_t.c.created_at, row_t.c.id)
        .offset(offset)
        .limit(limit)
    )
    rows = await db.rows(stmt)
    logged = await bodies(db.log, [row["origin_request_id"] for row in rows])
    out = []
    for row in rows:
        request, response = logged.get(row["origin_request_id"], _NO_BODIES)
        edited_request, edited_response = row["request_body"], row["response_body"]
        out.append(
            {
                "id": row["id"],
                "dataset_id": row["dataset_id"],
                "origin_request_id": row["origin_request_id"],
                "created_at": row["created_at"],
                "request_body": request if edited_request is None else edited_request,
                "response_body": response if edited_response is None else edited_response,
            }
        )
    return out


async def count(db: OrgDb, dataset_id: str) -> int:
    """How many rows the dataset holds."""
    found = await live_dataset(db, dataset_id)
    table = experiment_dataset_row if found["dataset_type"] == "experiment" else row_t
    return int(await db.scalar(select(func.count()).where(table.c.dataset_id == dataset_id)))


async def list_datasets(
    db: OrgDb, dataset_ids: Sequence[str] | None = None, dataset_type: str | None = None
) -> list[dict[str, Any]]:
    """The organization's live datasets, newest first, with their row counts."""
    counts = (
        select(row_t.c.dataset_id, func.count().label("n"))
        .where(db.in_org(row_t))
        .group_by(row_t.c.dataset_id)
        .union_all(
            select(experiment_dataset_row.c.dataset_id, func.count().label("n"))
            .where(db.in_org(experiment_dataset_row))
            .group_by(experiment_dataset_row.c.dataset_id)
        )
        .subquery()
    )
    stmt = (
        select(helicone_dataset, func.coalesce(counts.c.n, 0).label("requests_count"))
        .select_from(
            helicone_dataset.outerjoin(counts, counts.c.dataset_id == helicone_dataset.c.id)
        )
        .where(db.in_org(helicone_dataset), helicone_dataset.c.deleted_at.is_(None))
        .order_by(helicone_dataset.c.created_at.desc())
    )
    if dataset_ids is not None:
        stmt = stmt.where(helicone_dataset.c.id.in_(list(dataset_ids)))
    if dataset_type is not None:
        stmt = stmt.where(helicone_dataset.c.dataset_type == dataset_type)
    return await db.rows(stmt)


async def edit_row(
    db: OrgDb, dataset_id: str, request_id: str, request: str, response: str
) -> None:
    """Keep edited copies of a row's bodies (the logged request is left untouched).

    The row is named by its own id or its logged request's id.
    """
    await live_dataset(db, dataset_id)
    changed = await db.execute(
        update(row_t)
        .where(db.in_org(row_t), row_t.c.dataset_id == dataset_id, _rows_named([request_id]))
        .values(request_body=request, response_body=response)
    )
    if changed == 0:
        raise NotFound(f"request {request_id} is not in dataset {dataset_id}")


async def delete_dataset(db: OrgDb, dataset_id: str) -> None:
    """Soft-delete a dataset (as Helicone does: ``deleted_at``)."""
    await live_dataset(db, dataset_id)
    await db.execute(
        update(helicone_dataset)
        .where(helicone_dataset.c.id == dataset_id)
        .values(deleted_at=_now())
    )


async def _record_owner(db: OrgDb, record_id: str) -> str | None:
    rec = experiment_input_record
    owner: str | None = await db.scalar(select(rec.c.organization_id).where(rec.c.id == record_id))
    return owner


async def add_input_records(
    db: OrgDb, dataset_id: str, records: Sequence[dict[str, Any]]
) -> list[str]:
    """Put input records (new ones, or existing ones by ``id``) into an experiment dataset."""
    now = _now()
    await live_dataset(db, dataset_id)
    ids = []
    for i, record in enumerate(records):
        at = now + dt.timedelta(microseconds=i)  # rows list in the order given
        record_id = record.get("id") or str(uuid.uuid4())
        owner = await _record_owner(db, record_id)
        if owner not in (None, db.org_id):
            raise BadRequest(f"inputRecordId {record_id} is already taken")
        if owner is None:
            await db.execute(
                experiment_input_record.insert().values(
                    id=record_id,
                    organization_id=db.org_id,
                    prompt_version_id=record.get("prompt_version_id"),
                    inputs=record.get("inputs") or {},
                    auto_prompt_inputs=record.get("auto_prompt_inputs") or [],
                    source_request=record.get("source_request"),
                    created_at=at,
                )
            )
        await db.execute(
            experiment_dataset_row.insert().values(
                id=str(uuid.uuid4()),
                organization_id=db.org_id,
                dataset_id=dataset_id,
                input_record_id=record_id,
                created_at=at,
            )
        )
        ids.append(record_id)
    return ids


async def input_records(db: OrgDb, dataset_id: str) -> list[dict[str, Any]]:
    """An experiment dataset's input records, with their source request's bodies."""
    rec, edr = experiment_input_record, experiment_dataset_row
    await live_dataset(db, dataset_id)
    stmt = (
        select(rec, edr.c.id.label("dataset_row_id"))
        .select_from(edr.join(rec, rec.c.id == edr.c.input_record_id))
        .where(db.in_org(edr), edr.c.dataset_id == dataset_id)
        .order_by(edr.c.created_at, edr.c.id)
    )
    rows = await db.rows(stmt)
    sources = [row["source_request"] for row in rows if row["source_request"] is not None]
    logged = await bodies(db.log, sources)
    for row in rows:
        request, response = logged.get(row["source_request"], _NO_BODIES)
        row["request_body"], row["response_body"] = request, response
    return rows


async def remove_sources(db: OrgDb, dataset_id: str, request_ids: Sequence[str]) -> None:
    """Take out of an experiment dataset the rows made from these requests."""
    rec = experiment_input_record
    await live_dataset(db, dataset_id)
    made_from = select(rec.c.id).where(db.in_org(rec), rec.c.source_request.in_(list(request_ids)))
    await db.execute(
        delete(experiment_dataset_row).where(
            experiment_dataset_row.c.dataset_id == dataset_id,
            experiment_dataset_row.c.input_record_id.in_(made_from),
        )
    )
