"""Prompts 2025: ``prompts_2025`` and their versions' rows (``prompts_2025_versions``).

Numbering (behaviour reference §6.2): the first version is 0.0 ("First version.", in
``production``); a new major is ``max(major) + 1``, minor 0; otherwise ``max(minor within the
base version's major) + 1``. What callers do with versions (new versions, environments) is in
``versions_2025``.

Run these through ``store.prompts``: its writes clear the gateway's cache of versions.
"""

from __future__ import annotations

import datetime as dt
import secrets
import string
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update

from helioscope.errors import BadRequest, NotFound
from helioscope.store._runner import OrgDb
from helioscope.store.records import Prompt2025, Prompt2025Version
from helioscope.store.tables.prompts import prompts_2025, prompts_2025_versions

PRODUCTION = "production"
_ID_ALPHABET = string.ascii_letters + string.digits
_ID_TRIES = 3
p25 = prompts_2025
v25 = prompts_2025_versions


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _prompt(row: Mapping[str, Any]) -> Prompt2025:
    return Prompt2025(
        id=row["id"],
        organization_id=row["organization_id"],
        name=row["name"],
        tags=list(row["tags"] or []),
        production_version=row["production_version"],
        created_at=row["created_at"],
    )


def version_record(row: Mapping[str, Any]) -> Prompt2025Version:
    """A ``prompts_2025_versions`` row as a record."""
    return Prompt2025Version(
        id=row["id"],
        prompt_id=row["prompt_id"],
        organization_id=row["organization_id"],
        major_version=row["major_version"],
        minor_version=row["minor_version"],
        commit_message=row["commit_message"],
        model=row["model"],
        environments=list(row["environments"] or []),
        prompt_body=dict(row["prompt_body"] or {}),
        created_at=row["created_at"],
        created_by=row["created_by"],
        body_token=row["body_token"],
    )


def _live_prompts(db: OrgDb) -> ColumnElement[bool]:
    return and_(db.in_org(p25), ~p25.c.soft_delete)


def live_versions(db: OrgDb) -> ColumnElement[bool]:
    """The organization's versions that are not deleted."""
    return and_(db.in_org(v25), ~v25.c.soft_delete)


def _model_of(body: Mapping[str, Any]) -> str:
    model = body.get("model")
    return model if isinstance(model, str) else ""


async def get_prompt(db: OrgDb, prompt_id: str) -> Prompt2025:
    """A live prompt, or ``NotFound``."""
    row = await db.row(select(p25).where(_live_prompts(db), p25.c.id == prompt_id))
    if row is None:
        raise NotFound(f"prompt {prompt_id} not found")
    return _prompt(row)


async def _new_id(db: OrgDb) -> str:
    # Ids are global (not per organization), as in Helicone: a collision is retried.
    for _ in range(_ID_TRIES):
        candidate = "".join(secrets.choice(_ID_ALPHABET) for _ in range(6))
        if await db.row(select(p25.c.id).where(p25.c.id == candidate)) is None:
            return candidate
    raise BadRequest("could not allocate a prompt id; retry")  # pragma: no cover - 62^6 ids


