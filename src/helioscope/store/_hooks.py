"""Webhooks and alerts: their definitions, alert state and history, and alert window stats."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Any

from sqlalchemy import and_, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from helioscope.store._schema import request_response as rr
from helioscope.store._schema_insights import alert, alert_history, webhook


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def create_webhook(
    conn: AsyncConnection, org_id: str, destination: str, config: dict[str, Any]
) -> dict[str, Any]:
    """Store a webhook with a fresh signing key; return it."""
    row = {
        "id": str(uuid.uuid4()),
        "organization_id": org_id,
        "destination": destination,
        "hmac_key": secrets.token_hex(32),
        "config": config,
        "version": "2",
        "created_at": _now(),
    }
    await conn.execute(webhook.insert().values(**row))
    return row


async def list_webhooks(conn: AsyncConnection, org_id: str | None) -> list[dict[str, Any]]:
    """The webhooks of one organization (or of all, for the dispatcher), oldest first."""
    stmt = select(webhook).order_by(webhook.c.created_at, webhook.c.id)
    if org_id is not None:
        stmt = stmt.where(webhook.c.organization_id == org_id)
    return [dict(row._mapping) for row in await conn.execute(stmt)]


async def delete_webhook(conn: AsyncConnection, org_id: str, webhook_id: str) -> bool:
    """Delete a webhook of the organization; False when it has none with that id."""
    result = await conn.execute(
        webhook.delete().where(webhook.c.id == webhook_id, webhook.c.organization_id == org_id)
    )
    return result.rowcount > 0


async def create_alert(conn: AsyncConnection, org_id: str, values: dict[str, Any]) -> str:
    """Store an alert (resolved to begin with); return its id."""
    alert_id = str(uuid.uuid4())
    now = _now()
    await conn.execute(
        alert.insert().values(
            id=alert_id,
            organization_id=org_id,
            status="resolved",
            created_at=now,
            updated_at=now,
            **values,
        )
    )
    return alert_id


async def list_alerts(conn: AsyncConnection, org_id: str | None) -> list[dict[str, Any]]:
    """Live alerts of one organization (or of all, for the evaluator), oldest first."""
    stmt = select(alert).where(~alert.c.soft_delete).order_by(alert.c.created_at, alert.c.id)
    if org_id is not None:
        stmt = stmt.where(alert.c.organization_id == org_id)
    return [dict(row._mapping) for row in await conn.execute(stmt)]


async def delete_alert(conn: AsyncConnection, org_id: str, alert_id: str) -> bool:
    """Soft-delete an alert of the organization; False when it has none with that id."""
    result = await conn.execute(
        update(alert)
        .where(alert.c.id == alert_id, alert.c.organization_id == org_id, ~alert.c.soft_delete)
        .values(soft_delete=True, updated_at=_now())
    )
    return result.rowcount > 0


async def alert_history_rows(conn: AsyncConnection, org_id: str) -> list[dict[str, Any]]:
    """The organization's alert history, newest first."""
    stmt = (
        select(alert_history)
        .where(alert_history.c.organization_id == org_id)
        .order_by(alert_history.c.alert_start_time.desc(), alert_history.c.id)
    )
    return [dict(row._mapping) for row in await conn.execute(stmt)]


async def window_stats(
    conn: AsyncConnection, org_id: str, since: dt.datetime, until: dt.datetime
) -> dict[str, int]:
    """Requests, errors (status other than 200) and cost (nano-USD) in ``[since, until]``."""
    stmt = select(
        func.count().label("requests"),
        func.coalesce(func.sum(case((rr.c.status != 200, 1), else_=0)), 0).label("errors"),
        func.coalesce(func.sum(rr.c.cost), 0).label("cost"),
    ).where(
        rr.c.organization_id == org_id,
        rr.c.request_created_at >= since,
        rr.c.request_created_at <= until,
    )
    row = (await conn.execute(stmt)).one()
    return {key: int(value or 0) for key, value in row._mapping.items()}


async def trigger_alert(
    conn: AsyncConnection, current: dict[str, Any], value: float, requests: int, at: dt.datetime
) -> None:
    """Mark an alert triggered and open its history row."""
    await conn.execute(
        update(alert)
        .where(alert.c.id == current["id"])
        .values(status="triggered", below_since=None, updated_at=at)
    )
    await conn.execute(
        alert_history.insert().values(
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


async def set_below_since(conn: AsyncConnection, alert_id: str, since: dt.datetime | None) -> None:
    """Start (or cancel, with None) a triggered alert's cooldown."""
    await conn.execute(update(alert).where(alert.c.id == alert_id).values(below_since=since))


async def resolve_alert(conn: AsyncConnection, current: dict[str, Any], at: dt.datetime) -> None:
    """Mark an alert resolved and close its open history row."""
    await conn.execute(
        update(alert)
        .where(alert.c.id == current["id"])
        .values(status="resolved", below_since=None, updated_at=at)
    )
    await conn.execute(
        update(alert_history)
        .where(
            and_(
                alert_history.c.alert_id == current["id"],
                alert_history.c.alert_end_time.is_(None),
            )
        )
        .values(status="resolved", alert_end_time=at)
    )
