"""The ``Webhook`` and ``Alert`` tags: where logged calls are POSTed, and threshold alerts.

Managing them, and listing webhooks (which shows their signing keys), needs a key with every
scope (``rw``); listing alerts needs read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import orjson
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from helioscope.api._fields import Number
from helioscope.api.deps import AdminKeyDep, ApiKeyDep, LogKeyDep, StoreDep
from helioscope.api.envelope import ERROR_RESPONSES, Result
from helioscope.api.request import ScoreRequest, score_values
from helioscope.errors import NotFound
from helioscope.ingest import WebhookDispatcher, check_destination
from helioscope.store import notifications
from helioscope.store.log import requests

webhooks_router = APIRouter(prefix="/v1/webhooks", tags=["Webhook"], responses=ERROR_RESPONSES)
alerts_router = APIRouter(prefix="/v1/alert", tags=["Alert"], responses=ERROR_RESPONSES)
# Helicone's public `Webhook` tag: where an evaluating webhook receiver posts scores back.
score_router = APIRouter(prefix="/v1/webhook", tags=["Webhook"], responses=ERROR_RESPONSES)


@score_router.post("/request/{requestId}/score", status_code=201, response_model=Result[None])
async def add_webhook_scores(
    requestId: str, body: ScoreRequest, key: LogKeyDep, store: StoreDep
) -> Result[None]:
    """Attach scores to a request, as ``POST /v1/request/{requestId}/score`` does."""
    await store.log.org(key.organization_id).write(
        requests.add_scores, requestId, score_values(body.scores)
    )
    return Result(data=None)


def _dispatcher(request: Request) -> WebhookDispatcher:
    dispatcher: WebhookDispatcher = request.app.state.services.started.webhooks
    return dispatcher


class PropertyFilter(BaseModel):
    """Only calls whose property ``key`` equals ``value`` are sent."""

    key: str = Field(min_length=1, max_length=400)
    value: str


class WebhookConfig(BaseModel):
    """A webhook's ``config``: sample rate (percent), property filters, whether to add data."""

    model_config = ConfigDict(extra="allow")

    sampleRate: float = Field(100, ge=0, le=100)
    propertyFilters: list[PropertyFilter] = Field(default_factory=list, max_length=50)
    includeData: bool = True


class WebhookData(BaseModel):
    """Body of ``POST /v1/webhooks``."""

    destination: str = Field(min_length=1, max_length=2000)
    config: WebhookConfig = Field(default_factory=lambda: WebhookConfig.model_validate({}))
    includeData: bool | None = None


class WebhookRow(BaseModel):
    """A webhook as listed; ``config`` is JSON text, as in Helicone."""

    id: str
    created_at: str
    destination: str
    version: str
    config: str
    hmac_key: str


class Created(BaseModel):
    """The id of what was created."""

    id: str


@webhooks_router.post("", response_model=Result[Created])
async def create_webhook(
    body: WebhookData, request: Request, key: AdminKeyDep, store: StoreDep
) -> Result[Created]:
    """Add a destination; every call logged from now on is POSTed to it, signed."""
    dispatcher = _dispatcher(request)
    destination = check_destination(body.destination, dispatcher.allow_http_loopback)
    config = body.config.model_dump()
    if body.includeData is not None:
        config["includeData"] = body.includeData
    row = await store.org(key.organization_id).write(
        notifications.create_webhook, destination, config
    )
    dispatcher.invalidate()
    return Result(data=Created(id=row["id"]))


@webhooks_router.get("", response_model=Result[list[WebhookRow]])
async def get_webhooks(key: AdminKeyDep, store: StoreDep) -> Result[list[WebhookRow]]:
    """The organization's webhooks, with their signing keys."""
    rows = await store.org(key.organization_id).read(notifications.list_webhooks)
    return Result(
        data=[
            WebhookRow(
                id=r["id"],
                created_at=r["created_at"].isoformat(),
                destination=r["destination"],
                version=r["version"],
                config=orjson.dumps(r["config"]).decode(),
                hmac_key=r["hmac_key"],
            )
            for r in rows
        ]
    )


@webhooks_router.delete("/{webhookId}", response_model=Result[None])
async def delete_webhook(
    webhookId: str, request: Request, key: AdminKeyDep, store: StoreDep
) -> Result[None]:
    """Remove a webhook."""
    if not await store.org(key.organization_id).write(notifications.delete_webhook, webhookId):
        raise NotFound(f"webhook {webhookId} not found")
    _dispatcher(request).invalidate()
    return Result(data=None)


@webhooks_router.post("/{webhookId}/test", response_model=Result[None])
async def test_webhook(
    webhookId: str, request: Request, key: AdminKeyDep, store: StoreDep
) -> Result[None]:
    """Send a signed sample call to a webhook (delivered in the background)."""
    hooks = await store.org(key.organization_id).read(notifications.list_webhooks)
    hook = next((h for h in hooks if h["id"] == webhookId), None)
    if hook is None:
        raise NotFound(f"webhook {webhookId} not found")
    sample = {
        "request_id": "00000000-0000-4000-8000-000000000000",
        "request_body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
        "response_body": {"choices": [{"message": {"role": "assistant", "content": "hello"}}]},
        "test": True,
    }
    _dispatcher(request).send(hook, sample)
    return Result(data=None)


class AlertRequest(BaseModel):
    """Body of ``POST /v1/alert/create`` (Helicone's ``AlertRequest``, plus a webhook)."""

    name: str = Field(min_length=1, max_length=200)
    metric: Literal["response.status", "cost"]
    threshold: float = Field(ge=0)
    time_window: int = Field(ge=60_000, le=31 * 24 * 3_600_000, description="ms")
    minimum_request_count: int = Field(0, ge=0)
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


@alerts_router.get("/query", response_model=Result[Alerts])
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


@alerts_router.post("/create", response_model=Result[str])
async def create_alert(body: AlertRequest, key: AdminKeyDep, store: StoreDep) -> Result[str]:
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


@alerts_router.delete("/{alertId}", response_model=Result[None])
async def delete_alert(alertId: str, key: AdminKeyDep, store: StoreDep) -> Result[None]:
    """Delete an alert (its history stays)."""
    if not await store.org(key.organization_id).write(notifications.delete_alert, alertId):
        raise NotFound(f"alert {alertId} not found")
    return Result(data=None)