async def insert_version(
    db: OrgDb,
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
        organization_id=db.org_id,
        major_version=major,
        minor_version=minor,
        commit_message=commit_message,
        model=_model_of(body),
        environments=environments,
        prompt_body=dict(body),
        created_at=_now(),
        body_token=secrets.token_urlsafe(24),
    )
    await db.execute(
        v25.insert().values(
            id=version.id,
            prompt_id=prompt.id,
            organization_id=db.org_id,
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
    db: OrgDb, name: str, tags: list[str], body: Mapping[str, Any]
) -> tuple[Prompt2025, Prompt2025Version]:
    """A new prompt whose first version (0.0) is in production."""
    prompt = Prompt2025(
        id=await _new_id(db),
        organization_id=db.org_id,
        name=name,
        tags=tags,
        production_version=None,
        created_at=_now(),
    )
    await db.execute(
        p25.insert().values(
            id=prompt.id,
            organization_id=db.org_id,
            name=name,
            tags=tags,
            created_at=prompt.created_at,
        )
    )
    version = await insert_version(
        db,
        prompt,
        major=0,
        minor=0,
        body=body,
        commit_message="First version.",
        environments=[PRODUCTION],
    )
    await db.execute(update(p25).where(p25.c.id == prompt.id).values(production_version=version.id))
    prompt.production_version = version.id
    return prompt, version


async def get_version(db: OrgDb, version_id: str) -> Prompt2025Version | None:
    """One live 2025 prompt version of the organization by id, or None.

    The record has the prompt id, numbering, model and body. A stable entry point.
    """
    row = await db.row(select(v25).where(live_versions(db), v25.c.id == version_id))
    return None if row is None else version_record(row)


async def must_get_version(
    db: OrgDb, version_id: str, prompt_id: str | None = None
) -> Prompt2025Version:
    """Like ``get_version`` (of ``prompt_id`` when given), but ``NotFound`` instead of None."""
    version = await get_version(db, version_id)
    if version is None or (prompt_id is not None and version.prompt_id != prompt_id):
        raise NotFound(f"prompt version {version_id} not found")
    return version


async def query_prompts(
    db: OrgDb, search: str, tags: list[str], page: int, page_size: int
) -> list[Prompt2025]:
    """A page of prompts whose name contains ``search`` and that carry every tag, newest first."""
    condition: ColumnElement[bool] = _live_prompts(db)
    if search:
        condition = and_(
            condition, or_(db.dialect.contains(p25.c.name, search), p25.c.id == search)
        )
    rows = await db.rows(select(p25).where(condition).order_by(p25.c.created_at.desc()))
    # Tags are a short JSON array per prompt: matched here rather than with per-engine JSON SQL.
    prompts = [p for p in map(_prompt, rows) if all(tag in p.tags for tag in tags)]
    return prompts[page * page_size : (page + 1) * page_size]


async def count_prompts(db: OrgDb) -> int:
    """How many live prompts the organization has."""
    return int(await db.scalar(select(func.count()).select_from(p25).where(_live_prompts(db))))


async def all_tags(db: OrgDb) -> list[str]:
    """Every tag used by a live prompt, sorted."""
    rows = await db.scalars(select(p25.c.tags).where(_live_prompts(db)))
    return sorted({tag for tags in rows for tag in (tags or [])})


async def all_environments(db: OrgDb) -> list[str]:
    """Every environment on a live version, sorted (``production`` always included)."""
    rows = await db.scalars(
        select(v25.c.environments)
        .join(p25, p25.c.id == v25.c.prompt_id)
        .where(live_versions(db), ~p25.c.soft_delete)
    )
    return sorted({PRODUCTION} | {env for envs in rows for env in (envs or [])})


async def _update_prompt(db: OrgDb, prompt_id: str, **values: Any) -> None:
    prompt = await get_prompt(db, prompt_id)
    await db.execute(update(p25).where(db.in_org(p25), p25.c.id == prompt.id).values(**values))


async def rename(db: OrgDb, prompt_id: str, name: str) -> None:
    """Rename a prompt."""
    await _update_prompt(db, prompt_id, name=name)


async def set_tags(db: OrgDb, prompt_id: str, tags: list[str]) -> list[str]:
    """Replace a prompt's tags (duplicates dropped, order kept)."""
    tags = list(dict.fromkeys(tags))
    await _update_prompt(db, prompt_id, tags=tags)
    return tags


async def delete_prompt(db: OrgDb, prompt_id: str) -> None:
    """Delete a prompt and its versions."""
    await _update_prompt(db, prompt_id, soft_delete=True)
    await db.execute(
        update(v25).where(db.in_org(v25), v25.c.prompt_id == prompt_id).values(soft_delete=True)
    )
