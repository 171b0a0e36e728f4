"""``store.imports``: prompts and datasets copied in from another Helicone-compatible server.

Each object keeps the id it had at its source, so that imported log rows (whose ``prompt_id``
and ``prompt_version`` name them) still point at them, and so that importing twice updates
rather than duplicates. An id that already belongs to another organization here is left alone:
the put answers False and the importer counts it as skipped.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from helioscope.store._datasets import existing_requests
from helioscope.store._dialects import upsert
from helioscope.store._prompt_records import (
    LegacyPrompt,
    Prompt2025,
    Prompt2025Version,
    PromptVersion,
)
from helioscope.store._schema_experiments import helicone_dataset
from helioscope.store._schema_experiments import helicone_dataset_row as row_t
from helioscope.store._schema_prompts import prompt_v2, prompts_2025, prompts_2025_versions
from helioscope.store._schema_prompts import prompts_versions as legacy_versions


@dataclass(frozen=True, slots=True)
class ImportedDataset:
    """A dataset as its source lists it."""

    id: str
    name: str | None
    dataset_type: str
    meta: Any
    created_at: Any  # dt.datetime


@dataclass(frozen=True, slots=True)
class ImportedDatasetRow:
    """One row of a dataset: a logged request, with edited bodies when the source has them."""

    id: str
    origin_request_id: str
    created_at: Any  # dt.datetime
    request_body: str | None = None
    response_body: str | None = None


async def _owner(conn: AsyncConnection, table: Table, object_id: str) -> str | None:
    stmt = select(table.c.organization_id).where(table.c.id == object_id)
    return (await conn.execute(stmt)).scalar_one_or_none()


async def _claim(conn: AsyncConnection, table: Table, object_id: str, org_id: str) -> bool | None:
    """None when the id is free, True when ``org_id`` owns it, False when another org does."""
    owner = await _owner(conn, table, object_id)
    return None if owner is None else owner == org_id


async def _put_2025_version(conn: AsyncConnection, version: Prompt2025Version) -> None:
    values = {
        "prompt_id": version.prompt_id,
        "organization_id": version.organization_id,
        "major_version": version.major_version,
        "minor_version": version.minor_version,
        "commit_message": version.commit_message,
        "created_by": version.created_by,
        "model": version.model,
        "environments": version.environments,
        "prompt_body": version.prompt_body,
        "created_at": version.created_at,
    }
    table = prompts_2025_versions
    claim = await _claim(conn, table, version.id, version.organization_id)
    if claim is None:  # a new version gets its own secret for its body URL
        body_token = secrets.token_urlsafe(24)
        await conn.execute(table.insert().values(id=version.id, body_token=body_token, **values))
    elif claim:
        await conn.execute(update(table).where(table.c.id == version.id).values(**values))


async def _put_legacy_prompt_row(conn: AsyncConnection, prompt: LegacyPrompt) -> bool:
    # One live prompt per user_defined_id: a local prompt of that name under another id (one a
    # gateway call recorded before the import) wins, and the source's is skipped.
    stmt = select(prompt_v2.c.id).where(
        prompt_v2.c.organization_id == prompt.organization_id,
        prompt_v2.c.user_defined_id == prompt.user_defined_id,
        prompt_v2.c.soft_delete.is_(False),
        prompt_v2.c.id != prompt.id,
    )
    if (await conn.execute(stmt)).first() is not None:
        return False
    if await _claim(conn, prompt_v2, prompt.id, prompt.organization_id) is False:
        return False
    await conn.execute(
        upsert(prompt_v2, conn.dialect.name, ("id",)),
        [
            {
                "id": prompt.id,
                "organization_id": prompt.organization_id,
                "user_defined_id": prompt.user_defined_id,
                "description": prompt.description,
                "pretty_name": prompt.pretty_name,
                "metadata": prompt.metadata,
                "soft_delete": False,
                "created_at": prompt.created_at,
            }
        ],
    )
    return True


async def _put_legacy_versions(
    conn: AsyncConnection, org_id: str, versions: Sequence[PromptVersion]
) -> None:
    for version in versions:
        if await _claim(conn, legacy_versions, version.id, org_id) is False:
            continue
        await conn.execute(
            upsert(legacy_versions, conn.dialect.name, ("id",)),
            [
                {
                    "id": version.id,
                    "organization_id": org_id,
                    "prompt_v2": version.prompt_id,
                    "major_version": version.major_version,
                    "minor_version": version.minor_version,
                    "helicone_template": version.helicone_template,
                    "model": version.model,
                    "metadata": version.metadata,
                    "experiment_id": version.experiment_id,
                    "parent_prompt_version": version.parent_prompt_version,
                    "soft_delete": False,
                    "created_at": version.created_at,
                    "updated_at": version.updated_at,
                }
            ],
        )


async def _put_dataset_rows(
    conn: AsyncConnection, org_id: str, dataset_id: str, rows: Sequence[ImportedDatasetRow]
) -> int:
    known = await existing_requests(conn, org_id, [r.origin_request_id for r in rows])
    values = [
        {
            "id": row.id,
            "organization_id": org_id,
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
        # Keyed by (dataset, request): a row already here keeps its id and takes the bodies.
        stmt = upsert(row_t, conn.dialect.name, ("dataset_id", "origin_request_id"))
        await conn.execute(stmt, values)
    return len(values)


class ImportStore:
    """Idempotent writes of imported prompts and datasets (``store.imports``)."""

    def __init__(
        self, writer_engine: AsyncEngine, prompts_changed: Callable[[], None] | None = None
    ) -> None:
        self._write = writer_engine
        # The prompt store's caches must forget versions an import replaced.
        self._prompts_changed = prompts_changed or (lambda: None)

    async def put_prompt_2025(
        self, prompt: Prompt2025, versions: Sequence[Prompt2025Version]
    ) -> bool:
        """Create or update a 2025 prompt and its versions under their source ids."""
        values = {
            "organization_id": prompt.organization_id,
            "name": prompt.name,
            "tags": prompt.tags,
            "production_version": prompt.production_version,
            "soft_delete": False,
            "created_at": prompt.created_at,
        }
        async with self._write.begin() as conn:
            claim = await _claim(conn, prompts_2025, prompt.id, prompt.organization_id)
            if claim is False:
                return False
            if claim is None:
                await conn.execute(prompts_2025.insert().values(id=prompt.id, **values))
            else:
                await conn.execute(
                    update(prompts_2025).where(prompts_2025.c.id == prompt.id).values(**values)
                )
            for version in versions:
                await _put_2025_version(conn, version)
        self._prompts_changed()
        return True

    async def put_legacy_prompt(
        self, prompt: LegacyPrompt, versions: Sequence[PromptVersion]
    ) -> bool:
        """Create or update a legacy prompt and its versions under their source ids."""
        async with self._write.begin() as conn:
            if not await _put_legacy_prompt_row(conn, prompt):
                return False
            await _put_legacy_versions(conn, prompt.organization_id, versions)
        self._prompts_changed()
        return True

    async def put_dataset(
        self, org_id: str, dataset: ImportedDataset, rows: Sequence[ImportedDatasetRow]
    ) -> int | None:
        """Create or update a dataset and its rows; how many rows it holds from this import.

        Rows whose request is not in the local log are left out. None when the dataset's id
        belongs to another organization here.
        """
        async with self._write.begin() as conn:
            if await _claim(conn, helicone_dataset, dataset.id, org_id) is False:
                return None
            await conn.execute(
                upsert(helicone_dataset, conn.dialect.name, ("id",)),
                [
                    {
                        "id": dataset.id,
                        "organization_id": org_id,
                        "name": dataset.name,
                        "dataset_type": dataset.dataset_type,
                        "meta": dataset.meta,
                        "created_at": dataset.created_at,
                        "deleted_at": None,
                    }
                ],
            )
            return await _put_dataset_rows(conn, org_id, dataset.id, rows)
