"""Legacy prompts: ``prompt_v2`` and ``prompts_versions``. Functions take a connection.

Numbering (behaviour reference §6.1): a major bump gives ``(max major + 1, 0)``; a minor one
``(parent major, max minor within that major + 1)``. Exactly one live version of a prompt has
``metadata.isProduction``; it cannot be deleted. Every query is scoped to the organization.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from helioscope.errors import BadRequest, NotFound
from helioscope.store._dialects import SqlDialect
from helioscope.store._prompt_records import LegacyPrompt, PromptVersion
from helioscope.store._schema_prompts import prompt_v2, prompts_versions
from helioscope.store.filters import compile_filter, where_or_true
from helioscope.store.filters._fields import Field, column, nullable_text
from helioscope.store.filters._values import Kind

pv = prompts_versions

PROMPT_FILTERS: dict[str, dict[str, Field]] = {
    "prompt_v2": {
        "id": Field(Kind.TEXT, column(prompt_v2.c.id)),
        "user_defined_id": Field(Kind.TEXT, column(prompt_v2.c.user_defined_id)),
        "pretty_name": nullable_text(prompt_v2.c.pretty_name),
    }
}
VERSION_FILTERS: dict[str, dict[str, Field]] = {
    "prompts_versions": {
        "id": Field(Kind.TEXT, column(pv.c.id)),
        "prompt_v2": Field(Kind.TEXT, column(pv.c.prompt_v2)),
        "major_version": Field(Kind.NUMBER, column(pv.c.major_version)),
        "minor_version": Field(Kind.NUMBER, column(pv.c.minor_version)),
    }
}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _prompt(row: Any) -> LegacyPrompt:
    return LegacyPrompt(
        id=row.id,
        organization_id=row.organization_id,
        user_defined_id=row.user_defined_id,
        description=row.description,
        pretty_name=row.pretty_name,
        metadata=dict(row.metadata or {}),
        created_at=row.created_at,
    )


def _version(row: Any) -> PromptVersion:
    return PromptVersion(
        id=row.id,
        prompt_id=row.prompt_v2,
        organization_id=row.organization_id,
        major_version=row.major_version,
        minor_version=row.minor_version,
        model=row.model,
        helicone_template=row.helicone_template,
        metadata=dict(row.metadata or {}),
        created_at=row.created_at,
        updated_at=row.updated_at,
        parent_prompt_version=row.parent_prompt_version,
        experiment_id=row.experiment_id,
    )


def _live_prompts(org_id: str) -> ColumnElement[bool]:
    return and_(prompt_v2.c.organization_id == org_id, ~prompt_v2.c.soft_delete)


def _live_versions(org_id: str) -> ColumnElement[bool]:
    return and_(pv.c.organization_id == org_id, ~pv.c.soft_delete)


def _model_of(template: Any) -> str:
    model = template.get("model") if isinstance(template, dict) else None
    return model if isinstance(model, str) else ""


async def find_prompt(conn: AsyncConnection, org_id: str, prompt_id: str) -> LegacyPrompt:
    """A live prompt by its id, or ``NotFound``."""
    row = (
        await conn.execute(
            select(prompt_v2).where(_live_prompts(org_id), prompt_v2.c.id == prompt_id)
        )
    ).first()
    if row is None:
        raise NotFound(f"prompt {prompt_id} not found")
    return _prompt(row)


async def find_by_user_defined_id(
    conn: AsyncConnection, org_id: str, user_defined_id: str
) -> LegacyPrompt | None:
    """The live prompt called ``user_defined_id`` (its Helicone-Prompt-Id), or None."""
    row = (
        await conn.execute(
            select(prompt_v2)
            .where(_live_prompts(org_id), prompt_v2.c.user_defined_id == user_defined_id)
            .order_by(prompt_v2.c.created_at)
            .limit(1)
        )
    ).first()
    return None if row is None else _prompt(row)


async def insert_version(
    conn: AsyncConnection,
    prompt: LegacyPrompt,
    *,
    major: int,
    minor: int,
    template: Any,
    metadata: Mapping[str, Any],
    parent: str | None = None,
    experiment_id: str | None = None,
) -> PromptVersion:
    """Store a new version of ``prompt`` (numbering is the caller's)."""
    now = _now()
    version = PromptVersion(
        id=str(uuid.uuid4()),
        prompt_id=prompt.id,
        organization_id=prompt.organization_id,
        major_version=major,
        minor_version=minor,
        model=_model_of(template),
        helicone_template=template,
        metadata=dict(metadata),
        created_at=now,
        updated_at=now,
        parent_prompt_version=parent,
        experiment_id=experiment_id,
    )
    await conn.execute(
        pv.insert().values(
            id=version.id,
            organization_id=version.organization_id,
            prompt_v2=version.prompt_id,
            major_version=major,
            minor_version=minor,
            helicone_template=template,
            model=version.model,
            metadata=version.metadata,
            experiment_id=experiment_id,
            parent_prompt_version=parent,
            created_at=now,
            updated_at=now,
        )
    )
    return version


async def create_prompt(
    conn: AsyncConnection,
    org_id: str,
    user_defined_id: str,
    template: Any,
    metadata: Mapping[str, Any],
) -> tuple[LegacyPrompt, PromptVersion]:
    """A new prompt with version 0.0 in production; a live prompt of that name is a 400."""
    if await find_by_user_defined_id(conn, org_id, user_defined_id) is not None:
        raise BadRequest(f"a prompt with userDefinedId {user_defined_id!r} already exists")
    prompt = LegacyPrompt(
        id=str(uuid.uuid4()),
        organization_id=org_id,
        user_defined_id=user_defined_id,
        description=None,
        pretty_name=None,
        metadata=dict(metadata),
        created_at=_now(),
    )
    await conn.execute(
        prompt_v2.insert().values(
            id=prompt.id,
            organization_id=org_id,
            user_defined_id=user_defined_id,
            metadata=prompt.metadata,
            created_at=prompt.created_at,
        )
    )
    version = await insert_version(
        conn, prompt, major=0, minor=0, template=template, metadata={"isProduction": True}
    )
    return prompt, version


async def query_prompts(conn: AsyncConnection, org_id: str, node: Any) -> list[dict[str, Any]]:
    """Live prompts matching a ``prompt_v2`` filter, newest first, with their top major."""
    d = SqlDialect(conn.dialect.name)
    major = (
        select(pv.c.prompt_v2, func.max(pv.c.major_version).label("major_version"))
        .where(_live_versions(org_id))
        .group_by(pv.c.prompt_v2)
        .subquery()
    )
    stmt = (
        select(prompt_v2, func.coalesce(major.c.major_version, 0).label("major_version"))
        .outerjoin(major, major.c.prompt_v2 == prompt_v2.c.id)
        .where(_live_prompts(org_id), where_or_true(compile_filter(node, d, tables=PROMPT_FILTERS)))
        .order_by(prompt_v2.c.created_at.desc())
    )
    return [
        {"prompt": _prompt(row), "major_version": int(row.major_version)}
        for row in (await conn.execute(stmt)).all()
    ]


async def versions(
    conn: AsyncConnection,
    org_id: str,
    prompt_id: str | None,
    node: Any = "all",
    include_experiment_versions: bool = True,
) -> list[PromptVersion]:
    """Live versions (of one prompt, or all), newest numbering first."""
    d = SqlDialect(conn.dialect.name)
    condition = and_(
        _live_versions(org_id), where_or_true(compile_filter(node, d, tables=VERSION_FILTERS))
    )
    if prompt_id is not None:
        condition = and_(condition, pv.c.prompt_v2 == prompt_id)
    if not include_experiment_versions:
        condition = and_(condition, pv.c.experiment_id.is_(None))
    stmt = (
        select(pv).where(condition).order_by(pv.c.major_version.desc(), pv.c.minor_version.desc())
    )
    return [_version(row) for row in (await conn.execute(stmt)).all()]


async def get_version(conn: AsyncConnection, org_id: str, version_id: str) -> PromptVersion | None:
    """One live version of the organization, or None."""
    row = (
        await conn.execute(select(pv).where(_live_versions(org_id), pv.c.id == version_id))
    ).first()
    return None if row is None else _version(row)


async def must_get_version(conn: AsyncConnection, org_id: str, version_id: str) -> PromptVersion:
    """One live version, or ``NotFound``."""
    version = await get_version(conn, org_id, version_id)
    if version is None:
        raise NotFound(f"prompt version {version_id} not found")
    return version


async def set_metadata(
    conn: AsyncConnection, version: PromptVersion, metadata: Mapping[str, Any]
) -> None:
    """Replace a version's metadata."""
    await conn.execute(
        update(pv)
        .where(pv.c.id == version.id, pv.c.organization_id == version.organization_id)
        .values(metadata=dict(metadata), updated_at=_now())
    )


async def set_template(conn: AsyncConnection, version: PromptVersion, template: Any) -> None:
    """Replace a version's template in place (and its model, read from the template)."""
    await conn.execute(
        update(pv)
        .where(pv.c.id == version.id, pv.c.organization_id == version.organization_id)
        .values(helicone_template=template, model=_model_of(template), updated_at=_now())
    )


async def next_number(
    conn: AsyncConnection, org_id: str, prompt_id: str, major: int | None
) -> tuple[int, int]:
    """The next ``(major, minor)``: a new major when ``major`` is None, else a new minor."""
    scope = and_(pv.c.organization_id == org_id, pv.c.prompt_v2 == prompt_id)
    if major is None:
        top = (await conn.execute(select(func.max(pv.c.major_version)).where(scope))).scalar()
        return (-1 if top is None else int(top)) + 1, 0
    top = (
        await conn.execute(
            select(func.max(pv.c.minor_version)).where(scope, pv.c.major_version == major)
        )
    ).scalar()
    return major, (-1 if top is None else int(top)) + 1


async def move_production(conn: AsyncConnection, target: PromptVersion) -> None:
    """Make ``target`` its prompt's only production version."""
    for version in await versions(conn, target.organization_id, target.prompt_id):
        if version.id != target.id and version.is_production:
            meta = {k: v for k, v in version.metadata.items() if k != "isProduction"}
            await set_metadata(conn, version, meta)
    await set_metadata(conn, target, {**target.metadata, "isProduction": True})
    target.metadata = {**target.metadata, "isProduction": True}


async def soft_delete_version(conn: AsyncConnection, version: PromptVersion) -> None:
    """Delete a version that is not in production."""
    if version.is_production:
        raise BadRequest(
            f"prompt version {version.id} is the production version and cannot be deleted; "
            "promote another version first"
        )
    await conn.execute(
        update(pv)
        .where(pv.c.id == version.id, pv.c.organization_id == version.organization_id)
        .values(soft_delete=True, updated_at=_now())
    )


async def soft_delete_prompt(conn: AsyncConnection, prompt: LegacyPrompt) -> None:
    """Delete a prompt and all its versions."""
    org = prompt.organization_id
    await conn.execute(
        update(prompt_v2)
        .where(prompt_v2.c.id == prompt.id, prompt_v2.c.organization_id == org)
        .values(soft_delete=True)
    )
    await conn.execute(
        update(pv)
        .where(pv.c.prompt_v2 == prompt.id, pv.c.organization_id == org)
        .values(soft_delete=True, updated_at=_now())
    )


async def set_user_defined_id(conn: AsyncConnection, prompt: LegacyPrompt, new_id: str) -> None:
    """Rename a prompt's Helicone-Prompt-Id; another live prompt of that name is a 400."""
    existing = await find_by_user_defined_id(conn, prompt.organization_id, new_id)
    if existing is not None and existing.id != prompt.id:
        raise BadRequest(f"a prompt with userDefinedId {new_id!r} already exists")
    await conn.execute(
        update(prompt_v2)
        .where(prompt_v2.c.id == prompt.id, prompt_v2.c.organization_id == prompt.organization_id)
        .values(user_defined_id=new_id)
    )
