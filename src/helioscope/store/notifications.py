"""Webhooks and alerts: their definitions, alert state and history.

An organization's routes use the functions that take an ``OrgDb``; the dispatcher and the alert
evaluator, which serve every organization, use ``all_webhooks``, ``all_alerts`` and the alert
state changes, which name the alert itself.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Any

from sqlalchemy import and_, select, update

from helioscope.store._runner import Db, OrgDb
from helioscope.store.tables.notifications import alert, webhook
from helioscope.store.tables.notifications import alert_history as alert_history_table


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def create_webhook(db: OrgDb, destination: str, config: dict[str, Any]) -> dict[str, Any]:
    """Store a webhook with a fresh signing key; return it."""
    row = {
        "id": str(uuid.uuid4()),
        "organization_id": db.org_id,
        "destination": destination,
        "hmac_key": secrets.token_hex(32),
        "config": config,
        "version": "2",
        "created_at": _now(),
    }
    await db.execute(webhook.insert().values(**row))
    return row


_WEBHOOKS = select(webhook).order_by(webhook.c.created_at, webhook.c.id)


async def list_webhooks(db: OrgDb) -> list[dict[str, Any]]:
    """The organization's webhooks, oldest first."""
    return await db.rows(_WEBHOOKS.where(db.in_org(webhook)))


async def all_webhooks(db: Db) -> list[dict[str, Any]]:
    """Every organization's webhooks (for the dispatcher), oldest first."""
    return await db.rows(_WEBHOOKS)


async def delete_webhook(db: OrgDb, webhook_id: str) -> bool:
    """Delete a webhook; False when the organization has none with that id."""
    stmt = webhook.delete().where(db.in_org(webhook), webhook.c.id == webhook_id)
    return await db.execute(stmt) > 0


async def create_alert(db: OrgDb, values: dict[str, Any]) -> str:
    """Store an alert (resolved to begin with); return its id."""
    alert_id = str(uuid.uuid4())
    now = _now()
    await db.execute(
        alert.insert().values(
            id=alert_id,
            organization_id=db.org_id,
            status="resolved",
            created_at=now,
            updated_at=now,
            **values,
        )
    )
    return alert_id


_ALERTS = select(alert).where(~alert.c.soft_delete).order_by(alert.c.created_at, alert.c.id)


async def list_alerts(db: OrgDb) -> list[dict[str, Any]]:
    """The organization's live alerts, oldest first."""
    return await db.rows(_ALERTS.where(db.in_org(alert)))


async def all_alerts(db: Db) -> list[dict[str, Any]]:
    """Every organization's live alerts (for the evaluator), oldest first."""
    return await db.rows(_ALERTS)


async def delete_alert(db: OrgDb, alert_id: str) -> bool:
    """Soft-delete an alert; False when the organization has no live alert with that id."""
    stmt = update(alert).where(db.in_org(alert), alert.c.id == alert_id, ~alert.c.soft_delete)
    return await db.execute(stmt.values(soft_delete=True, updated_at=_now())) > 0


async def alert_history(db: OrgDb) -> list[dict[str, Any]]:
    """The organization's alert history, newest first."""
    stmt = (
        select(alert_history_table)
        .where(db.in_org(alert_history_table))
        .order_by(alert_history_table.c.alert_start_time.desc(), alert_history_table.c.id)
    )
    return await db.rows(stmt)


async def trigger_alert(
    db: Db, current: dict[str, Any], value: float, requests: int, at: dt.datetime
) -> None:
    """Mark an alert triggered and open its history row."""
    await db.execute(
        update(alert)
        .where(alert.c.id == current["id"])
        .values(status="triggered", below_since=None, updated_at=at)
    )
    await db.execute(
        alert_history_table.insert().values(
            id=str(uuid.uuid4()),
            organization_id=current["organization_id"],
            alert_id=current["id"],
            alert_name=current["name"],
            alert_metric=current["metric"],
            triggered_value=value,
            requests=requests,
            status="triggered",
            alert_start_time=at,
            created_at=at,
        )
    )


async def set_below_since(db: Db, alert_id: str, since: dt.datetime | None) -> None:
    """Start (or cancel, with None) a triggered alert's cooldown."""
    await db.execute(update(alert).where(alert.c.id == alert_id).values(below_since=since))


async def resolve_alert(db: Db, current: dict[str, Any], at: dt.datetime) -> None:
    """Mark an alert resolved and close its open history row."""
    await db.execute(
        update(alert)
        .where(alert.c.id == current["id"])
        .values(status="resolved", below_since=None, updated_at=at)
    )
    await db.execute(
        update(alert_history_table)
        .where(
            and_(
                alert_history_table.c.alert_id == current["id"],
                alert_history_table.c.alert_end_time.is_(None),
            )
        )
        .values(status="resolved", alert_end_time=at)
    )
