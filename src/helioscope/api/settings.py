"""The ``Settings`` and ``API Key`` tags: organization settings and key management.

A key created without a scope can do everything (``rw``); ``w`` can proxy and log but not read
the API; ``r`` can read the API but not proxy or log. Managing keys needs a ``rw`` key.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from helioscope.api.deps import AdminKeyDep, ApiKeyDep, KeyCacheDep, StoreDep
from helioscope.api.envelope import ERROR_RESPONSES, Result
from helioscope.errors import NotFound
from helioscope.store import keys

settings_router = APIRouter(prefix="/v1/settings", tags=["Settings"], responses=ERROR_RESPONSES)
keys_router = APIRouter(prefix="/v1/api-keys", tags=["API Key"], responses=ERROR_RESPONSES)


class OrgSettings(BaseModel):
    """What Helicone's settings route answers."""

    useAzureForExperiment: bool = False


@settings_router.get("/query", response_model=OrgSettings)
async def get_settings(key: ApiKeyDep) -> OrgSettings:
    """The organization's settings (Helicone answers this object without an envelope)."""
    return OrgSettings()


class CreateKeyBody(BaseModel):
    """Body of ``POST /v1/api-keys``."""

    api_key_name: str = Field(min_length=1, max_length=200)
    key_permissions: Literal["rw", "r", "w"] = "rw"


class RenameKeyBody(BaseModel):
    """Body of ``PATCH /v1/api-keys/{apiKeyId}``."""

    api_key_name: str = Field(min_length=1, max_length=200)


class CreatedKey(BaseModel):
    """A key just created: the clear key appears here once and is never stored."""

    id: str
    apiKey: str


class ApiKeyRow(BaseModel):
    """A key as listed (its hash is never returned)."""

    id: int
    api_key_name: str
    key_permissions: str
    created_at: dt.datetime
    organization_id: str
    soft_delete: bool = False


@keys_router.get("", response_model=Result[list[ApiKeyRow]])
@keys_router.get("/", response_model=Result[list[ApiKeyRow]], include_in_schema=False)
async def get_api_keys(key: AdminKeyDep, store: StoreDep) -> Result[list[ApiKeyRow]]:
    """The organization's live keys."""
    rows = await store.org(key.organization_id).read(keys.list_api_keys)
    return Result(data=[ApiKeyRow(**row) for row in rows])


@keys_router.post("", response_model=CreatedKey)
@keys_router.post("/", response_model=CreatedKey, include_in_schema=False)
async def create_api_key(
    body: CreateKeyBody, key: AdminKeyDep, store: StoreDep, key_cache: KeyCacheDep
) -> CreatedKey:
    """Create a key with a scope; Helicone answers ``{id, apiKey}`` without an envelope."""
    new = await store.org(key.organization_id).write(
        keys.create_api_key, body.api_key_name, body.key_permissions
    )
    key_cache.invalidate()
    return CreatedKey(id=str(new.id), apiKey=new.key)


@keys_router.patch("/{apiKeyId}", response_model=Result[None])
async def update_api_key(
    apiKeyId: int, body: RenameKeyBody, key: AdminKeyDep, store: StoreDep, key_cache: KeyCacheDep
) -> Result[None]:
    """Rename a key."""
    if not await store.org(key.organization_id).write(
        keys.rename_api_key, apiKeyId, body.api_key_name
    ):
        raise NotFound(f"API key {apiKeyId} not found")
    key_cache.invalidate()
    return Result(data=None)


@keys_router.delete("/{apiKeyId}", response_model=Result[None])
async def delete_api_key(
    apiKeyId: int, key: AdminKeyDep, store: StoreDep, key_cache: KeyCacheDep
) -> Result[None]:
    """Revoke a key: it stops working at once in this process (within 30 s in others)."""
    if not await store.org(key.organization_id).write(keys.delete_api_key, apiKeyId):
        raise NotFound(f"API key {apiKeyId} not found")
    key_cache.invalidate()
    return Result(data=None)
