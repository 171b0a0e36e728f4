"""Integrations: an organization's named settings, and the Slack reports' bookkeeping.

The routes use the functions that take an ``OrgDb``; the report sender, which serves every
organization, reads ``active_integrations`` and marks each report it sends.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select, update

from helioscope.errors import BadRequest
from helioscope.store._runner import Db, OrgDb
from helioscope.store.tables.integrations import integration

_COLUMNS = (
    integration.c.id,
    integration.c.organization_id,
    integration.c.integration_name,
    integration.c.settings,
    integration.c.active,
    integration.c.report_sent_at,
)
_LIST = select(*_COLUMNS).order_by(integration.c.created_at, integration.c.id)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def create_integration(db: OrgDb, name: str, settings: Any, active: bool) -> str:
    """Store an integration; return its id. One of each name per organization (409)."""
    existing = await db.scalar(
        select(integration.c.id).where(
            db.in_org(integration), integration.c.integration_name == name
        )
    )
    if existing is not None:
        raise BadRequest(f"integration_name: the organization has a {name!r} integration already")
    integration_id, now = str(uuid.uuid4()), _now()
    await db.execute(
        integration.insert().values(
            id=integration_id,
            organization_id=db.org_id,
            integration_name=name,
            settings=settings,
            active=active,
            created_at=now,
            updated_at=now,
        )
    )
    return integration_id


async def list_integrations(db: OrgDb) -> list[dict[str, Any]]:
    """The organization's integrations, oldest first."""
    return await db.rows(_LIST.where(db.in_org(integration)))


async def get_integration(db: OrgDb, integration_id: str) -> dict[str, Any] | None:
    """One integration of the organization by id."""
    return await db.row(_LIST.where(db.in_org(integration), integration.c.id == integration_id))


async def integration_by_name(db: OrgDb, name: str) -> dict[str, Any] | None:
    """The organization's integration of that name (``slack``, ...)."""
    stmt = _LIST.where(db.in_org(integration), integration.c.integration_name == name)
    return await db.row(stmt)


async def update_integration(db: OrgDb, integration_id: str, values: dict[str, Any]) -> bool:
    """Change some of name, settings and active; False when the organization has no such one."""
    name = values.get("integration_name")
    if name is not None:
        clash = await db.scalar(
            select(integration.c.id).where(
                db.in_org(integration),
                integration.c.integration_name == name,
                integration.c.id != integration_id,
            )
        )
        if clash is not None:
            raise BadRequest(
                f"integration_name: the organization has a {name!r} integration already"
            )
    stmt = update(integration).where(db.in_org(integration), integration.c.id == integration_id)
    return await db.execute(stmt.values(**values, updated_at=_now())) > 0


async def active_integrations(db: Db, name: str) -> list[dict[str, Any]]:
    """Every organization's active integration of that name (for the report sender)."""
    stmt = _LIST.where(integration.c.integration_name == name, integration.c.active.is_(True))
    return await db.rows(stmt)


async def mark_report_sent(db: Db, integration_id: str, at: dt.datetime) -> None:
    """Remember when the integration's last report went out."""
    stmt = update(integration).where(integration.c.id == integration_id)
    await db.execute(stmt.values(report_sent_at=at))
