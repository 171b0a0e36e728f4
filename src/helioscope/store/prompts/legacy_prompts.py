"""Legacy prompts: ``prompt_v2`` and their versions' rows (``prompts_versions``).

Numbering (behaviour reference §6.1): a major bump gives ``(max major + 1, 0)``; a minor one
``(parent major, max minor within that major + 1)``. Exactly one live version of a prompt has
``metadata.isProduction``; it cannot be deleted. What callers do with versions (new versions,
promotion, labels, inputs) is in ``legacy_versions``.

Run these through ``store.prompts``: its writes clear the gateway's cache of versions.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.exc import IntegrityError

from helioscope.errors import BadRequest, NotFound
from helioscope.store._runner import OrgDb
from helioscope.store.filters import compile_filter, where_or_true
from helioscope.store.filters._fields import Field, column, nullable_text
from helioscope.store.filters._values import Kind
from helioscope.store.log.prompt_calls import last_used
from helioscope.store.records import LegacyPrompt, PromptVersion
from helioscope.store.tables.prompts import prompt_v2, prompts_versions

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


def _prompt(row: Mapping[str, Any]) -> LegacyPrompt:
    return LegacyPrompt(
        id=row["id"],
        organization_id=row["organization_id"],
        user_defined_id=row["user_defined_id"],
        description=row["description"],
        pretty_name=row["pretty_name"],
        metadata=dict(row["metadata"] or {}),
        created_at=row["created_at"],
    )


def _version(row: Mapping[str, Any]) -> PromptVersion:
    return PromptVersion(
        id=row["id"],
        prompt_id=row["prompt_v2"],
        organization_id=row["organization_id"],
        major_version=row["major_version"],
        minor_version=row["minor_version"],
        model=row["model"],
        helicone_template=row["helicone_template"],
        metadata=dict(row["metadata"] or {}),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        parent_prompt_version=row["parent_prompt_version"],
        experiment_id=row["experiment_id"],
    )


def _live_prompts(db: OrgDb) -> ColumnElement[bool]:
    return and_(db.in_org(prompt_v2), ~prompt_v2.c.soft_delete)


def _live_versions(db: OrgDb) -> ColumnElement[bool]:
    return and_(db.in_org(pv), ~pv.c.soft_delete)


def _model_of(template: Any) -> str:
    model = template.get("model") if isinstance(template, dict) else None
    return model if isinstance(model, str) else ""


def _taken(user_defined_id: str) -> BadRequest:
    return BadRequest(f"a prompt with userDefinedId {user_defined_id!r} already exists")


async def find_prompt(db: OrgDb, prompt_id: str) -> LegacyPrompt:
    """A live prompt by its id, or ``NotFound``."""
    row = await db.row(select(prompt_v2).where(_live_prompts(db), prompt_v2.c.id == prompt_id))
    if row is None:
        raise NotFound(f"prompt {prompt_id} not found")
    return _prompt(row)


async def find_by_user_defined_id(db: OrgDb, user_defined_id: str) -> LegacyPrompt | None:
    """The live prompt called ``user_defined_id`` (its Helicone-Prompt-Id), or None."""
    row = await db.row(
        select(prompt_v2)
        .where(_live_prompts(db), prompt_v2.c.user_defined_id == user_defined_id)
        .order_by(prompt_v2.c.created_at)
        .limit(1)
    )
    return None if row is None else _prompt(row)


async def insert_version(
    db: OrgDb,
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
        organization_id=db.org_id,
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
    await db.execute(
        pv.insert().values(
            id=version.id,
            organization_id=db.org_id,
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
    db: OrgDb, user_defined_id: str, template: Any, metadata: Mapping[str, Any]
) -> tuple[LegacyPrompt, PromptVersion]:
    """A new prompt with version 0.0 in production; a live prompt of that name is a 400."""
    if await find_by_user_defined_id(db, user_defined_id) is not None:
        raise _taken(user_defined_id)
    prompt = LegacyPrompt(
        id=str(uuid.uuid4()),
        organization_id=db.org_id,
        user_defined_id=user_defined_id,
        description=None,
        pretty_name=None,
        metadata=dict(metadata),
        created_at=_now(),
    )
    try:
        await db.execute(
            prompt_v2.insert().values(
                id=prompt.id,
                organization_id=db.org_id,
                user_defined_id=user_defined_id,
                metadata=prompt.metadata,
                created_at=prompt.created_at,
            )
        )
    except IntegrityError as exc:  # a concurrent create of the same id won the race
        raise _taken(user_defined_id) from exc
    version = await insert_version(
        db, prompt, major=0, minor=0, template=template, metadata={"isProduction": True}
    )
    return prompt, version


async def query_prompts(db: OrgDb, node: Any) -> list[dict[str, Any]]:
    """Live prompts matching a ``prompt_v2`` filter, newest first, with their top major."""
    major = (
        select(pv.c.prompt_v2, func.max(pv.c.major_version).label("major_version"))
        .where(_live_versions(db))
        .group_by(pv.c.prompt_v2)
        .subquery()
    )
    matching = where_or_true(compile_filter(node, db.dialect, tables=PROMPT_FILTERS))
    stmt = (
        select(prompt_v2, func.coalesce(major.c.major_version, 0).label("major_version"))
        .outerjoin(major, major.c.prompt_v2 == prompt_v2.c.id)
        .where(_live_prompts(db), matching)
        .order_by(prompt_v2.c.created_at.desc())
    )
    return [
        {"prompt": _prompt(row), "major_version": int(row["major_version"])}
        for row in await db.rows(stmt)
    ]


async def get_prompt(db: OrgDb, prompt_id: str) -> dict[str, Any]:
    """A prompt with its versions, latest version and when a call last used it."""
    prompt = await find_prompt(db, prompt_id)
    return {
        "prompt": prompt,
        "versions": await versions(db, prompt_id),
        "last_used": await last_used(db.log, prompt.user_defined_id),
    }


async def versions(
    db: OrgDb, prompt_id: str | None, node: Any = "all", include_experiment_versions: bool = True
) -> list[PromptVersion]:
    """Live versions (of one prompt, or all), newest numbering first."""
    matching = where_or_true(compile_filter(node, db.dialect, tables=VERSION_FILTERS))
    condition = and_(_live_versions(db), matching)
    if prompt_id is not None:
        condition = and_(condition, pv.c.prompt_v2 == prompt_id)
    if not include_experiment_versions:
        condition = and_(condition, pv.c.experiment_id.is_(None))
    stmt = (
        select(pv).where(condition).order_by(pv.c.major_version.desc(), pv.c.minor_version.desc())
    )
    return [_version(row) for row in await db.rows(stmt)]


async def get_version(db: OrgDb, version_id: str) -> PromptVersion | None:
    """One live legacy version of the organization, or None.

    The record has the prompt id, numbering, model and template. A stable entry point:
    experiments build on it.
    """
    row = await db.row(select(pv).where(_live_versions(db), pv.c.id == version_id))
    return None if row is None else _version(row)


async def must_get_version(db: OrgDb, version_id: str) -> PromptVersion:
    """Like ``get_version``, but ``NotFound`` instead of None."""
    version = await get_version(db, version_id)
    if version is None:
        raise NotFound(f"prompt version {version_id} not found")
    return version


def _one_version(db: OrgDb, version: PromptVersion) -> ColumnElement[bool]:
    return and_(db.in_org(pv), pv.c.id == version.id)


async def set_metadata(db: OrgDb, version: PromptVersion, metadata: Mapping[str, Any]) -> None:
    """Replace a version's metadata."""
    await db.execute(
        update(pv)
        .where(_one_version(db, version))
        .values(metadata=dict(metadata), updated_at=_now())
    )


