"""Experiments: rows of inputs, prompt versions (hypotheses) and one output cell per pair."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, exists, func, or_, select, update

from helioscope.errors import NotFound
from helioscope.store._runner import OrgDb
from helioscope.store.tables.experiments import experiment as exp
from helioscope.store.tables.experiments import experiment_hypothesis as hyp
from helioscope.store.tables.experiments import experiment_input_record as rec
from helioscope.store.tables.experiments import experiment_output as out
from helioscope.store.tables.prompts import prompts_versions

CELL_STATUSES = ("pending", "running", "success", "failed")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def get_experiment(db: OrgDb, experiment_id: str) -> dict[str, Any]:
    """One experiment of the organization, or NotFound."""
    found = await db.row(select(exp).where(db.in_org(exp), exp.c.id == experiment_id))
    if found is None:
        raise NotFound(f"experiment {experiment_id} not found")
    return found


def _record(org_id: str, experiment_id: str | None, row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row.get("id") or str(uuid.uuid4()),
        "organization_id": org_id,
        "experiment_id": experiment_id,
        "prompt_version_id": row.get("prompt_version_id"),
        "inputs": row.get("inputs") or {},
        "auto_prompt_inputs": row.get("auto_prompt_inputs") or [],
        "source_request": row.get("source_request"),
        "created_at": row.get("created_at") or _now(),
    }


async def create_experiment(db: OrgDb, /, name: str, **fields: Any) -> str:
    """A new experiment; ``fields`` are columns of ``experiment`` (prompt versions, keys)."""
    experiment_id = str(uuid.uuid4())
    await db.execute(
        exp.insert().values(
            id=experiment_id, organization_id=db.org_id, name=name, created_at=_now(), **fields
        )
    )
    return experiment_id


async def list_experiments(db: OrgDb) -> list[dict[str, Any]]:
    """The organization's experiments, newest first."""
    return await db.rows(
        select(exp).where(db.in_org(exp)).order_by(exp.c.created_at.desc(), exp.c.id)
    )


async def for_prompt(db: OrgDb, prompt_id: str) -> list[dict[str, Any]]:
    """Experiments that started from, or test, a version of this (legacy) prompt."""
    versions = select(prompts_versions.c.id).where(
        db.in_org(prompts_versions), prompts_versions.c.prompt_v2 == prompt_id
    )
    hypotheses = (
        select(func.count())
        .select_from(hyp)
        .where(hyp.c.experiment_id == exp.c.id)
        .scalar_subquery()
    )
    tests_a_version = exists().where(
        hyp.c.experiment_id == exp.c.id, hyp.c.prompt_version_id.in_(versions)
    )
    stmt = (
        select(exp, hypotheses.label("num_hypotheses"))
        .where(db.in_org(exp), or_(exp.c.original_prompt_version.in_(versions), tests_a_version))
        .order_by(exp.c.created_at.desc(), exp.c.id)
    )
    return await db.rows(stmt)


async def update_experiment(db: OrgDb, /, experiment_id: str, **fields: Any) -> None:
    """Change columns of an experiment (name, meta, input keys, prompt versions)."""
    await get_experiment(db, experiment_id)
    await db.execute(update(exp).where(exp.c.id == experiment_id).values(**fields))


async def add_input_keys(db: OrgDb, experiment_id: str, keys: Sequence[str]) -> None:
    """Merge new input keys into the experiment's list, keeping their first order."""
    found = await get_experiment(db, experiment_id)
    merged = list(dict.fromkeys([*(found["input_keys"] or []), *keys]))
    await db.execute(update(exp).where(exp.c.id == experiment_id).values(input_keys=merged))


async def delete_experiment(db: OrgDb, experiment_id: str) -> None:
    """Delete an experiment with its rows, cells, hypotheses and tables."""
    await get_experiment(db, experiment_id)
    # Rows, cells, hypotheses and tables go with it (ON DELETE CASCADE, on both engines).
    await db.execute(delete(exp).where(exp.c.id == experiment_id))


# Rows (input records)


async def add_rows(db: OrgDb, experiment_id: str, rows: Sequence[dict[str, Any]]) -> list[str]:
    """Add input records to an experiment; returns their ids, in order."""
    now = _now()
    # One microsecond apart: rows list in the order they were given.
    records = [
        _record(db.org_id, experiment_id, {"created_at": now + dt.timedelta(microseconds=i), **r})
        for i, r in enumerate(rows)
    ]
    await get_experiment(db, experiment_id)
    if records:
        await db.execute(rec.insert(), records)
    return [r["id"] for r in records]


async def update_row(db: OrgDb, experiment_id: str, record_id: str, inputs: dict[str, str]) -> None:
    """Replace a row's inputs."""
    changed = await db.execute(
        update(rec)
        .where(db.in_org(rec), rec.c.experiment_id == experiment_id, rec.c.id == record_id)
        .values(inputs=inputs)
    )
    if changed == 0:
        raise NotFound(f"row {record_id} not found in experiment {experiment_id}")


