"""The ``Alert`` tag: thresholds on the error rate or the cost over a window, and their history."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from helioscope.api._fields import FLOAT_LIMIT, Count, Number
from helioscope.api.deps import ApiKeyDep, StoreDep
from helioscope.api.envelope import ERROR_RESPONSES, Result
from helioscope.errors import NotFound
from helioscope.store import notifications

reads = APIRouter(prefix="/v1/alert", tags=["Alert"], responses=ERROR_RESPONSES)
admin = APIRouter(prefix="/v1/alert", tags=["Alert"], responses=ERROR_RESPONSES)


class AlertRequest(BaseModel):
    """Body of ``POST /v1/alert/create`` (Helicone's ``AlertRequest``, plus a webhook)."""

    name: str = Field(min_length=1, max_length=200)
    metric: Literal["response.status", "cost"]
    threshold: float = Field(ge=0, le=FLOAT_LIMIT, allow_inf_nan=False)
    time_window: int = Field(ge=60_000, le=31 * 24 * 3_600_000, description="ms")
    minimum_request_count: Count = 0
    cooldown: int = Field(300_000, ge=0, le=24 * 3_600_000, description="ms below to resolve")
    emails: list[str] = Field(default_factory=list, max_length=50)
    slack_channels: list[str] = Field(default_factory=list, max_length=50)
    webhook_id: str | None = None


class Alert(BaseModel):
    """An alert and its state."""

    id: str
    org_id: str
    name: str
    metric: str
    threshold: Number
    time_window: int
    minimum_request_count: int
    cooldown: int
    emails: list[str]
    slack_channels: list[str]
    webhook_id: str | None
    status: str
    created_at: dt.datetime
    updated_at: dt.datetime


class AlertHistory(BaseModel):
    """One time an alert fired."""

    id: str
    org_id: str
    alert_id: str
    alert_name: str
    alert_metric: str
    triggered_value: Number
    requests: int
    status: str
    alert_start_time: dt.datetime
    alert_end_time: dt.datetime | None
    created_at: dt.datetime


class Alerts(BaseModel):
    """Alerts and their history."""

    alerts: list[Alert]
    history: list[AlertHistory]


def _with_org(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "org_id": row["organization_id"]}


@reads.get("/query", response_model=Result[Alerts])
async def get_alerts(key: ApiKeyDep, store: StoreDep) -> Result[Alerts]:
    """The organization's alerts and their history (newest first)."""
    alerts = await store.org(key.organization_id).read(notifications.list_alerts)
    history = await store.org(key.organization_id).read(notifications.alert_history)
    return Result(
        data=Alerts(
            alerts=[Alert(**_with_org(a)) for a in alerts],
            history=[AlertHistory(**_with_org(h)) for h in history],
        )
    )


@admin.post("/create", response_model=Result[str])
async def create_alert(body: AlertRequest, key: ApiKeyDep, store: StoreDep) -> Result[str]:
    """Create an alert; returns its id. Its webhook, if any, must be the organization's."""
    if body.webhook_id is not None:
        hooks = await store.org(key.organization_id).read(notifications.list_webhooks)
        if body.webhook_id not in {h["id"] for h in hooks}:
            raise NotFound(f"webhook_id: webhook {body.webhook_id} not found")
    return Result(
        data=await store.org(key.organization_id).write(
            notifications.create_alert, body.model_dump()
        )
    )


@admin.delete("/{alertId}", response_model=Result[None])
async def delete_alert(alertId: str, key: ApiKeyDep, store: StoreDep) -> Result[None]:
    """Delete an alert (its history stays)."""
    if not await store.org(key.organization_id).write(notifications.delete_alert, alertId):
        raise NotFound(f"alert {alertId} not found")
    return Result(data=None)
