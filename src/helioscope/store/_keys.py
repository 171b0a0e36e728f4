"""Organizations and API keys."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from helioscope.store._schema import api_key, organization
from helioscope.store.records import ApiKey, NewApiKey, Organization

KEY_PREFIX = "sk-helicone-"


def hash_api_key(key: str) -> str:
    """SHA-256 hex digest of a clear API key: the only form the store keeps."""
    return hashlib.sha256(key.encode()).hexdigest()


def generate_api_key() -> str:
    """A new key in Helicone's ``sk-helicone-xxxxxxx-xxxxxxx-xxxxxxx-xxxxxxx`` shape."""
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    groups = ("".join(secrets.choice(alphabet) for _ in range(7)) for _ in range(4))
    return KEY_PREFIX + "-".join(groups)


async def get_or_create_org(conn: AsyncConnection, name: str) -> Organization:
    """The organization called ``name``, created if it does not exist."""
    row = (await conn.execute(select(organization).where(organization.c.name == name))).first()
    if row is not None:
        return Organization(id=row.id, name=row.name, created_at=row.created_at)
    org = Organization(id=str(uuid.uuid4()), name=name, created_at=dt.datetime.now(dt.UTC))
    await conn.execute(
        organization.insert().values(id=org.id, name=org.name, created_at=org.created_at)
    )
    return org


async def count_orgs(conn: AsyncConnection) -> int:
    """How many organizations exist."""
    return int((await conn.execute(select(func.count()).select_from(organization))).scalar_one())


async def insert_api_key(
    conn: AsyncConnection, org_id: str, name: str, permissions: str, key: str
) -> int:
    """Store the hash of ``key``; its id."""
    result = await conn.execute(
        api_key.insert()
        .values(
            api_key_hash=hash_api_key(key),
            api_key_name=name,
            organization_id=org_id,
            key_permissions=permissions,
            created_at=dt.datetime.now(dt.UTC),
        )
        .returning(api_key.c.id)
    )
    return int(result.scalar_one())


async def create_api_key(
    conn: AsyncConnection, org_id: str, name: str, permissions: str
) -> NewApiKey:
    """Store the hash of a fresh key and return the clear key (the only time it exists)."""
    key = generate_api_key()
    key_id = await insert_api_key(conn, org_id, name, permissions, key)
    return NewApiKey(id=key_id, organization_id=org_id, key=key)


async def find_api_key(conn: AsyncConnection, key_hash: str) -> ApiKey | None:
    """The live key with this hash, or None."""
    row = (
        await conn.execute(
            select(api_key).where(api_key.c.api_key_hash == key_hash, ~api_key.c.soft_delete)
        )
    ).first()
    if row is None:
        return None
    return ApiKey(
        id=row.id,
        organization_id=row.organization_id,
        name=row.api_key_name,
        permissions=row.key_permissions,
    )


async def list_api_keys(conn: AsyncConnection, org_id: str) -> list[dict[str, Any]]:
    """The organization's live keys (never their hashes), oldest first."""
    stmt = (
        select(
            api_key.c.id,
            api_key.c.api_key_name,
            api_key.c.key_permissions,
            api_key.c.created_at,
            api_key.c.organization_id,
        )
        .where(api_key.c.organization_id == org_id, ~api_key.c.soft_delete)
        .order_by(api_key.c.id)
    )
    return [dict(row._mapping) for row in await conn.execute(stmt)]


async def rename_api_key(conn: AsyncConnection, org_id: str, key_id: int, name: str) -> bool:
    """Rename a live key of the organization; False when there is none with that id."""
    result = await conn.execute(
        update(api_key)
        .where(api_key.c.id == key_id, api_key.c.organization_id == org_id, ~api_key.c.soft_delete)
        .values(api_key_name=name)
    )
    return result.rowcount > 0


async def delete_api_key(conn: AsyncConnection, org_id: str, key_id: int) -> bool:
    """Revoke (soft-delete) a key of the organization; False when there is none with that id."""
    result = await conn.execute(
        update(api_key)
        .where(api_key.c.id == key_id, api_key.c.organization_id == org_id, ~api_key.c.soft_delete)
        .values(soft_delete=True)
    )
    return result.rowcount > 0
