"""The gateway's embedded response cache: opaque values under cache keys, with an expiry.

The gateway decides what a key and a value are; this module only stores bytes, so that the same
cache works for any response format and the Redis backend can mirror it exactly.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from helioscope.store._dialects import upsert
from helioscope.store._schema_gateway import gateway_cache as gc


class GatewayCacheStore:
    """Reads and writes of ``gateway_cache``; expired entries read as absent."""

    def __init__(self, engine: AsyncEngine, writer_engine: AsyncEngine) -> None:
        self._engine = engine
        self._writer = writer_engine

    async def get_many(self, org_id: str, keys: list[str]) -> dict[str, tuple[bytes, float]]:
        """The live values among ``keys`` with their expiry (a POSIX time); others left out."""
        now = dt.datetime.now(dt.UTC)
        stmt = select(gc.c.cache_key, gc.c.value, gc.c.expires_at).where(
            gc.c.organization_id == org_id,
            gc.c.cache_key.in_(keys),
            gc.c.expires_at > now,
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return {row.cache_key: (bytes(row.value), row.expires_at.timestamp()) for row in rows}

    async def put_many(self, entries: list[tuple[str, str, bytes, int]]) -> None:
        """Store ``(org_id, key, value, ttl_seconds)`` entries in one transaction."""
        now = dt.datetime.now(dt.UTC)
        rows = [
            {
                "cache_key": key,
                "organization_id": org_id,
                "value": value,
                "expires_at": now + dt.timedelta(seconds=ttl),
            }
            for org_id, key, value, ttl in entries
        ]
        async with self._writer.begin() as conn:
            await conn.execute(upsert(gc, conn.dialect.name, ("cache_key",)), rows)

    async def purge_expired(self) -> int:
        """Delete expired entries; returns how many."""
        async with self._writer.begin() as conn:
            result = await conn.execute(
                delete(gc).where(gc.c.expires_at <= dt.datetime.now(dt.UTC))
            )
        return int(result.rowcount or 0)
