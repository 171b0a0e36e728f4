"""The ``Integration`` tag: an organization's integrations, Slack's among them.

An integration is a name and its settings (Helicone's ``integrations``), one of each name per
organization. Helioscope acts on ``slack``: its settings name channels and the incoming-webhook
URL Slack gave for each, which alerts (``slack_channels``) and periodic reports post to (see
``helioscope.ingest.slack`` for the settings' shape); they are checked when stored. Other names
are kept as given, for the clients that store their own.

Settings hold Slack's webhook URLs, which let anyone post to the channel: every route that
returns settings, and every change, needs an ``rw`` key, like webhooks. The channel list (ids and
names only) needs a read key.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from helioscope.api.deps import ApiKeyDep, StoreDep
from helioscope.api.envelope import ERROR_RESPONSES, Result
from helioscope.errors import BadRequest, NotFound
from helioscope.ingest import WebhookDispatcher, check_destination
from helioscope.ingest.slack import SLACK
from helioscope.store import integrations

reads = APIRouter(prefix="/v1/integration", tags=["Integration"], responses=ERROR_RESPONSES)
admin = APIRouter(prefix="/v1/integration", tags=["Integration"], responses=ERROR_RESPONSES)

_NAME_PATTERN = r"^[A-Za-z0-9_.-]+$"


class IntegrationCreateParams(BaseModel):
    """Body of ``POST /v1/integration``."""

    model_config = ConfigDict(extra="forbid")

    integration_name: str = Field(min_length=1, max_length=100, pattern=_NAME_PATTERN)
    settings: Any = None
    active: bool = True


class IntegrationUpdateParams(BaseModel):
    """Body of ``POST /v1/integration/{integrationId}``: what to change."""

    model_config = ConfigDict(extra="forbid")

    integration_name: str | None = Field(None, min_length=1, max_length=100, pattern=_NAME_PATTERN)
    settings: Any = None
    active: bool | None = None


class Integration(BaseModel):
    """An integration (Helicone's ``Integration``)."""

    id: str
    integration_name: str
    settings: Any = None
    active: bool


class Created(BaseModel):
    """The id of what was created."""

    id: str


class SlackChannel(BaseModel):
    """A Slack channel and the incoming-webhook URL Slack gave for it."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=200)
    webhook_url: str = Field(min_length=1, max_length=2000)


class SlackReport(BaseModel):
    """Where and how often the periodic summary goes."""

    model_config = ConfigDict(extra="forbid")

    channel_ids: list[str] = Field(min_length=1, max_length=50)
    interval_hours: float = Field(168, ge=1, le=24 * 31)


class SlackSettings(BaseModel):
    """The settings of the ``slack`` integration."""

    model_config = ConfigDict(extra="forbid")

    channels: list[SlackChannel] = Field(default_factory=list, max_length=100)
    report: SlackReport | None = None


class ChannelRef(BaseModel):
    """A channel as listed: its id and name."""

    id: str
    name: str


def _allow_http_loopback(request: Request) -> bool:
    dispatcher: WebhookDispatcher = request.app.state.services.started.webhooks
    return dispatcher.allow_http_loopback


def _checked(name: str, settings: Any, request: Request) -> Any:
    """``settings`` as stored: a slack integration's are validated, others are kept."""
    if name != SLACK:
        return settings
    try:
        slack = SlackSettings.model_validate(settings if settings is not None else {})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(["settings", *(str(p) for p in first["loc"])])
        raise BadRequest(f"{where}: {first['msg']}") from exc
    loopback = _allow_http_loopback(request)
    for channel in slack.channels:
        try:
            channel.webhook_url = check_destination(channel.webhook_url, loopback)
        except BadRequest as exc:
            raise BadRequest(f"settings.channels[{channel.id}].webhook_url: {exc.message}") from exc
    known = {channel.id for channel in slack.channels}
    if slack.report is not None:
        unknown = [c for c in slack.report.channel_ids if c not in known]
        if unknown:
            raise BadRequest(f"settings.report.channel_ids: no such channel {unknown[0]!r}")
    return slack.model_dump(exclude_none=True)


def _integration(row: dict[str, Any]) -> Integration:
    return Integration(
        id=row["id"],
        integration_name=row["integration_name"],
        settings=row["settings"],
        active=row["active"],
    )


@admin.post("", response_model=Result[Created])
async def create_integration(
    body: IntegrationCreateParams, request: Request, key: ApiKeyDep, store: StoreDep
) -> Result[Created]:
    """Store an integration; one of each name per organization."""
    settings = _checked(body.integration_name, body.settings, request)
    integration_id = await store.org(key.organization_id).write(
        integrations.create_integration, body.integration_name, settings, body.active
    )
    return Result(data=Created(id=integration_id))


@admin.get("", response_model=Result[list[Integration]])
async def get_integrations(key: ApiKeyDep, store: StoreDep) -> Result[list[Integration]]:
    """The organization's integrations, oldest first."""
    rows = await store.org(key.organization_id).read(integrations.list_integrations)
    return Result(data=[_integration(row) for row in rows])


@reads.get("/slack/channels", response_model=Result[list[ChannelRef]])
async def get_slack_channels(key: ApiKeyDep, store: StoreDep) -> Result[list[ChannelRef]]:
    """The Slack channels set up in the slack integration (empty when there is none)."""
    slack = await store.org(key.organization_id).read(integrations.integration_by_name, SLACK)
    channels = (slack or {}).get("settings") or {}
    listed = channels.get("channels", []) if isinstance(channels, dict) else []
    return Result(data=[ChannelRef(id=c["id"], name=c["name"]) for c in listed])


@admin.get("/slack/settings", response_model=Result[Integration])
async def get_slack_settings(key: ApiKeyDep, store: StoreDep) -> Result[Integration]:
    """The slack integration."""
    return await get_integration_by_type(SLACK, key, store)


@admin.get("/type/{type}", response_model=Result[Integration])
async def get_integration_by_type(
    kind: Annotated[str, Path(alias="type")], key: ApiKeyDep, store: StoreDep
) -> Result[Integration]:
    """The organization's integration of that name."""
    row = await store.org(key.organization_id).read(integrations.integration_by_name, kind)
    if row is None:
        raise NotFound(f"no {kind!r} integration")
    return Result(data=_integration(row))


@admin.get("/{integrationId}", response_model=Result[Integration])
async def get_integration(
    integrationId: str, key: ApiKeyDep, store: StoreDep
) -> Result[Integration]:
    """One integration by id."""
    row = await store.org(key.organization_id).read(integrations.get_integration, integrationId)
    if row is None:
        raise NotFound(f"integration {integrationId} not found")
    return Result(data=_integration(row))


@admin.post("/{integrationId}", response_model=Result[None])
async def update_integration(
    integrationId: str,
    body: IntegrationUpdateParams,
    request: Request,
    key: ApiKeyDep,
    store: StoreDep,
) -> Result[None]:
    """Change an integration's name, settings or active flag (only the fields given)."""
    org = store.org(key.organization_id)
    current = await org.read(integrations.get_integration, integrationId)
    if current is None:
        raise NotFound(f"integration {integrationId} not found")
    values = body.model_dump(exclude_unset=True)
    if values.get("integration_name") is None:
        values.pop("integration_name", None)
    if values.get("active") is None:
        values.pop("active", None)
    name = values.get("integration_name", current["integration_name"])
    if "settings" in values or name != current["integration_name"]:
        values["settings"] = _checked(name, values.get("settings", current["settings"]), request)
    if not await org.write(integrations.update_integration, integrationId, values):
        raise NotFound(f"integration {integrationId} not found")
    return Result(data=None)
