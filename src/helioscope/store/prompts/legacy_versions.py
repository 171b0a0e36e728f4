"""What callers do with legacy prompt versions: new versions, promotion, labels and inputs.

Run these through ``store.prompts``: its writes clear the gateway's cache of versions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from helioscope.errors import BadRequest, NotFound
from helioscope.store._runner import OrgDb
from helioscope.store.log.prompt_calls import log_inputs
from helioscope.store.prompts import inputs, prompts_2025
from helioscope.store.prompts.legacy_prompts import (
    create_prompt,
    find_by_user_defined_id,
    find_prompt,
    get_version,
    insert_version,
    move_production,
    must_get_version,
    next_number,
    set_metadata,
    set_template,
    soft_delete_version,
    versions,
)
from helioscope.store.records import InputRecord, PromptVersion

_EPOCH = dt.datetime.min.replace(tzinfo=dt.UTC)


async def query_versions(
    db: OrgDb, prompt_id: str, node: Any = "all", include_experiment_versions: bool = True
) -> list[PromptVersion]:
    """A prompt's versions matching a ``prompts_versions`` filter, newest first."""
    await find_prompt(db, prompt_id)
    return await versions(db, prompt_id, node, include_experiment_versions)


async def edit_label(db: OrgDb, version_id: str, label: str) -> dict[str, Any]:
    """Set a version's label; returns its new metadata."""
    version = await must_get_version(db, version_id)
    metadata = {**version.metadata, "label": label}
    await set_metadata(db, version, metadata)
    return metadata


async def edit_template(db: OrgDb, version_id: str, template: Any) -> None:
    """Replace a version's template in place."""
    await set_template(db, await must_get_version(db, version_id), template)


async def create_subversion(
    db: OrgDb,
    parent_id: str,
    template: Any,
    *,
    is_major: bool = False,
    metadata: Mapping[str, Any] | None = None,
    experiment_id: str | None = None,
    bump_for_major_id: str | None = None,
) -> PromptVersion:
    """A new version after ``parent_id``: a new major (max + 1, 0) or a new minor.

    ``bump_for_major_id`` names the version whose major gets the new minor instead of the
    parent's. A stable entry point: experiments create their versions with it.
    """
    parent = await must_get_version(db, parent_id)
    base = parent
    if bump_for_major_id is not None:
        base = await must_get_version(db, bump_for_major_id)
        if base.prompt_id != parent.prompt_id:
            raise BadRequest("bumpForMajorPromptVersionId belongs to another prompt")
    major, minor = await next_number(db, parent.prompt_id, None if is_major else base.major_version)
    return await insert_version(
        db,
        await find_prompt(db, parent.prompt_id),
        major=major,
        minor=minor,
        template=template,
        metadata={k: v for k, v in (metadata or {}).items() if k != "isProduction"},
        parent=parent.id,
        experiment_id=experiment_id,
    )


async def promote(db: OrgDb, version_id: str) -> PromptVersion:
    """Make a version its prompt's production version."""
    version = await must_get_version(db, version_id)
    await move_production(db, version)
    return version


async def delete_version(db: OrgDb, version_id: str) -> None:
    """Delete a version; the production version is a 400."""
    await soft_delete_version(db, await must_get_version(db, version_id))


async def production_version(db: OrgDb, user_defined_id: str, node: Any = "all") -> PromptVersion:
    """The production version of the prompt called ``user_defined_id``.

    Only versions matching ``node`` count; when none of them is in production, the newest.
    """
    prompt = await find_by_user_defined_id(db, user_defined_id)
    if prompt is None:
        raise NotFound(f"prompt {user_defined_id!r} not found")
    found = await versions(db, prompt.id, node)
    if not found:
        raise NotFound(f"prompt {user_defined_id!r} has no version matching the filter")
    return next((v for v in found if v.is_production), found[0])


async def version_inputs(
    db: OrgDb, version_id: str, limit: int, random: bool = False
) -> list[InputRecord]:
    """Inputs of a version: its logged calls' and its stored records', newest first.

    The version may be a legacy or a 2025 one: calls of both carry it on their log rows.
    """
    if await get_version(db, version_id) is None:
        await prompts_2025.must_get_version(db, version_id)
    logged = await log_inputs(db.log, version_id, limit, random)
    kept = await inputs.stored_inputs(db, version_id, limit, random)
    records = logged + kept
    if not random:
        records.sort(key=lambda r: r.created_at or _EPOCH, reverse=True)
    return records[:limit]


async def add_input_record(
    db: OrgDb,
    version_id: str,
    values: Mapping[str, Any],
    auto_prompt_inputs: Sequence[Any] = (),
    source_request: str | None = None,
    experiment_id: str | None = None,
) -> InputRecord:
    """Keep a row of inputs for a version (experiments' rows). A stable entry point."""
    await must_get_version(db, version_id)
    return await inputs.add_input_record(
        db, version_id, values, auto_prompt_inputs, source_request, experiment_id
    )


async def record_call(db: OrgDb, user_defined_id: str, template: Any) -> PromptVersion:
    """The version a gateway call's template belongs to, recorded if it is new.

    The first call creates the prompt (version 0.0, in production); a call whose template
    differs from the latest version's creates a new major version and makes it production,
    unless the prompt was made in the UI (then its production version is used as is).
    """
    prompt = await find_by_user_defined_id(db, user_defined_id)
    if prompt is None:
        created = await create_prompt(db, user_defined_id, template, {"promptFromRequest": True})
        return created[1]
    found = await versions(db, prompt.id, include_experiment_versions=False)
    if prompt.metadata.get("createdFromUi") and found:
        return next((v for v in found if v.is_production), found[0])
    latest = found[0] if found else None
    if latest is not None and latest.helicone_template == template:
        return latest
    major, minor = await next_number(db, prompt.id, None)
    version = await insert_version(
        db, prompt, major=major, minor=minor, template=template, metadata={}
    )
    await move_production(db, version)
    return version
