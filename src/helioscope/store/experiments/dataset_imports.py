"""Datasets copied in from another Helicone-compatible server, under their source ids.

A dataset keeps the id it had at its source, so that importing twice updates it rather than
making a second one; its rows are keyed by (dataset, request). An id that already belongs to
another organization here is left alone.
"""

from __future__ import annotations

from collections.abc import Sequence

from helioscope.store._runner import OrgDb
from helioscope.store._source_ids import claim
from helioscope.store.log.requests import existing_ids
from helioscope.store.records import ImportedDataset, ImportedDatasetRow
from helioscope.store.tables.experiments import helicone_dataset
from helioscope.store.tables.experiments import helicone_dataset_row as row_t


async def _put_rows(db: OrgDb, dataset_id: str, rows: Sequence[ImportedDatasetRow]) -> int:
    known = await existing_ids(db.log, [r.origin_request_id for r in rows])
    values = [
        {
            "id": row.id,
            "organization_id": db.org_id,
            "dataset_id": dataset_id,
            "origin_request_id": row.origin_request_id,
            "request_body": row.request_body,
            "response_body": row.response_body,
            "created_at": row.created_at,
        }
        for row in rows
        if row.origin_request_id in known
    ]
    if values:
        # Keyed by (dataset, request): a row already here takes the source's id and bodies.
        await db.execute(db.dialect.upsert(row_t, ("dataset_id", "origin_request_id")), values)
    return len(values)


async def put_dataset(
    db: OrgDb, dataset: ImportedDataset, rows: Sequence[ImportedDatasetRow]
) -> int | None:
    """Create or update a dataset and its rows; how many rows it holds from this import.

    Rows whose request is not in the local log are left out. None when the dataset's id
    belongs to another organization here.
    """
    if await claim(db, helicone_dataset, dataset.id) is False:
        return None
    values = {
        "id": dataset.id,
        "organization_id": db.org_id,
        "name": dataset.name,
        "dataset_type": dataset.dataset_type,
        "meta": dataset.meta,
        "created_at": dataset.created_at,
        "deleted_at": None,
    }
    await db.execute(db.dialect.upsert(helicone_dataset, ("id",)), [values])
    return await _put_rows(db, dataset.id, rows)
