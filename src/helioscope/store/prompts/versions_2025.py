"""What callers do with 2025 prompt versions: new versions, environments, deletion, lookups.

An environment names at most one version of a prompt: setting it on one version removes it from
the others, in the same transaction. Run these through ``store.prompts``: its writes clear the
gateway's cache of versions.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from sqlalchemy import and_, func, select, update

from helioscope.errors import BadRequest, NotFound
from helioscope.store._runner import Db, OrgDb
from helioscope.store.prompts.prompts_2025 import (
    PRODUCTION,
    get_prompt,
    insert_version,
    live_versions,
    must_get_version,
    p25,
    v25,
    version_record,
)
from helioscope.store.records import Prompt2025Version


async def _versions(db: OrgDb, prompt_id: str, major: int | None = None) -> list[Prompt2025Version]:
    condition = and_(live_versions(db), v25.c.prompt_id == prompt_id)
    if major is not None:
        condition = and_(condition, v25.c.major_version == major)
    stmt = (
        select(v25)
        .where(condition)
        .order_by(v25.c.major_version.desc(), v25.c.minor_version.desc())
    )
    return [version_record(row) for row in await db.rows(stmt)]


async def versions(db: OrgDb, prompt_id: str, major: int | None = None) -> list[Prompt2025Version]:
    """A prompt's live versions, newest numbering first (of one major when given)."""
    await get_prompt(db, prompt_id)
    return await _versions(db, prompt_id, major)


async def environment_version(db: OrgDb, prompt_id: str, environment: str) -> Prompt2025Version:
    """The version of a prompt carrying ``environment``, or ``NotFound``."""
    await get_prompt(db, prompt_id)
    for version in await _versions(db, prompt_id):
        if environment in version.environments:
            return version
    raise NotFound(f"prompt {prompt_id} has no version in environment {environment!r}")


async def version_by_token(db: Db, version_id: str, token: str) -> Prompt2025Version:
    """The live version whose body URL carries ``token``, or ``NotFound``.

    Any organization's: the URL is the credential (Helicone's presigned S3 URL).
    """
    row = await db.row(select(v25).where(v25.c.id == version_id, ~v25.c.soft_delete))
    if row is None or not secrets.compare_digest(row["body_token"], token):
        raise NotFound(f"prompt version {version_id} not found")
    return version_record(row)


async def _put_environment(db: OrgDb, target: Prompt2025Version, environment: str) -> None:
    """Put ``environment`` on ``target`` only; ``production`` also moves the prompt's pointer."""
    for version in await _versions(db, target.prompt_id):
        wanted = version.id == target.id
        if wanted == (environment in version.environments):
            continue
        envs = (
            [*version.environments, environment]
            if wanted
            else [e for e in version.environments if e != environment]
        )
        await db.execute(update(v25).where(v25.c.id == version.id).values(environments=envs))
    if environment == PRODUCTION:
        await db.execute(
            update(p25)
            .where(db.in_org(p25), p25.c.id == target.prompt_id)
            .values(production_version=target.id)
        )


async def new_version(
    db: OrgDb,
    prompt_id: str,
    base_version_id: str,
    *,
    new_major: bool,
    commit_message: str,
    body: Mapping[str, Any],
    environment: str | None = None,
) -> Prompt2025Version:
    """A new version after ``base_version_id``, optionally put in ``environment``.

    A new major is ``max(major) + 1``, minor 0; otherwise a new minor within the base's major.
    """
    prompt = await get_prompt(db, prompt_id)
    base = await must_get_version(db, base_version_id, prompt_id)
    scope = and_(db.in_org(v25), v25.c.prompt_id == prompt_id)
    if new_major:
        top = await db.scalar(select(func.max(v25.c.major_version)).where(scope))
        major, minor = int(top or 0) + 1, 0
    else:
        top = await db.scalar(
            select(func.max(v25.c.minor_version)).where(
                scope, v25.c.major_version == base.major_version
            )
        )
        major, minor = base.major_version, int(top or 0) + 1
    version = await insert_version(
        db,
        prompt,
        major=major,
        minor=minor,
        body=body,
        commit_message=commit_message,
        environments=[],
    )
    if environment:
        await _put_environment(db, version, environment)
        version.environments = [environment]
    return version


async def set_environment(db: OrgDb, prompt_id: str, version_id: str, environment: str) -> None:
    """Move ``environment`` to one version (``production`` promotes it)."""
    await get_prompt(db, prompt_id)
    await _put_environment(db, await must_get_version(db, version_id, prompt_id), environment)


async def remove_environment(db: OrgDb, prompt_id: str, version_id: str, environment: str) -> None:
    """Take ``environment`` off a version; production cannot be removed, only moved."""
    target = await must_get_version(db, version_id, prompt_id)
    if environment == PRODUCTION:
        raise BadRequest(
            "the production environment cannot be removed; set it on another version instead"
        )
    if environment not in target.environments:
        raise BadRequest(f"prompt version {target.id} is not in environment {environment!r}")
    envs = [e for e in target.environments if e != environment]
    await db.execute(update(v25).where(v25.c.id == target.id).values(environments=envs))


async def delete_version(db: OrgDb, prompt_id: str, version_id: str) -> None:
    """Delete a version; the production version is a 400."""
    version = await must_get_version(db, version_id, prompt_id)
    if PRODUCTION in version.environments:
        raise BadRequest(
            f"prompt version {version.id} is the production version and cannot be deleted; "
            "set production on another version first"
        )
    await db.execute(
        update(v25).where(db.in_org(v25), v25.c.id == version.id).values(soft_delete=True)
    )
