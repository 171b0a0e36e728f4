"""The ``API Key`` tag: the organization's keys, listed, created, renamed and revoked.

A key's scope is Helicone's ``key_permissions``, ``rw`` (the default), ``r`` or ``w``: what each
allows is in ``helioscope.api.access``.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from helioscope.api._fields import IntPath
from helioscope.api.deps import ApiKeyDep, KeyCacheDep, StoreDep
from helioscope.api.envelope import ERROR_RESPONSES, Result
from helioscope.errors import NotFound
from helioscope.store import hash_api_key, keys

admin = APIRouter(prefix="/v1/api-keys", tags=["API Key"], responses=ERROR_RESPONSES)


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
    """A key as Helicone lists it: ``api_key_hash`` is the stored SHA-256, never the key.

    Helioscope has no user accounts, temporary keys or key governance: ``user_id`` is empty and
    ``temp_key`` and ``governance`` are false.
    """

    id: int
    api_key_hash: str
    api_key_name: str
    key_permissions: str
    created_at: dt.datetime
    organization_id: str
    soft_delete: bool = False
    user_id: str = ""
    temp_key: bool = False
    governance: bool = False


@admin.get("", response_model=Result[list[ApiKeyRow]])
@admin.get("/", response_model=Result[list[ApiKeyRow]], include_in_schema=False)
async def get_api_keys(key: ApiKeyDep, store: StoreDep) -> Result[list[ApiKeyRow]]:
    """The organization's live keys."""
    rows = await store.org(key.organization_id).read(keys.list_api_keys)
    return Result(data=[ApiKeyRow(**row) for row in rows])


@admin.post("", response_model=CreatedKey)
@admin.post("/", response_model=CreatedKey, include_in_schema=False)
async def create_api_key(
    body: CreateKeyBody, key: ApiKeyDep, store: StoreDep, key_cache: KeyCacheDep
) -> CreatedKey:
    """Create a key with a scope; Helicone answers ``{id, apiKey}`` without an envelope."""
    new = await store.org(key.organization_id).write(
        keys.create_api_key, body.api_key_name, body.key_permissions
    )
    key_cache.invalidate(hash_api_key(new.key))  # were it remembered as unknown
    return CreatedKey(id=str(new.id), apiKey=new.key)


class ChangedKey(BaseModel):
    """What Helicone's server answers for a renamed or revoked key: its stored hash, bare."""

    hashedKey: str


@admin.patch("/{apiKeyId}", response_model=ChangedKey)
async def update_api_key(
    apiKeyId: IntPath, body: RenameKeyBody, key: ApiKeyDep, store: StoreDep, key_cache: KeyCacheDep
) -> ChangedKey:
    """Rename a key."""
    hashed = await store.org(key.organization_id).write(
        keys.rename_api_key, apiKeyId, body.api_key_name
    )
    if hashed is None:
        raise NotFound(f"API key {apiKeyId} not found")
    key_cache.invalidate(hashed)
    return ChangedKey(hashedKey=hashed)


@admin.delete("/{apiKeyId}", response_model=ChangedKey)
async def delete_api_key(
    apiKeyId: IntPath, key: ApiKeyDep, store: StoreDep, key_cache: KeyCacheDep
) -> ChangedKey:
    """Revoke a key: it stops working at once in this process (within 30 s in others)."""
    hashed = await store.org(key.organization_id).write(keys.delete_api_key, apiKeyId)
    if hashed is None:
        raise NotFound(f"API key {apiKeyId} not found")
    key_cache.invalidate(hashed, revoked=True)
    return ChangedKey(hashedKey=hashed)
