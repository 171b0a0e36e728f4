"""Prompts 2025: ``prompts_2025`` and ``prompts_2025_versions``. Functions take a connection.

Numbering (behaviour reference §6.2): the first version is 0.0 ("First version.", in
``production``); a new major is ``max(major) + 1``, minor 0; otherwise ``max(minor within the
base version's major) + 1``. An environment names at most one version of a prompt: setting it
on one version removes it from the others, in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import secrets
import string
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from helioscope.errors import BadRequest, NotFound
from helioscope.store._dialects import SqlDialect
from helioscope.store._prompt_records import Prompt2025, Prompt2025Version
from helioscope.store._schema_prompts import prompts_2025, prompts_2025_versions

PRODUCTION = "production"
_ID_ALPHABET = string.ascii_letters + string.digits
_ID_TRIES = 3
p25 = prompts_2025
v25 = prompts_2025_versions


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _prompt(row: Any) -> Prompt2025:
    return Prompt2025(
        id=row.id,
        organization_id=row.organization_id,
        name=row.name,
        tags=list(row.tags or []),
        production_version=row.production_version,
        created_at=row.created_at,
    )


def _version(row: Any) -> Prompt2025Version:
    return Prompt2025Version(
        id=row.id,
        prompt_id=row.prompt_id,
        organization_id=row.organization_id,
        major_version=row.major_version,
        minor_version=row.minor_version,
        commit_message=row.commit_message,
        model=row.model,
        environments=list(row.environments or []),
        prompt_body=dict(row.prompt_body or {}),
        created_at=row.created_at,
        created_by=row.created_by,
        body_token=row.body_token,
    )


def _live_prompts(org_id: str) -> ColumnElement[bool]:
    return and_(p25.c.organization_id == org_id, ~p25.c.soft_delete)


def _live_versions(org_id: str) -> ColumnElement[bool]:
    return and_(v25.c.organization_id == org_id, ~v25.c.soft_delete)


def _model_of(body: Mapping[str, Any]) -> str:
    model = body.get("model")
    return model if isinstance(model, str) else ""


async def get_prompt(conn: AsyncConnection, org_id: str, prompt_id: str) -> Prompt2025:
    """A live prompt, or ``NotFound``."""
    row = (
        await conn.execute(select(p25).where(_live_prompts(org_id), p25.c.id == prompt_id))
    ).first()
    if row is None:
        raise NotFound(f"prompt {prompt_id} not found")
    return _prompt(row)


async def _new_id(conn: AsyncConnection) -> str:
    # Ids are global (not per organization), as in Helicone: a collision is retried.
    for _ in range(_ID_TRIES):
        candidate = "".join(secrets.choice(_ID_ALPHABET) for _ in range(6))
        taken = (await conn.execute(select(p25.c.id).where(p25.c.id == candidate))).first()
        if taken is None:
            return candidate
    raise BadRequest("could not allocate a prompt id; retry")  # pragma: no cover - 62^6 ids


async def insert_version(
    conn: AsyncConnection,
    prompt: Prompt2025,
    *,
    major: int,
    minor: int,
    body: Mapping[str, Any],
    commit_message: str,
    environments: list[str],
) -> Prompt2025Version:
    """Store a new version of ``prompt`` (numbering is the caller's)."""
    version = Prompt2025Version(
        id=str(uuid.uuid4()),
        prompt_id=prompt.id,
        organization_id=prompt.organization_id,
        major_version=major,
        minor_version=minor,
        commit_message=commit_message,
        model=_model_of(body),
        environments=environments,
        prompt_body=dict(body),
        created_at=_now(),
        body_token=secrets.token_urlsafe(24),
    )
    await conn.execute(
        v25.insert().values(
            id=version.id,
            prompt_id=prompt.id,
            organization_id=prompt.organization_id,
            major_version=major,
            minor_version=minor,
            commit_message=commit_message,
            model=version.model,
            environments=environments,
            prompt_body=version.prompt_body,
            body_token=version.body_token,
            created_at=version.created_at,
        )
    )
    return version


async def create_prompt(
    conn: AsyncConnection, org_id: str, name: str, tags: list[str], body: Mapping[str, Any]
) -> tuple[Prompt2025, Prompt2025Version]:
    """A new prompt whose version 0.0 is in production."""
    prompt = Prompt2025(
        id=await _new_id(conn),
        organization_id=org_id,
        name=name,
        tags=tags,
        production_version=None,
        created_at=_now(),
    )
    await conn.execute(
        p25.insert().values(
            id=prompt.id, organization_id=org_id, name=name, tags=tags, created_at=prompt.created_at
        )
    )
    version = await insert_version(
        conn,
        prompt,
        major=0,
        minor=0,
        body=body,
        commit_message="First version.",
        environments=[PRODUCTION],
    )
    await conn.execute(
        update(p25).where(p25.c.id == prompt.id).values(production_version=version.id)
    )
    prompt.production_version = version.id
    return prompt, version


async def new_version(
    conn: AsyncConnection,
    base: Prompt2025Version,
    *,
    new_major: bool,
    body: Mapping[str, Any],
    commit_message: str,
) -> Prompt2025Version:
    """A new version after ``base``: a new major, or a new minor within base's major."""
    scope = and_(v25.c.organization_id == base.organization_id, v25.c.prompt_id == base.prompt_id)
    if new_major:
        top = (await conn.execute(select(func.max(v25.c.major_version)).where(scope))).scalar()
        major, minor = int(top or 0) + 1, 0
    else:
        top = (
            await conn.execute(
                select(func.max(v25.c.minor_version)).where(
                    scope, v25.c.major_version == base.major_version
                )
            )
        ).scalar()
        major, minor = base.major_version, int(top or 0) + 1
    prompt = await get_prompt(conn, base.organization_id, base.prompt_id)
    return await insert_version(
        conn,
        prompt,
        major=major,
        minor=minor,
        body=body,
        commit_message=commit_message,
        environments=[],
    )


async def get_version(
    conn: AsyncConnection, org_id: str, version_id: str
) -> Prompt2025Version | None:
    """One live version of the organization, or None."""
    row = (
        await conn.execute(select(v25).where(_live_versions(org_id), v25.c.id == version_id))
    ).first()
    return None if row is None else _version(row)


async def must_get_version(
    conn: AsyncConnection, org_id: str, version_id: str, prompt_id: str | None = None
) -> Prompt2025Version:
    """One live version (of ``prompt_id`` when given), or ``NotFound``."""
    version = await get_version(conn, org_id, version_id)
    if version is None or (prompt_id is not None and version.prompt_id != prompt_id):
        raise NotFound(f"prompt version {version_id} not found")
    return version


async def version_by_token(
    conn: AsyncConnection, version_id: str, token: str
) -> Prompt2025Version | None:
    """A live version whose body URL secret is ``token`` (the URL is the credential)."""
    row = (
        await conn.execute(select(v25).where(v25.c.id == version_id, ~v25.c.soft_delete))
    ).first()
    if row is None or not secrets.compare_digest(row.body_token, token):
        return None
    return _version(row)


async def versions(
    conn: AsyncConnection, org_id: str, prompt_id: str, major: int | None = None
) -> list[Prompt2025Version]:
    """A prompt's live versions, newest numbering first (of one major when given)."""
    condition = and_(_live_versions(org_id), v25.c.prompt_id == prompt_id)
    if major is not None:
        condition = and_(condition, v25.c.major_version == major)
    stmt = (
        select(v25)
        .where(condition)
        .order_by(v25.c.major_version.desc(), v25.c.minor_version.desc())
    )
    return [_version(row) for row in (await conn.execute(stmt)).all()]


async def environment_version(
    conn: AsyncConnection, org_id: str, prompt_id: str, environment: str
) -> Prompt2025Version | None:
    """The version of a prompt that carries ``environment``, or None."""
    for version in await versions(conn, org_id, prompt_id):
        if environment in version.environments:
            return version
    return None


async def set_environment(
    conn: AsyncConnection, target: Prompt2025Version, environment: str
) -> None:
    """Put ``environment`` on ``target`` only; ``production`` also moves the prompt's pointer."""
    for version in await versions(conn, target.organization_id, target.prompt_id):
        wanted = version.id == target.id
        has = environment in version.environments
        if wanted == has:
            continue
        envs = (
            [*version.environments, environment]
            if wanted
            else [e for e in version.environments if e != environment]
        )
        await conn.execute(update(v25).where(v25.c.id == version.id).values(environments=envs))
    if environment == PRODUCTION:
        await conn.execute(
            update(p25)
            .where(p25.c.id == target.prompt_id, p25.c.organization_id == target.organization_id)
            .values(production_version=target.id)
        )


async def remove_environment(
    conn: AsyncConnection, target: Prompt2025Version, environment: str
) -> None:
    """Take ``environment`` off a version; production cannot be removed, only moved."""
    if environment == PRODUCTION:
        raise BadRequest(
            "the production environment cannot be removed; set it on another version instead"
        )
    if environment not in target.environments:
        raise BadRequest(f"prompt version {target.id} is not in environment {environment!r}")
    envs = [e for e in target.environments if e != environment]
    await conn.execute(update(v25).where(v25.c.id == target.id).values(environments=envs))


async def query_prompts(
    conn: AsyncConnection, org_id: str, search: str, tags: list[str], page: int, page_size: int
) -> list[Prompt2025]:
    """A page of prompts whose name contains ``search`` and that carry every tag, newest first."""
    d = SqlDialect(conn.dialect.name)
    condition: ColumnElement[bool] = _live_prompts(org_id)
    if search:
        condition = and_(condition, or_(d.contains(p25.c.name, search), p25.c.id == search))
    rows = (
        await conn.execute(select(p25).where(condition).order_by(p25.c.created_at.desc()))
    ).all()
    # Tags are a short JSON array per prompt: matched here rather than with per-engine JSON SQL.
    prompts = [p for p in map(_prompt, rows) if all(tag in p.tags for tag in tags)]
    return prompts[page * page_size : (page + 1) * page_size]


async def count_prompts(conn: AsyncConnection, org_id: str) -> int:
    """How many live prompts the organization has."""
    stmt = select(func.count()).select_from(p25).where(_live_prompts(org_id))
    return int((await conn.execute(stmt)).scalar_one())


async def all_tags(conn: AsyncConnection, org_id: str) -> list[str]:
    """Every tag used by a live prompt, sorted."""
    rows = (await conn.execute(select(p25.c.tags).where(_live_prompts(org_id)))).all()
    return sorted({tag for row in rows for tag in (row.tags or [])})


async def all_environments(conn: AsyncConnection, org_id: str) -> list[str]:
    """Every environment on a live version, sorted (``production`` always included)."""
    rows = (
        await conn.execute(
            select(v25.c.environments)
            .join(p25, p25.c.id == v25.c.prompt_id)
            .where(_live_versions(org_id), ~p25.c.soft_delete)
        )
    ).all()
    return sorted({PRODUCTION} | {env for row in rows for env in (row.environments or [])})


async def update_prompt(conn: AsyncConnection, prompt: Prompt2025, **values: Any) -> None:
    """Change a prompt's name or tags."""
    await conn.execute(
        update(p25)
        .where(p25.c.id == prompt.id, p25.c.organization_id == prompt.organization_id)
        .values(**values)
    )


async def soft_delete_prompt(conn: AsyncConnection, prompt: Prompt2025) -> None:
    """Delete a prompt and its versions."""
    await update_prompt(conn, prompt, soft_delete=True)
    await conn.execute(
        update(v25)
        .where(v25.c.prompt_id == prompt.id, v25.c.organization_id == prompt.organization_id)
        .values(soft_delete=True)
    )


async def soft_delete_version(conn: AsyncConnection, version: Prompt2025Version) -> None:
    """Delete a version that is not in production."""
    if PRODUCTION in version.environments:
        raise BadRequest(
            f"prompt version {version.id} is the production version and cannot be deleted; "
            "set production on another version first"
        )
    await conn.execute(
        update(v25)
        .where(v25.c.id == version.id, v25.c.organization_id == version.organization_id)
        .values(soft_delete=True)
    )
