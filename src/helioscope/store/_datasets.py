"""Datasets: named sets of logged requests (or of experiment input records), scoped by org."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from helioscope.errors import BadRequest, NotFound
from helioscope.store._schema import request_body
from helioscope.store._schema import request_response as rr
from helioscope.store._schema_experiments import (
    experiment_dataset_row,
    experiment_input_record,
    helicone_dataset,
)
from helioscope.store._schema_experiments import helicone_dataset_row as row_t

MAX_DATASET_PAGE = 1000


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def existing_requests(conn: AsyncConnection, org_id: str, ids: Sequence[str]) -> set[str]:
    """Which of ``ids`` are logged requests of the organization."""
    if not ids:
        return set()
    stmt = select(rr.c.request_id).where(
        rr.c.organization_id == org_id, rr.c.request_id.in_(list(set(ids)))
    )
    return set((await conn.execute(stmt)).scalars())


async def live_dataset(conn: AsyncConnection, org_id: str, dataset_id: str) -> Any:
    """The dataset row, or NotFound (deleted datasets are gone)."""
    stmt = select(helicone_dataset).where(
        helicone_dataset.c.organization_id == org_id,
        helicone_dataset.c.id == dataset_id,
        helicone_dataset.c.deleted_at.is_(None),
    )
    found = (await conn.execute(stmt)).first()
    if found is None:
        raise NotFound(f"dataset {dataset_id} not found")
    return found


async def _add_rows(
    conn: AsyncConnection, org_id: str, dataset_id: str, ids: Sequence[str]
) -> None:
    known = await existing_requests(conn, org_id, ids)
    missing = [i for i in ids if i not in known]
    if missing:
        raise NotFound(f"requests not found: {', '.join(missing[:10])}")
    present = set(
        (
            await conn.execute(
                select(row_t.c.origin_request_id).where(
                    row_t.c.dataset_id == dataset_id, row_t.c.origin_request_id.in_(list(known))
                )
            )
        ).scalars()
    )
    new = list(dict.fromkeys(i for i in ids if i not in present))
    if new:
        now = _now()
        await conn.execute(
            row_t.insert(),
            [
                {
                    "id": str(uuid.uuid4()),
                    "organization_id": org_id,
                    "dataset_id": dataset_id,
                    "origin_request_id": request_id,
                    # One microsecond apart: rows list in the order they were given.
                    "created_at": now + dt.timedelta(microseconds=i),
                }
                for i, request_id in enumerate(new)
            ],
        )


class DatasetStore:
    """Dataset reads and writes (``store.datasets``)."""

    def __init__(self, engine: AsyncEngine, writer_engine: AsyncEngine) -> None:
        self._read = engine
        self._write = writer_engine

    async def create(
        self,
        org_id: str,
        name: str,
        request_ids: Sequence[str],
        meta: Any = None,
        dataset_type: str = "helicone",
    ) -> str:
        """A new dataset holding these logged requests (all must exist); returns its id."""
        dataset_id = str(uuid.uuid4())
        async with self._write.begin() as conn:
            await conn.execute(
                helicone_dataset.insert().values(
                    id=dataset_id,
                    organization_id=org_id,
                    name=name,
                    dataset_type=dataset_type,
                    meta=meta,
                    created_at=_now(),
                )
            )
            await _add_rows(conn, org_id, dataset_id, request_ids)
        return dataset_id

    async def mutate(
        self, org_id: str, dataset_id: str, add: Sequence[str], remove: Sequence[str]
    ) -> None:
        """Add and remove logged requests, in one transaction."""
        async with self._write.begin() as conn:
            await live_dataset(conn, org_id, dataset_id)
            if remove:
                await conn.execute(
                    delete(row_t).where(
                        row_t.c.dataset_id == dataset_id,
                        row_t.c.origin_request_id.in_(list(remove)),
                    )
                )
            await _add_rows(conn, org_id, dataset_id, add)

    async def rows(
        self, org_id: str, dataset_id: str, offset: int = 0, limit: int = 100
    ) -> list[dict[str, Any]]:
        """A page of rows, oldest first, with their bodies (edited copies win)."""
        if offset < 0 or not 0 < limit <= MAX_DATASET_PAGE:
            raise BadRequest(f"limit must be 1 to {MAX_DATASET_PAGE} and offset at least 0")
        same = and_(
            request_body.c.organization_id == row_t.c.organization_id,
            request_body.c.request_id == row_t.c.origin_request_id,
        )
        stmt = (
            select(
                row_t.c.id,
                row_t.c.dataset_id,
                row_t.c.origin_request_id,
                row_t.c.created_at,
                func.coalesce(row_t.c.request_body, request_body.c.request_body).label(
                    "request_body"
                ),
                func.coalesce(row_t.c.response_body, request_body.c.response_body).label(
                    "response_body"
                ),
            )
            .select_from(row_t.outerjoin(request_body, same))
            .where(row_t.c.organization_id == org_id, row_t.c.dataset_id == dataset_id)
            .order_by(row_t.c.created_at, row_t.c.id)
            .offset(offset)
            .limit(limit)
        )
        async with self._read.connect() as conn:
            await live_dataset(conn, org_id, dataset_id)
            return [dict(r) for r in (await conn.execute(stmt)).mappings()]

    async def count(self, org_id: str, dataset_id: str) -> int:
        """How many rows the dataset holds."""
        async with self._read.connect() as conn:
            found = await live_dataset(conn, org_id, dataset_id)
            table = experiment_dataset_row if found.dataset_type == "experiment" else row_t
            stmt = select(func.count()).where(table.c.dataset_id == dataset_id)
            return int((await conn.execute(stmt)).scalar_one())

    async def list_datasets(
        self, org_id: str, dataset_ids: Sequence[str] | None = None, dataset_type: str | None = None
    ) -> list[dict[str, Any]]:
        """The organization's live datasets, newest first, with their row counts."""
        counts = (
            select(row_t.c.dataset_id, func.count().label("n"))
            .where(row_t.c.organization_id == org_id)
            .group_by(row_t.c.dataset_id)
            .union_all(
                select(experiment_dataset_row.c.dataset_id, func.count().label("n"))
                .where(experiment_dataset_row.c.organization_id == org_id)
                .group_by(experiment_dataset_row.c.dataset_id)
            )
            .subquery()
        )
        stmt = (
            select(helicone_dataset, func.coalesce(counts.c.n, 0).label("requests_count"))
            .select_from(
                helicone_dataset.outerjoin(counts, counts.c.dataset_id == helicone_dataset.c.id)
            )
            .where(
                helicone_dataset.c.organization_id == org_id,
                helicone_dataset.c.deleted_at.is_(None),
            )
            .order_by(helicone_dataset.c.created_at.desc())
        )
        if dataset_ids is not None:
            stmt = stmt.where(helicone_dataset.c.id.in_(list(dataset_ids)))
        if dataset_type is not None:
            stmt = stmt.where(helicone_dataset.c.dataset_type == dataset_type)
        async with self._read.connect() as conn:
            return [dict(r) for r in (await conn.execute(stmt)).mappings()]

    async def edit_row(
        self, org_id: str, dataset_id: str, request_id: str, request: str, response: str
    ) -> None:
        """Keep edited copies of a row's bodies (the logged request is left untouched)."""
        async with self._write.begin() as conn:
            await live_dataset(conn, org_id, dataset_id)
            result = await conn.execute(
                update(row_t)
                .where(
                    row_t.c.organization_id == org_id,
                    row_t.c.dataset_id == dataset_id,
                    row_t.c.origin_request_id == request_id,
                )
                .values(request_body=request, response_body=response)
            )
            if result.rowcount == 0:
                raise NotFound(f"request {request_id} is not in dataset {dataset_id}")

    async def delete(self, org_id: str, dataset_id: str) -> None:
        """Soft-delete a dataset (as Helicone does: ``deleted_at``)."""
        async with self._write.begin() as conn:
            await live_dataset(conn, org_id, dataset_id)
            await conn.execute(
                update(helicone_dataset)
                .where(helicone_dataset.c.id == dataset_id)
                .values(deleted_at=_now())
            )

    async def add_input_records(
        self, org_id: str, dataset_id: str, records: Sequence[dict[str, Any]]
    ) -> list[str]:
        """Put input records (new ones, or existing ones by ``id``) into an experiment dataset."""
        now = _now()
        async with self._write.begin() as conn:
            await live_dataset(conn, org_id, dataset_id)
            ids = []
            for i, record in enumerate(records):
                at = now + dt.timedelta(microseconds=i)  # rows list in the order given
                record_id = record.get("id") or str(uuid.uuid4())
                owner = (
                    await conn.execute(
                        select(experiment_input_record.c.organization_id).where(
                            experiment_input_record.c.id == record_id
                        )
                    )
                ).scalar()
                if owner not in (None, org_id):
                    raise BadRequest(f"inputRecordId {record_id} is already taken")
                if owner is None:
                    await conn.execute(
                        experiment_input_record.insert().values(
                            id=record_id,
                            organization_id=org_id,
                            prompt_version_id=record.get("prompt_version_id"),
                            inputs=record.get("inputs") or {},
                            auto_prompt_inputs=record.get("auto_prompt_inputs") or [],
                            source_request=record.get("source_request"),
                            created_at=at,
                        )
                    )
                await conn.execute(
                    experiment_dataset_row.insert().values(
                        id=str(uuid.uuid4()),
                        organization_id=org_id,
                        dataset_id=dataset_id,
                        input_record_id=record_id,
                        created_at=at,
                    )
                )
                ids.append(record_id)
            return ids

    async def input_records(self, org_id: str, dataset_id: str) -> list[dict[str, Any]]:
        """An experiment dataset's input records, with their source request's bodies."""
        rec = experiment_input_record
        same = and_(
            request_body.c.organization_id == rec.c.organization_id,
            request_body.c.request_id == rec.c.source_request,
        )
        stmt = (
            select(
                rec,
                experiment_dataset_row.c.id.label("dataset_row_id"),
                request_body.c.request_body,
                request_body.c.response_body,
            )
            .select_from(
                experiment_dataset_row.join(
                    rec, rec.c.id == experiment_dataset_row.c.input_record_id
                ).outerjoin(request_body, same)
            )
            .where(
                experiment_dataset_row.c.organization_id == org_id,
                experiment_dataset_row.c.dataset_id == dataset_id,
            )
            .order_by(experiment_dataset_row.c.created_at, experiment_dataset_row.c.id)
        )
        async with self._read.connect() as conn:
            await live_dataset(conn, org_id, dataset_id)
            return [dict(r) for r in (await conn.execute(stmt)).mappings()]

    async def remove_sources(
        self, org_id: str, dataset_id: str, request_ids: Sequence[str]
    ) -> None:
        """Take out of an experiment dataset the rows made from these requests."""
        rec = experiment_input_record
        async with self._write.begin() as conn:
            await live_dataset(conn, org_id, dataset_id)
            made_from = select(rec.c.id).where(
                rec.c.organization_id == org_id, rec.c.source_request.in_(list(request_ids))
            )
            await conn.execute(
                delete(experiment_dataset_row).where(
                    experiment_dataset_row.c.dataset_id == dataset_id,
                    experiment_dataset_row.c.input_record_id.in_(made_from),
                )
            )
