"""The ``Vault`` tag: provider keys, stored encrypted, returned decrypted to all-scopes keys.

Every route needs a key with every scope (``rw``): these answer clear provider keys, as
Helicone's do. Storing a key needs the server's ``HELIOSCOPE_SECRET_KEY`` (a 503 says so).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from helioscope.api.deps import ApiKeyDep
from helioscope.api.envelope import ERROR_RESPONSES, Result
from helioscope.store import KeyChange, StoredProviderKey
from helioscope.vault import Vault

admin = APIRouter(prefix="/v1/vault", tags=["Vault"], responses=ERROR_RESPONSES)


async def get_vault(request: Request) -> Vault:
    """The vault of the running app."""
    vault: Vault = request.app.state.services.vault
    return vault


VaultDep = Annotated[Vault, Depends(get_vault)]
KEY_LENGTH = Field(min_length=1, max_length=10_000)


class AddVaultKeyParams(BaseModel):
    """Body of ``POST /v1/vault/add`` (Helicone's ``AddVaultKeyParams``)."""

    model_config = ConfigDict(extra="forbid")

    key: str = KEY_LENGTH
    provider: str = Field(min_length=1, max_length=100)
    name: str | None = Field(default=None, max_length=200)


class UpdateVaultKey(BaseModel):
    """Body of ``PATCH /v1/vault/update/{id}``."""

    key: str | None = Field(default=None, min_length=1, max_length=10_000)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    active: bool | None = None


class KeyId(BaseModel):
    """``{id}`` of a key just stored."""

    id: str


class DecryptedProviderKey(BaseModel):
    """Helicone's ``DecryptedProviderKey``; ``provider_key`` is null when it cannot decrypt."""

    id: str | None
    org_id: str | None
    provider_key: str | None
    provider_name: str | None
    provider_key_name: str | None


def decrypted(vault: Vault, stored: StoredProviderKey) -> DecryptedProviderKey:
    """A stored key as Helicone answers it (decrypted)."""
    return DecryptedProviderKey(
        id=stored.id,
        org_id=stored.organization_id,
        provider_key=vault.clear_key(stored),
        provider_name=stored.provider_name,
        provider_key_name=stored.name,
    )


@admin.post("/add", response_model=Result[KeyId])
async def add_key(body: AddVaultKeyParams, key: ApiKeyDep, vault: VaultDep) -> Result[KeyId]:
    """Store a provider key, encrypted; its id."""
    name = body.name or f"{body.provider} key"
    key_id = await vault.add(key.organization_id, body.provider, name, body.key, {})
    return Result(data=KeyId(id=key_id))


@admin.get("/keys", response_model=Result[list[DecryptedProviderKey]])
async def get_keys(key: ApiKeyDep, vault: VaultDep) -> Result[list[DecryptedProviderKey]]:
    """The organization's provider keys, decrypted."""
    stored = await vault.stored(key.organization_id)
    return Result(data=[decrypted(vault, row) for row in stored])


@admin.get("/key/{providerKeyId}", response_model=Result[DecryptedProviderKey])
async def get_key(
    providerKeyId: str, key: ApiKeyDep, vault: VaultDep
) -> Result[DecryptedProviderKey]:
    """One provider key, decrypted (404 for another organization's: no existence oracle)."""
    return Result(data=decrypted(vault, await vault.get(key.organization_id, providerKeyId)))


@admin.patch("/update/{id}", response_model=Result[None])
async def update_key(
    id: str, body: UpdateVaultKey, key: ApiKeyDep, vault: VaultDep
) -> Result[None]:
    """Replace the key, rename it, or turn it on or off."""
    await vault.update(
        key.organization_id, id, KeyChange(name=body.name, active=body.active), body.key
    )
    return Result(data=None)
