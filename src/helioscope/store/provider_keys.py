"""Provider keys (as ciphertext) and the proxy keys bound to them, one organization at a time.

Encryption and decryption happen in ``helioscope.vault``: these functions store and return the
ciphertext they are given. Run them with ``store.org(org_id).read/write``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update

from helioscope.store._runner import OrgDb
from helioscope.store.keys import insert_api_key
from helioscope.store.records import KeyChange, StoredProviderKey
from helioscope.store.tables.keys import api_key
from helioscope.store.tables.provider_keys import provider_key as pk
from helioscope.store.tables.provider_keys import proxy_key


def _record(row: dict[str, Any]) -> StoredProviderKey:
    return StoredProviderKey(
        id=row["id"],
        organization_id=row["organization_id"],
        provider_name=row["provider_name"],
        name=row["provider_key_name"],
        encrypted_key=bytes(row["encrypted_key"]),
        config=dict(row["config"] or {}),
        active=bool(row["active"]),
        created_at=row["created_at"],
    )


async def add_key(db: OrgDb, key: StoredProviderKey) -> None:
    """Store a new provider key (``key.organization_id`` must be the runner's)."""
    now = dt.datetime.now(dt.UTC)
    await db.execute(
        pk.insert().values(
            id=key.id,
            organization_id=db.org_id,
            provider_name=key.provider_name,
            provider_key_name=key.name,
            encrypted_key=key.encrypted_key,
            config=key.config,
            active=key.active,
            created_at=now,
            updated_at=now,
        )
    )


async def list_keys(db: OrgDb) -> list[StoredProviderKey]:
    """The organization's provider keys, newest first."""
    stmt = select(pk).where(db.in_org(pk)).order_by(pk.c.created_at.desc(), pk.c.id)
    return [_record(row) for row in await db.rows(stmt)]


async def get_key(db: OrgDb, key_id: str) -> StoredProviderKey | None:
    """One provider key of the organization, or None."""
    row = await db.row(select(pk).where(db.in_org(pk), pk.c.id == key_id))
    return _record(row) if row is not None else None


async def update_key(db: OrgDb, key_id: str, change: KeyChange) -> bool:
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
    stmt = update(pk).where(db.in_org(pk), pk.c.id == key_id).values(**values)
    return await db.execute(stmt) > 0


async def delete_key(db: OrgDb, key_id: str) -> str | None:
    """Delete a provider key and revoke its proxy keys; its provider name, or None."""
    name = await db.scalar(select(pk.c.provider_name).where(db.in_org(pk), pk.c.id == key_id))
    if name is None:
        return None
    bound = select(proxy_key.c.api_key_id).where(
        db.in_org(proxy_key), proxy_key.c.provider_key_id == key_id
    )
    await db.execute(
        update(api_key).where(db.in_org(api_key), api_key.c.id.in_(bound)).values(soft_delete=True)
    )
    await db.execute(proxy_key.delete().where(proxy_key.c.provider_key_id == key_id))
    await db.execute(pk.delete().where(db.in_org(pk), pk.c.id == key_id))
    return str(name)


async def add_proxy_key(
    db: OrgDb, proxy_id: str, provider_key_id: str, name: str, clear_key: str
) -> int:
    """Store a proxy key: a write-scoped Helioscope key bound to a provider key.

    Returns the id of its ``helicone_api_keys`` row. Only the key's hash is stored.
    """
    key_id = await insert_api_key(db, name, "w", clear_key)
    await db.execute(
        proxy_key.insert().values(
            id=proxy_id,
            organization_id=db.org_id,
            api_key_id=key_id,
            provider_key_id=provider_key_id,
            proxy_key_name=name,
            created_at=dt.datetime.now(dt.UTC),
        )
    )
    return key_id


async def proxy_bindings(db: OrgDb) -> dict[int, str]:
    """The organization's proxy keys: Helioscope key id to provider key id."""
    stmt = select(proxy_key.c.api_key_id, proxy_key.c.provider_key_id).where(db.in_org(proxy_key))
    return {int(api_key_id): str(key_id) for api_key_id, key_id in await db.tuples(stmt)}
