"""Evaluators, their online configurations, and which experiments use them."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import delete, select, update

from helioscope.errors import NotFound
from helioscope.store._runner import OrgDb
from helioscope.store.tables.experiments import (
    evaluator,
    experiment,
    experiment_evaluator,
    online_evaluator,
)

_FIELDS = ("name", "scoring_type", "llm_template", "code_template", "last_mile_config")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def get_evaluator(db: OrgDb, evaluator_id: str) -> dict[str, Any]:
    """One evaluator of the organization, or NotFound."""
    found = await db.row(
        select(evaluator).where(db.in_org(evaluator), evaluator.c.id == evaluator_id)
    )
    if found is None:
        raise NotFound(f"evaluator {evaluator_id} not found")
    return found


async def create_evaluator(db: OrgDb, fields: dict[str, Any]) -> dict[str, Any]:
    """A new evaluator from ``name``, ``scoring_type`` and its templates."""
    now = _now()
    values = {k: fields.get(k) for k in _FIELDS}
    evaluator_id = str(uuid.uuid4())
    await db.execute(
        evaluator.insert().values(
            id=evaluator_id, organization_id=db.org_id, created_at=now, updated_at=now, **values
        )
    )
    return await get_evaluator(db, evaluator_id)


async def update_evaluator(db: OrgDb, evaluator_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Change the given fields of an evaluator."""
    values = {k: v for k, v in fields.items() if k in _FIELDS}
    await get_evaluator(db, evaluator_id)
    await db.execute(
        update(evaluator)
        .where(db.in_org(evaluator), evaluator.c.id == evaluator_id)
        .values(**values, updated_at=_now())
    )
    return await get_evaluator(db, evaluator_id)


async def delete_evaluator(db: OrgDb, evaluator_id: str) -> None:
    """Delete an evaluator with its online configurations and experiment links."""
    await get_evaluator(db, evaluator_id)
    for table in (online_evaluator, experiment_evaluator):
        await db.execute(delete(table).where(table.c.evaluator_id == evaluator_id))
    await db.execute(delete(evaluator).where(evaluator.c.id == evaluator_id))


async def list_evaluators(db: OrgDb) -> list[dict[str, Any]]:
    """Every evaluator of the organization, newest first."""
    stmt = (
        select(evaluator)
        .where(db.in_org(evaluator))
        .order_by(evaluator.c.created_at.desc(), evaluator.c.id)
    )
    return await db.rows(stmt)


async def experiments_using(db: OrgDb, evaluator_id: str) -> list[dict[str, Any]]:
    """The experiments an evaluator is attached to."""
    await get_evaluator(db, evaluator_id)
    stmt = (
        select(
            experiment.c.id.label("experiment_id"),
            experiment.c.name.label("experiment_name"),
            experiment.c.created_at.label("experiment_created_at"),
        )
        .select_from(
            experiment_evaluator.join(
                experiment, experiment.c.id == experiment_evaluator.c.experiment_id
            )
        )
        .where(db.in_org(experiment_evaluator), experiment_evaluator.c.evaluator_id == evaluator_id)
        .order_by(experiment.c.created_at.desc())
    )
    return await db.rows(stmt)


async def for_experiment(db: OrgDb, experiment_id: str) -> list[dict[str, Any]]:
    """The evaluators attached to an experiment."""
    stmt = (
        select(evaluator)
        .select_from(
            experiment_evaluator.join(
                evaluator, evaluator.c.id == experiment_evaluator.c.evaluator_id
            )
        )
        .where(
            db.in_org(experiment_evaluator), experiment_evaluator.c.experiment_id == experiment_id
        )
        .order_by(experiment_evaluator.c.created_at, evaluator.c.id)
    )
    return await db.rows(stmt)


async def attach(db: OrgDb, experiment_id: str, evaluator_id: str) -> None:
    """Attach an evaluator to an experiment (attaching twice is harmless)."""
    await get_evaluator(db, evaluator_id)
    stmt = db.dialect.upsert(experiment_evaluator, ("experiment_id", "evaluator_id"))
    await db.execute(
        stmt,
        [
            {
                "experiment_id": experiment_id,
                "evaluator_id": evaluator_id,
                "organization_id": db.org_id,
                "created_at": _now(),
            }
        ],
    )


async def detach(db: OrgDb, experiment_id: str, evaluator_id: str) -> None:
    """Detach an evaluator from an experiment."""
    removed = await db.execute(
        delete(experiment_evaluator).where(
            db.in_org(experiment_evaluator),
            experiment_evaluator.c.experiment_id == experiment_id,
            experiment_evaluator.c.evaluator_id == evaluator_id,
        )
    )
    if removed == 0:
        raise NotFound(f"evaluator {evaluator_id} is not on experiment {experiment_id}")


async def online_configs(db: OrgDb, evaluator_id: str) -> list[dict[str, Any]]:
    """An evaluator's online configurations."""
    await get_evaluator(db, evaluator_id)
    stmt = (
        select(online_evaluator.c.id, online_evaluator.c.config)
        .where(db.in_org(online_evaluator), online_evaluator.c.evaluator_id == evaluator_id)
        .order_by(online_evaluator.c.created_at, online_evaluator.c.id)
    )
    return await db.rows(stmt)


async def add_online(db: OrgDb, evaluator_id: str, config: dict[str, Any]) -> str:
    """Run an evaluator on incoming logs that match ``config`` (filter, sample rate)."""
    online_id = str(uuid.uuid4())
    await get_evaluator(db, evaluator_id)
    await db.execute(
        online_evaluator.insert().values(
            id=online_id,
            organization_id=db.org_id,
            evaluator_id=evaluator_id,
            config=config,
            created_at=_now(),
        )
    )
    return online_id


async def delete_online(db: OrgDb, evaluator_id: str, online_id: str) -> None:
    """Stop an online evaluator."""
    removed = await db.execute(
        delete(online_evaluator).where(
            db.in_org(online_evaluator),
            online_evaluator.c.evaluator_id == evaluator_id,
            online_evaluator.c.id == online_id,
        )
    )
    if removed == 0:
        raise NotFound(f"online evaluator {online_id} not found")


async def online_for_org(db: OrgDb) -> list[dict[str, Any]]:
    """The organization's online evaluators, each with its evaluator's fields."""
    stmt = (
        select(online_evaluator.c.id.label("online_id"), online_evaluator.c.config, *evaluator.c)
        .select_from(
            online_evaluator.join(evaluator, evaluator.c.id == online_evaluator.c.evaluator_id)
        )
        .where(db.in_org(online_evaluator))
        .order_by(online_evaluator.c.created_at)
    )
    return await db.rows(stmt)
