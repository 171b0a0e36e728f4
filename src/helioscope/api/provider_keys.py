"""Helicone's provider-key and proxy-key routes of the ``API Key`` tag.

Answered without an envelope, as Helicone does. Every route needs a key with every scope
(``rw``): one of them returns the decrypted key. A proxy key is a write-scoped Helioscope key
bound to one provider key: calls made with it reach the provider with that key.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from helioscope.api.deps import ApiKeyDep, KeyCacheDep
from helioscope.api.envelope import ERROR_RESPONSES
from helioscope.api.vault import KEY_LENGTH, DecryptedProviderKey, VaultDep, decrypted
from helioscope.store import KeyChange

admin = APIRouter(prefix="/v1/api-keys", tags=["API Key"], responses=ERROR_RESPONSES)
Config = dict[str, str]


class CreateProviderKey(BaseModel):
    """Body of ``POST /v1/api-keys/provider-key``."""

    model_config = ConfigDict(extra="ignore")

    providerName: str = Field(min_length=1, max_length=100)
    providerKey: str = KEY_LENGTH
    providerKeyName: str = Field(min_length=1, max_length=200)
    config: Config = Field(default_factory=dict)


class UpdateProviderKey(BaseModel):
    """Body of ``PATCH /v1/api-keys/provider-key/{providerKeyId}``."""

    model_config = ConfigDict(extra="ignore")

    providerKey: str | None = Field(default=None, min_length=1, max_length=10_000)
    config: Config | None = None


class CreateProxyKey(BaseModel):
    """Body of ``POST /v1/api-keys/proxy-key``."""

    providerKeyId: str = Field(min_length=1, max_length=36)
    proxyKeyName: str = Field(min_length=1, max_length=200)


class ProviderKeyRow(BaseModel):
    """A provider key as listed: never the key itself."""

    id: str
    org_id: str
    provider_name: str
    provider_key_name: str
    created_at: dt.datetime | None
    soft_delete: bool = False
    config: Config
    cuid: str
    byok_enabled: bool


class IdOnly(BaseModel):
    """``{id}``."""

    id: str


class DeletedKey(BaseModel):
    """What deleting a provider key answers."""

    id: str
    providerName: str


class ProxyKey(BaseModel):
    """A proxy key just made: the clear key appears here once."""

    proxyKeyId: str
    proxyKey: str


@admin.get("/provider-keys", response_model=list[ProviderKeyRow])
async def get_provider_keys(key: ApiKeyDep, vault: VaultDep) -> list[ProviderKeyRow]:
    """The organization's provider keys, newest first (without the keys)."""
    return [
        ProviderKeyRow(
            id=row.id,
            org_id=row.organization_id,
            provider_name=row.provider_name,
            provider_key_name=row.name,
            created_at=row.created_at,
            config=row.config,
            cuid=row.id,
            byok_enabled=row.active,
        )
        for row in await vault.stored(key.organization_id)
    ]


@admin.post("/provider-key", response_model=IdOnly)
async def create_provider_key(body: CreateProviderKey, key: ApiKeyDep, vault: VaultDep) -> IdOnly:
    """Store a provider key, encrypted."""
    key_id = await vault.add(
        key.organization_id, body.providerName, body.providerKeyName, body.providerKey, body.config
    )
    return IdOnly(id=key_id)


@admin.get("/provider-key/{providerKeyId}", response_model=DecryptedProviderKey)
async def get_provider_key(
    providerKeyId: str, key: ApiKeyDep, vault: VaultDep
) -> DecryptedProviderKey:
    """One provider key, decrypted."""
    return decrypted(vault, await vault.get(key.organization_id, providerKeyId))


@admin.patch("/provider-key/{providerKeyId}", response_model=IdOnly)
async def update_provider_key(
    providerKeyId: str, body: UpdateProviderKey, key: ApiKeyDep, vault: VaultDep
) -> IdOnly:
    """Replace the key or its config."""
    change = KeyChange(config=body.config)
    await vault.update(key.organization_id, providerKeyId, change, body.providerKey)
    return IdOnly(id=providerKeyId)


@admin.delete("/provider-key/{providerKeyId}", response_model=DeletedKey)
async def delete_provider_key(
    providerKeyId: str, key: ApiKeyDep, vault: VaultDep, keys: KeyCacheDep
) -> DeletedKey:
    """Delete a provider key; the proxy keys bound to it stop working."""
    provider = await vault.delete(key.organization_id, providerKeyId)
    keys.invalidate()
    return DeletedKey(id=providerKeyId, providerName=provider)


@admin.post("/proxy-key", response_model=ProxyKey)
async def create_proxy_key(body: CreateProxyKey, key: ApiKeyDep, vault: VaultDep) -> ProxyKey:
    """A Helioscope key bound to one provider key (shown once)."""
    proxy_id, clear = await vault.create_proxy_key(
        key.organization_id, body.providerKeyId, body.proxyKeyName
    )
    return ProxyKey(proxyKeyId=proxy_id, proxyKey=clear)
