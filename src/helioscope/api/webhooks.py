"""The ``Webhook`` tag: where every logged call is POSTed, signed."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from helioscope.api.deps import ApiKeyDep, StoreDep
from helioscope.api.envelope import ERROR_RESPONSES, Result
from helioscope.errors import NotFound
from helioscope.ingest import WebhookDispatcher, check_destination
from helioscope.store import notifications

admin = APIRouter(prefix="/v1/webhooks", tags=["Webhook"], responses=ERROR_RESPONSES)


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


@admin.post("", response_model=Result[Created])
async def create_webhook(
    body: WebhookData, request: Request, key: ApiKeyDep, store: StoreDep
) -> Result[Created]:
    """Add a destination; every call logged from now on is POSTed to it, signed."""
    dispatcher = _dispatcher(request)
    destination = check_destination(body.destination, dispatcher.allow_http_loopback)
    await dispatcher.vet(destination)
    config = body.config.model_dump()
    if body.includeData is not None:
        config["includeData"] = body.includeData
    row = await store.org(key.organization_id).write(
        notifications.create_webhook, destination, config
    )
    dispatcher.invalidate()
    return Result(data=Created(id=row["id"]))


@admin.get("", response_model=Result[list[WebhookRow]])
async def get_webhooks(key: ApiKeyDep, store: StoreDep) -> Result[list[WebhookRow]]:
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


@admin.delete("/{webhookId}", response_model=Result[None])
async def delete_webhook(
    webhookId: str, request: Request, key: ApiKeyDep, store: StoreDep
) -> Result[None]:
    """Remove a webhook."""
    if not await store.org(key.organization_id).write(notifications.delete_webhook, webhookId):
        raise NotFound(f"webhook {webhookId} not found")
    _dispatcher(request).invalidate()
    return Result(data=None)


@admin.post("/{webhookId}/test", response_model=Result[None])
async def test_webhook(
    webhookId: str, request: Request, key: ApiKeyDep, store: StoreDep
) -> Result[None]:
    """Send a signed sample call to a webhook (delivered in the background)."""
    hooks = await store.org(key.organization_id).read(notifications.list_webhooks)
    hook = next((h for h in hooks if h["id"] == webhookId), None)
    if hook is None:
        raise NotFound(f"webhook {webhookId} not found")
    # Refused here with a 403 naming the address, not only in the background delivery (a
    # webhook stored before the policy, or whose name now resolves elsewhere).
    await _dispatcher(request).vet(hook["destination"])
    sample = {
        "request_id": "00000000-0000-4000-8000-000000000000",
        "request_body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
        "response_body": {"choices": [{"message": {"role": "assistant", "content": "hello"}}]},
        "test": True,
    }
    _dispatcher(request).send(hook, sample)
    return Result(data=None)