async def set_template(db: OrgDb, version: PromptVersion, template: Any) -> None:
    """Replace a version's template in place (and its model, read from the template)."""
    await db.execute(
        update(pv)
        .where(_one_version(db, version))
        .values(helicone_template=template, model=_model_of(template), updated_at=_now())
    )


async def next_number(db: OrgDb, prompt_id: str, major: int | None) -> tuple[int, int]:
    """The next ``(major, minor)``: a new major when ``major`` is None, else a new minor."""
    scope = and_(db.in_org(pv), pv.c.prompt_v2 == prompt_id)
    if major is None:
        top = await db.scalar(select(func.max(pv.c.major_version)).where(scope))
        return (-1 if top is None else int(top)) + 1, 0
    top = await db.scalar(
        select(func.max(pv.c.minor_version)).where(scope, pv.c.major_version == major)
    )
    return major, (-1 if top is None else int(top)) + 1


async def move_production(db: OrgDb, target: PromptVersion) -> None:
    """Make ``target`` its prompt's only production version."""
    for version in await versions(db, target.prompt_id):
        if version.id != target.id and version.is_production:
            meta = {k: v for k, v in version.metadata.items() if k != "isProduction"}
            await set_metadata(db, version, meta)
    await set_metadata(db, target, {**target.metadata, "isProduction": True})
    target.metadata = {**target.metadata, "isProduction": True}


async def soft_delete_version(db: OrgDb, version: PromptVersion) -> None:
    """Delete a version that is not in production."""
    if version.is_production:
        raise BadRequest(
            f"prompt version {version.id} is the production version and cannot be deleted; "
            "promote another version first"
        )
    await db.execute(
        update(pv).where(_one_version(db, version)).values(soft_delete=True, updated_at=_now())
    )


async def delete_prompt(db: OrgDb, prompt_id: str) -> None:
    """Delete a prompt and all its versions."""
    prompt = await find_prompt(db, prompt_id)
    await db.execute(
        update(prompt_v2)
        .where(db.in_org(prompt_v2), prompt_v2.c.id == prompt.id)
        .values(soft_delete=True)
    )
    await db.execute(
        update(pv)
        .where(db.in_org(pv), pv.c.prompt_v2 == prompt.id)
        .values(soft_delete=True, updated_at=_now())
    )


async def set_user_defined_id(db: OrgDb, prompt_id: str, new_id: str) -> None:
    """Rename the Helicone-Prompt-Id a prompt answers to; another live prompt's name is a 400."""
    prompt = await find_prompt(db, prompt_id)
    existing = await find_by_user_defined_id(db, new_id)
    if existing is not None and existing.id != prompt.id:
        raise _taken(new_id)
    try:
        await db.execute(
            update(prompt_v2)
            .where(db.in_org(prompt_v2), prompt_v2.c.id == prompt.id)
            .values(user_defined_id=new_id)
        )
    except IntegrityError as exc:  # a concurrent rename or create took the name first
        raise _taken(new_id) from exc
