"""Organizations and API keys (only hashes are kept)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from typing import Any

from sqlalchemy import delete, func, select, update

from helioscope.store._runner import Db, OrgDb
from helioscope.store.records import ApiKey, NewApiKey, Organization
from helioscope.store.tables.keys import api_key, organization

KEY_PREFIX = "sk-helicone-"


def hash_api_key(key: str) -> str:
    """SHA-256 hex digest of a clear API key: the only form the store keeps."""
    return hashlib.sha256(key.encode()).hexdigest()


def generate_api_key() -> str:
    """A new key in Helicone's ``sk-helicone-xxxxxxx-xxxxxxx-xxxxxxx-xxxxxxx`` shape."""
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    groups = ("".join(secrets.choice(alphabet) for _ in range(7)) for _ in range(4))
    return KEY_PREFIX + "-".join(groups)


async def get_or_create_org(db: Db, name: str) -> Organization:
    """The organization called ``name``, created if it does not exist (a write)."""
    row = await db.row(select(organization).where(organization.c.name == name))
    if row is not None:
        return Organization(id=row["id"], name=row["name"], created_at=row["created_at"])
    org = Organization(id=str(uuid.uuid4()), name=name, created_at=dt.datetime.now(dt.UTC))
    await db.execute(
        organization.insert().values(id=org.id, name=org.name, created_at=org.created_at)
    )
    return org


async def list_orgs(db: Db) -> list[Organization]:
    """Every organization, oldest first."""
    stmt = select(organization).order_by(organization.c.created_at, organization.c.id)
    return [
        Organization(id=row["id"], name=row["name"], created_at=row["created_at"])
        for row in await db.rows(stmt)
    ]


async def count_orgs(db: Db) -> int:
    """How many organizations exist."""
    return int(await db.scalar(select(func.count()).select_from(organization)))


async def create_first_org(db: Db, name: str, key_name: str) -> NewApiKey | None:
    """On a store without organizations, create ``name`` and a key for it; else None (a write)."""
    if await count_orgs(db) > 0:
        return None
    org = await get_or_create_org(db, name)
    return await create_api_key(db.for_org(org.id), key_name)


async def insert_api_key(db: OrgDb, name: str, permissions: str, key: str) -> int:
    """Store the hash of ``key`` (made by the caller: a fresh key, or a proxy key); its id."""
    key_id = await db.scalar(
        api_key.insert()
        .values(
            api_key_hash=hash_api_key(key),
            api_key_name=name,
            organization_id=db.org_id,
            key_permissions=permissions,
            created_at=dt.datetime.now(dt.UTC),
        )
        .returning(api_key.c.id)
    )
    return int(key_id)


async def create_api_key(db: OrgDb, name: str = "default", permissions: str = "rw") -> NewApiKey:
    """Store the hash of a fresh key; the clear key is in the result and nowhere else."""
    key = generate_api_key()
    key_id = await insert_api_key(db, name, permissions, key)
    return NewApiKey(id=key_id, organization_id=db.org_id, key=key)


async def find_api_key(db: Db, key_hash: str) -> ApiKey | None:
    """The live key with this SHA-256 hash, or None."""
    row = await db.row(
        select(api_key).where(api_key.c.api_key_hash == key_hash, ~api_key.c.soft_delete)
    )
    if row is None:
        return None
    return ApiKey(
        id=row["id"],
        organization_id=row["organization_id"],
        name=row["api_key_name"],
        permissions=row["key_permissions"],
    )


async def find_api_keys(db: Db, key_hashes: list[str]) -> dict[str, ApiKey]:
    """The live keys among these SHA-256 hashes, by hash (a revoked or unknown one is absent)."""
    found: dict[str, ApiKey] = {}
    for start in range(0, len(key_hashes), _HASHES_PER_QUERY):
        rows = await db.rows(
            select(api_key).where(
                api_key.c.api_key_hash.in_(key_hashes[start : start + _HASHES_PER_QUERY]),
                ~api_key.c.soft_delete,
            )
        )
        for row in rows:
            found[row["api_key_hash"]] = ApiKey(
                id=row["id"],
                organization_id=row["organization_id"],
                name=row["api_key_name"],
                permissions=row["key_permissions"],
            )
    return found


# Hashes per query: well under both engines' limit of bound parameters per statement.
_HASHES_PER_QUERY = 1000


async def list_api_keys(db: OrgDb) -> list[dict[str, Any]]:
    """The organization's live keys, oldest first.

    Names, scopes, dates and the stored SHA-256 of each key (never the key).
    """
    stmt = (
        select(
            api_key.c.id,
            api_key.c.api_key_hash,
            api_key.c.api_key_name,
            api_key.c.key_permissions,
            api_key.c.created_at,
            api_key.c.organization_id,
        )
        .where(db.in_org(api_key), ~api_key.c.soft_delete)
        .order_by(api_key.c.id)
    )
    return await db.rows(stmt)


async def api_key_hashes(db: OrgDb) -> dict[int, str]:
    """Every key's hash by id, revoked ones included.

    For the log's ``request.auth_hash`` filter on a log kept in another engine.
    """
    stmt = select(api_key.c.id, api_key.c.api_key_hash).where(db.in_org(api_key))
    return {int(key_id): str(key_hash) for key_id, key_hash in await db.tuples(stmt)}


async def rename_api_key(db: OrgDb, key_id: int, name: str) -> str | None:
    """Rename a live key: its stored hash, or None when the organization has no such key."""
    stmt = update(api_key).where(db.in_org(api_key), api_key.c.id == key_id, ~api_key.c.soft_delete)
    found: str | None = await db.scalar(
        stmt.values(api_key_name=name).returning(api_key.c.api_key_hash)
    )
    return found


async def delete_api_key(db: OrgDb, key_id: int) -> str | None:
    """Revoke (soft-delete) a key: its stored hash, or None when there is no such live key."""
    stmt = update(api_key).where(db.in_org(api_key), api_key.c.id == key_id, ~api_key.c.soft_delete)
    found: str | None = await db.scalar(
        stmt.values(soft_delete=True).returning(api_key.c.api_key_hash)
    )
    return found


async def purge_api_key(db: OrgDb, key_id: int) -> None:
    """Remove a key for good: the temporary keys Helioscope makes for its own gateway calls.

    Its hash is gone, so no cache can bring it back after the cache's TTL.
    """
    await db.execute(delete(api_key).where(db.in_org(api_key), api_key.c.id == key_id))
