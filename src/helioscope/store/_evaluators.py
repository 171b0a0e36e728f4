"""Evaluators, their online configurations, and which experiments use them."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from helioscope.errors import NotFound
from helioscope.store._dialects import upsert
from helioscope.store._schema_experiments import (
    evaluator,
    experiment,
    experiment_evaluator,
    online_evaluator,
)

_FIELDS = ("name", "scoring_type", "llm_template", "code_template", "last_mile_config")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def get_evaluator(conn: AsyncConnection, org_id: str, evaluator_id: str) -> dict[str, Any]:
    """One evaluator of the organization, or NotFound."""
    stmt = select(evaluator).where(
        evaluator.c.organization_id == org_id, evaluator.c.id == evaluator_id
    )
    found = (await conn.execute(stmt)).mappings().first()
    if found is None:
        raise NotFound(f"evaluator {evaluator_id} not found")
    return dict(found)


class EvaluatorStore:
    """Evaluator reads and writes (``store.evaluators``)."""

    def __init__(self, engine: AsyncEngine, writer_engine: AsyncEngine) -> None:
        self._read = engine
        self._write = writer_engine

    async def create(self, org_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """A new evaluator from ``name``, ``scoring_type`` and its templates."""
        now = _now()
        values = {k: fields.get(k) for k in _FIELDS}
        evaluator_id = str(uuid.uuid4())
        async with self._write.begin() as conn:
            await conn.execute(
                evaluator.insert().values(
                    id=evaluator_id,
                    organization_id=org_id,
                    created_at=now,
                    updated_at=now,
                    **values,
                )
            )
            return await get_evaluator(conn, org_id, evaluator_id)

    async def get(self, org_id: str, evaluator_id: str) -> dict[str, Any]:
        """One evaluator."""
        async with self._read.connect() as conn:
            return await get_evaluator(conn, org_id, evaluator_id)

    async def update(
        self, org_id: str, evaluator_id: str, fields: dict[str, Any]
    ) -> dict[str, Any]:
        """Change the given fields of an evaluator."""
        values = {k: v for k, v in fields.items() if k in _FIELDS}
        async with self._write.begin() as conn:
            await get_evaluator(conn, org_id, evaluator_id)
            await conn.execute(
                update(evaluator)
                .where(evaluator.c.organization_id == org_id, evaluator.c.id == evaluator_id)
                .values(**values, updated_at=_now())
            )
            return await get_evaluator(conn, org_id, evaluator_id)

    async def delete(self, org_id: str, evaluator_id: str) -> None:
        """Delete an evaluator with its online configurations and experiment links."""
        async with self._write.begin() as conn:
            await get_evaluator(conn, org_id, evaluator_id)
            for table in (online_evaluator, experiment_evaluator):
                await conn.execute(delete(table).where(table.c.evaluator_id == evaluator_id))
            await conn.execute(delete(evaluator).where(evaluator.c.id == evaluator_id))

    async def list_evaluators(self, org_id: str) -> list[dict[str, Any]]:
        """Every evaluator of the organization, newest first."""
        stmt = (
            select(evaluator)
            .where(evaluator.c.organization_id == org_id)
            .order_by(evaluator.c.created_at.desc(), evaluator.c.id)
        )
        async with self._read.connect() as conn:
            return [dict(r) for r in (await conn.execute(stmt)).mappings()]

    async def experiments_using(self, org_id: str, evaluator_id: str) -> list[dict[str, Any]]:
        """The experiments an evaluator is attached to."""
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
            .where(
                experiment_evaluator.c.organization_id == org_id,
                experiment_evaluator.c.evaluator_id == evaluator_id,
            )
            .order_by(experiment.c.created_at.desc())
        )
        async with self._read.connect() as conn:
            await get_evaluator(conn, org_id, evaluator_id)
            return [dict(r) for r in (await conn.execute(stmt)).mappings()]

    async def for_experiment(self, org_id: str, experiment_id: str) -> list[dict[str, Any]]:
        """The evaluators attached to an experiment."""
        stmt = (
            select(evaluator)
            .select_from(
                experiment_evaluator.join(
                    evaluator, evaluator.c.id == experiment_evaluator.c.evaluator_id
                )
            )
            .where(
                experiment_evaluator.c.organization_id == org_id,
                experiment_evaluator.c.experiment_id == experiment_id,
            )
            .order_by(experiment_evaluator.c.created_at, evaluator.c.id)
        )
        async with self._read.connect() as conn:
            return [dict(r) for r in (await conn.execute(stmt)).mappings()]

    async def attach(self, org_id: str, experiment_id: str, evaluator_id: str) -> None:
        """Attach an evaluator to an experiment (attaching twice is harmless)."""
        async with self._write.begin() as conn:
            await get_evaluator(conn, org_id, evaluator_id)
            stmt = upsert(
                experiment_evaluator, conn.dialect.name, ("experiment_id", "evaluator_id")
            )
            await conn.execute(
                stmt,
                [
                    {
                        "experiment_id": experiment_id,
                        "evaluator_id": evaluator_id,
                        "organization_id": org_id,
                        "created_at": _now(),
                    }
                ],
            )

    async def detach(self, org_id: str, experiment_id: str, evaluator_id: str) -> None:
        """Detach an evaluator from an experiment."""
        async with self._write.begin() as conn:
            result = await conn.execute(
                delete(experiment_evaluator).where(
                    experiment_evaluator.c.organization_id == org_id,
                    experiment_evaluator.c.experiment_id == experiment_id,
                    experiment_evaluator.c.evaluator_id == evaluator_id,
                )
            )
            if result.rowcount == 0:
                raise NotFound(f"evaluator {evaluator_id} is not on experiment {experiment_id}")

    async def online_configs(self, org_id: str, evaluator_id: str) -> list[dict[str, Any]]:
        """An evaluator's online configurations."""
        stmt = (
            select(online_evaluator.c.id, online_evaluator.c.config)
            .where(
                online_evaluator.c.organization_id == org_id,
                online_evaluator.c.evaluator_id == evaluator_id,
            )
            .order_by(online_evaluator.c.created_at, online_evaluator.c.id)
        )
        async with self._read.connect() as conn:
            await get_evaluator(conn, org_id, evaluator_id)
            return [dict(r) for r in (await conn.execute(stmt)).mappings()]

    async def add_online(self, org_id: str, evaluator_id: str, config: dict[str, Any]) -> str:
        """Run an evaluator on incoming logs that match ``config`` (filter, sample rate)."""
        online_id = str(uuid.uuid4())
        async with self._write.begin() as conn:
            await get_evaluator(conn, org_id, evaluator_id)
            await conn.execute(
                online_evaluator.insert().values(
                    id=online_id,
                    organization_id=org_id,
                    evaluator_id=evaluator_id,
                    config=config,
                    created_at=_now(),
                )
            )
        return online_id

    async def delete_online(self, org_id: str, evaluator_id: str, online_id: str) -> None:
        """Stop an online evaluator."""
        async with self._write.begin() as conn:
            result = await conn.execute(
                delete(online_evaluator).where(
                    online_evaluator.c.organization_id == org_id,
                    online_evaluator.c.evaluator_id == evaluator_id,
                    online_evaluator.c.id == online_id,
                )
            )
            if result.rowcount == 0:
                raise NotFound(f"online evaluator {online_id} not found")

    async def online_for_org(self, org_id: str) -> list[dict[str, Any]]:
        """The organization's online evaluators, each with its evaluator's fields."""
        stmt = (
            select(
                online_evaluator.c.id.label("online_id"),
                online_evaluator.c.config,
                *evaluator.c,
            )
            .select_from(
                online_evaluator.join(evaluator, evaluator.c.id == online_evaluator.c.evaluator_id)
            )
            .where(online_evaluator.c.organization_id == org_id)
            .order_by(online_evaluator.c.created_at)
        )
        async with self._read.connect() as conn:
            return [dict(r) for r in (await conn.execute(stmt)).mappings()]