async def delete_rows(db: OrgDb, experiment_id: str, record_ids: Sequence[str]) -> None:
    """Delete rows and their output cells."""
    await get_experiment(db, experiment_id)
    ids = list(record_ids)
    await db.execute(
        delete(out).where(out.c.experiment_id == experiment_id, out.c.input_record_id.in_(ids))
    )
    await db.execute(delete(rec).where(rec.c.experiment_id == experiment_id, rec.c.id.in_(ids)))


async def experiment_rows(db: OrgDb, experiment_id: str) -> list[dict[str, Any]]:
    """The experiment's rows in the order they were added."""
    stmt = (
        select(rec)
        .where(db.in_org(rec), rec.c.experiment_id == experiment_id)
        .order_by(rec.c.created_at, rec.c.id)
    )
    return await db.rows(stmt)


async def experiment_row(db: OrgDb, experiment_id: str, record_id: str) -> dict[str, Any]:
    """One row, or NotFound."""
    found = await db.row(
        select(rec).where(
            db.in_org(rec), rec.c.experiment_id == experiment_id, rec.c.id == record_id
        )
    )
    if found is None:
        raise NotFound(f"row {record_id} not found in experiment {experiment_id}")
    return found


# Output cells


async def set_cell(
    db: OrgDb, /, experiment_id: str, record_id: str, prompt_version_id: str, **fields: Any
) -> None:
    """Create or update the cell of (row, prompt version): status, request id, error."""
    now = _now()
    key = ("experiment_id", "input_record_id", "prompt_version_id")
    existing = await db.row(
        select(out.c.id, out.c.created_at, out.c.request_id, out.c.is_original).where(
            out.c.experiment_id == experiment_id,
            out.c.input_record_id == record_id,
            out.c.prompt_version_id == prompt_version_id,
        )
    )
    row = {
        "id": existing["id"] if existing else str(uuid.uuid4()),
        "organization_id": db.org_id,
        "experiment_id": experiment_id,
        "input_record_id": record_id,
        "prompt_version_id": prompt_version_id,
        "request_id": existing["request_id"] if existing else None,
        "is_original": existing["is_original"] if existing else False,
        "status": "pending",
        "error": None,
        "created_at": existing["created_at"] if existing else now,
        "updated_at": now,
        **fields,
    }
    await db.execute(db.dialect.upsert(out, key), [row])


async def cells(
    db: OrgDb, experiment_id: str, prompt_version_id: str | None = None
) -> list[dict[str, Any]]:
    """The experiment's output cells (of one prompt version, if given)."""
    stmt = (
        select(out)
        .where(db.in_org(out), out.c.experiment_id == experiment_id)
        .order_by(out.c.created_at, out.c.id)
    )
    if prompt_version_id is not None:
        stmt = stmt.where(out.c.prompt_version_id == prompt_version_id)
    return await db.rows(stmt)


async def cell_counts(db: OrgDb, experiment_id: str) -> dict[str, int]:
    """How many cells are in each status."""
    stmt = (
        select(out.c.status, func.count())
        .where(db.in_org(out), out.c.experiment_id == experiment_id)
        .group_by(out.c.status)
    )
    counts = {status: 0 for status in CELL_STATUSES}
    counts.update({s: int(n) for s, n in await db.tuples(stmt)})
    return counts


# Hypotheses: the prompt versions an experiment runs


async def add_hypothesis(
    db: OrgDb,
    experiment_id: str,
    prompt_version_id: str,
    model: str = "",
    status: str = "PENDING",
    provider_key_id: str | None = None,
) -> str:
    """Record that the experiment runs this prompt version; returns the hypothesis id."""
    hypothesis_id = str(uuid.uuid4())
    await get_experiment(db, experiment_id)
    await db.execute(
        hyp.insert().values(
            id=hypothesis_id,
            organization_id=db.org_id,
            experiment_id=experiment_id,
            prompt_version_id=prompt_version_id,
            model=model,
            status=status,
            provider_key_id=provider_key_id,
            created_at=_now(),
        )
    )
    return hypothesis_id


async def hypotheses(db: OrgDb, experiment_id: str) -> list[dict[str, Any]]:
    """The experiment's hypotheses, oldest first."""
    stmt = (
        select(hyp)
        .where(db.in_org(hyp), hyp.c.experiment_id == experiment_id)
        .order_by(hyp.c.created_at, hyp.c.id)
    )
    return await db.rows(stmt)


async def hypothesis(db: OrgDb, hypothesis_id: str) -> dict[str, Any]:
    """One hypothesis, or NotFound."""
    found = await db.row(select(hyp).where(db.in_org(hyp), hyp.c.id == hypothesis_id))
    if found is None:
        raise NotFound(f"hypothesis {hypothesis_id} not found")
    return found


async def remove_hypothesis(db: OrgDb, experiment_id: str, prompt_version_id: str) -> None:
    """Stop running a prompt version in the experiment, and drop its cells."""
    removed = await db.execute(
        delete(hyp).where(
            db.in_org(hyp),
            hyp.c.experiment_id == experiment_id,
            hyp.c.prompt_version_id == prompt_version_id,
        )
    )
    if removed == 0:
        raise NotFound(f"prompt version {prompt_version_id} is not in {experiment_id}")
    await db.execute(
        delete(out).where(
            out.c.experiment_id == experiment_id, out.c.prompt_version_id == prompt_version_id
        )
    )
