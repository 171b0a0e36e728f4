"""Prompts copied in from another Helicone-compatible server, under their source ids.

Imported log rows name prompts and versions by id (``prompt_id``, ``prompt_version``), so the
objects keep the ids they had at their source, and importing twice updates rather than
duplicates. An id that already belongs to another organization here is left alone: the put
answers False and the importer counts it as skipped.

Run these through ``store.prompts``: its writes clear the gateway's cache of versions, which
must forget a version an import replaced.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, select, update

from helioscope.store._runner import OrgDb
from helioscope.store._source_ids import claim
from helioscope.store.records import LegacyPrompt, Prompt2025, Prompt2025Version, PromptVersion
from helioscope.store.tables.prompts import prompt_v2, prompts_2025, prompts_2025_versions
from helioscope.store.tables.prompts import prompts_versions as legacy_versions


async def _put(
    db: OrgDb,
    table: Table,
    object_id: str,
    values: dict[str, Any],
    new_only: dict[str, Any] | None = None,
) -> bool:
    """Insert ``object_id`` (with ``new_only`` too) or update it; False if another org owns it."""
    owned = await claim(db, table, object_id)
    if owned is False:
        return False
    if owned is None:
        row = {"id": object_id, "organization_id": db.org_id, **values, **(new_only or {})}
        await db.execute(table.insert().values(**row))
    else:
        stmt = update(table).where(db.in_org(table), table.c.id == object_id)
        await db.execute(stmt.values(**values))
    return True


async def _put_2025_version(db: OrgDb, version: Prompt2025Version) -> None:
    values = {
        "prompt_id": version.prompt_id,
        "major_version": version.major_version,
        "minor_version": version.minor_version,
        "commit_message": version.commit_message,
        "created_by": version.created_by,
        "model": version.model,
        "environments": version.environments,
        "prompt_body": version.prompt_body,
        "created_at": version.created_at,
    }
    # A new version gets its own secret for its body URL; an updated one keeps its own.
    token = {"body_token": secrets.token_urlsafe(24)}
    await _put(db, prompts_2025_versions, version.id, values, token)


async def put_prompt_2025(
    db: OrgDb, prompt: Prompt2025, versions: Sequence[Prompt2025Version]
) -> bool:
    """Create or update a 2025 prompt and its versions under their source ids."""
    values = {
        "name": prompt.name,
        "tags": prompt.tags,
        "production_version": prompt.production_version,
        "soft_delete": False,
        "created_at": prompt.created_at,
    }
    if not await _put(db, prompts_2025, prompt.id, values):
        return False
    for version in versions:
        await _put_2025_version(db, version)
    return True


async def put_legacy_prompt(
    db: OrgDb, prompt: LegacyPrompt, versions: Sequence[PromptVersion]
) -> bool:
    """Create or update a legacy prompt and its versions under their source ids.

    One live prompt per ``user_defined_id``: a local prompt of that name under another id (one
    a gateway call recorded before the import) wins, and the source's is skipped.
    """
    same_name = select(prompt_v2.c.id).where(
        db.in_org(prompt_v2),
        prompt_v2.c.user_defined_id == prompt.user_defined_id,
        ~prompt_v2.c.soft_delete,
        prompt_v2.c.id != prompt.id,
    )
    if await db.scalar(same_name) is not None:
        return False
    values = {
        "user_defined_id": prompt.user_defined_id,
        "description": prompt.description,
        "pretty_name": prompt.pretty_name,
        "metadata": prompt.metadata,
        "soft_delete": False,
        "created_at": prompt.created_at,
    }
    if not await _put(db, prompt_v2, prompt.id, values):
        return False
    for version in versions:
        await _put(db, legacy_versions, version.id, _legacy_version_values(version))
    return True


def _legacy_version_values(version: PromptVersion) -> dict[str, Any]:
    return {
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
