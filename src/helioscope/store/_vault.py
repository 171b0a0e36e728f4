"""``store.vault``: provider keys as ciphertext, and proxy keys.

Encryption and decryption happen in ``helioscope.vault``; this module stores and returns the
ciphertext it is given. Every read and write is scoped to one organization.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from helioscope.store._keys import insert_api_key
from helioscope.store._schema import api_key
from helioscope.store._schema_vault import provider_key as pk
from helioscope.store._schema_vault import proxy_key


@dataclass(frozen=True, slots=True)
class StoredProviderKey:
    """A provider key as stored: its ciphertext, never the key."""

    id: str
    organization_id: str
    provider_name: str
    name: str
    encrypted_key: bytes
    config: dict[str, str] = field(default_factory=dict)
    active: bool = True
    created_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class KeyChange:
    """What ``PATCH`` changes on a provider key; None leaves a field as it is."""

    name: str | None = None
    encrypted_key: bytes | None = None
    config: dict[str, str] | None = None
    active: bool | None = None


def _record(row: Row[Any]) -> StoredProviderKey:
    return StoredProviderKey(
        id=row.id,
        organization_id=row.organization_id,
        provider_name=row.provider_name,
        name=row.provider_key_name,
        encrypted_key=bytes(row.encrypted_key),
        config=dict(row.config or {}),
        active=bool(row.active),
        created_at=row.created_at,
    )


async def _revoke_proxy_keys(conn: AsyncConnection, org_id: str, key_id: str) -> None:
    """Revoke the Helioscope keys bound to a provider key that is going away."""
    bound = select(proxy_key.c.api_key_id).where(
        proxy_key.c.organization_id == org_id, proxy_key.c.provider_key_id == key_id
    )
    await conn.execute(
        update(api_key)
        .where(api_key.c.organization_id == org_id, api_key.c.id.in_(bound))
        .values(soft_delete=True)
    )


class VaultStore:
    """Provider keys and proxy keys of every organization, one organization at a time."""

    def __init__(self, engine: AsyncEngine, writer_engine: AsyncEngine) -> None:
        self._engine = engine
        self._writer = writer_engine

    async def add(self, key: StoredProviderKey) -> None:
        """Store a new provider key."""
        now = dt.datetime.now(dt.UTC)
        async with self._writer.begin() as conn:
            await conn.execute(
                pk.insert().values(
                    id=key.id,
                    organization_id=key.organization_id,
                    provider_name=key.provider_name,
                    provider_key_name=key.name,
                    encrypted_key=key.encrypted_key,
                    config=key.config,
                    active=key.active,
                    created_at=now,
                    updated_at=now,
                )
            )

    async def list(self, org_id: str) -> list[StoredProviderKey]:
        """The organization's provider keys, newest first."""
        stmt = select(pk).where(pk.c.organization_id == org_id).order_by(pk.c.created_at.desc())
        async with self._engine.connect() as conn:
            return [_record(row) for row in await conn.execute(stmt)]

    async def get(self, org_id: str, key_id: str) -> StoredProviderKey | None:
        """One provider key of the organization, or None."""
        stmt = select(pk).where(pk.c.organization_id == org_id, pk.c.id == key_id)
        async with self._engine.connect() as conn:
            row = (await conn.execute(stmt)).first()
        return _record(row) if row is not None else None

    async def update(self, org_id: str, key_id: str, change: KeyChange) -> bool:
        """Apply ``change``; False when the organization has no such key."""
        values: dict[str, Any] = {"updated_at": dt.datetime.now(dt.UTC)}
        for column, value in (
            ("provider_key_name", change.name),
            ("encrypted_key", change.encrypted_key),
            ("config", change.config),
            ("active", change.active),
        ):
            if value is not None:
                values[column] = value
        stmt = update(pk).where(pk.c.organization_id == org_id, pk.c.id == key_id).values(**values)
        async with self._writer.begin() as conn:
            return (await conn.execute(stmt)).rowcount > 0

    async def delete(self, org_id: str, key_id: str) -> str | None:
        """Delete a provider key (and revoke its proxy keys); its provider name, or None."""
        async with self._writer.begin() as conn:
            found = (
                await conn.execute(
                    select(pk.c.provider_name).where(
                        pk.c.organization_id == org_id, pk.c.id == key_id
                    )
                )
            ).first()
            if found is None:
                return None
            await _revoke_proxy_keys(conn, org_id, key_id)
            await conn.execute(delete(proxy_key).where(proxy_key.c.provider_key_id == key_id))
            await conn.execute(delete(pk).where(pk.c.organization_id == org_id, pk.c.id == key_id))
        return str(found.provider_name)

    async def add_proxy_key(
        self, org_id: str, proxy_id: str, provider_key_id: str, name: str, clear_key: str
    ) -> int:
        """Store a proxy key: a write-scoped Helioscope key bound to a provider key.

        Returns the id of its ``helicone_api_keys`` row. Only the key's hash is stored.
        """
        async with self._writer.begin() as conn:
            key_id = await insert_api_key(conn, org_id, name, "w", clear_key)
            await conn.execute(
                proxy_key.insert().values(
                    id=proxy_id,
                    organization_id=org_id,
                    api_key_id=key_id,
                    provider_key_id=provider_key_id,
                    proxy_key_name=name,
                    created_at=dt.datetime.now(dt.UTC),
                )
            )
        return key_id

    async def proxy_bindings(self, org_id: str) -> dict[int, str]:
        """The organization's proxy keys: Helioscope key id to provider key id."""
        stmt = select(proxy_key.c.api_key_id, proxy_key.c.provider_key_id).where(
            proxy_key.c.organization_id == org_id
        )
        async with self._engine.connect() as conn:
            return {row.api_key_id: row.provider_key_id for row in await conn.execute(stmt)}
