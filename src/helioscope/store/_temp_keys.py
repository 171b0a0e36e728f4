"""Short-lived API keys that Helioscope makes for its own calls through its gateway."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection

from helioscope.store._schema import api_key


async def delete_api_key(conn: AsyncConnection, org_id: str, key_id: int) -> None:
    """Remove a key for good (its hash is gone, so no cache can bring it back after the TTL)."""
    await conn.execute(
        delete(api_key).where(api_key.c.organization_id == org_id, api_key.c.id == key_id)
    )
