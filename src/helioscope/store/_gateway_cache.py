"""The gateway's embedded response cache: opaque values under cache keys, with an expiry.

The gateway decides what a key and a value are; this module only stores bytes, so that the same
cache works for any response format and the Redis backend can mirror it exactly.

On SQLite, lookups are point reads on the primary key, and the gateway makes one on every cached
call. They run synchronously on a connection of their own: a WAL reader never waits for the
writer, the read takes microseconds, and going through the async driver instead (a thread hop
for each step of the query) measured at three times the cost of the whole proxied call.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from helioscope.store._dialects import _sqlite_time, upsert
from helioscope.store._engine import sqlite_path
from helioscope.store._schema_gateway import gateway_cache as gc

Found = dict[str, tuple[bytes, float]]  # key -> (value, expiry as a POSIX time)
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


class _SqliteReader:
    """Synchronous point reads of ``gateway_cache`` on a SQLite file (read-only connection)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._conn: sqlite3.Connection | None = None

    def get_many(self, org_id: str, keys: list[str], now: dt.datetime) -> Found:
        if self._conn is None:
            self._conn = sqlite3.connect(
                self._path, timeout=1.0, isolation_level=None, check_same_thread=False
            )
            self._conn.execute("PRAGMA query_only=1")
        marks = ",".join("?" * len(keys))
        rows = self._conn.execute(
            "SELECT cache_key, value, expires_at FROM gateway_cache "
            f"WHERE organization_id = ? AND cache_key IN ({marks}) AND expires_at > ?",
            [org_id, *keys, _sqlite_time(now)],
        ).fetchall()
        return {
            key: (
                bytes(value),
                dt.datetime.strptime(expires, _SQLITE_TIME).replace(tzinfo=dt.UTC).timestamp(),
            )
            for key, value, expires in rows
        }

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class GatewayCacheStore:
    """Reads and writes of ``gateway_cache``; expired entries read as absent."""

    def __init__(self, engine: AsyncEngine, writer_engine: AsyncEngine) -> None:
        self._engine = engine
        self._writer = writer_engine
        path = sqlite_path(engine.url)
        self._sqlite = _SqliteReader(path) if path is not None else None

    async def get_many(self, org_id: str, keys: list[str]) -> Found:
        """The live values among ``keys`` with their expiry; absent and expired keys left out."""
        now = dt.datetime.now(dt.UTC)
        if self._sqlite is not None:
            return self._sqlite.get_many(org_id, keys, now)
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

    def close(self) -> None:
        """Close the SQLite read connection, if any."""
        if self._sqlite is not None:
            self._sqlite.close()
