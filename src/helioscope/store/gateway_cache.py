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

from helioscope.store._engine import sqlite_path
from helioscope.store._runner import Db, OrgDb, Runner
from helioscope.store._sqlite_time import sqlite_time
from helioscope.store.tables.gateway import gateway_cache as gc

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
            [org_id, *keys, sqlite_time(now)],
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


async def _live_entries(db: OrgDb, keys: list[str], now: dt.datetime) -> Found:
    stmt = select(gc.c.cache_key, gc.c.value, gc.c.expires_at).where(
        db.in_org(gc), gc.c.cache_key.in_(keys), gc.c.expires_at > now
    )
    return {
        key: (bytes(value), expires.timestamp()) for key, value, expires in await db.tuples(stmt)
    }


async def put_many(db: Db, entries: list[tuple[str, str, bytes, int]]) -> None:
    """Store ``(org_id, key, value, ttl_seconds)`` entries (a write: one transaction)."""
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
    await db.execute(db.dialect.upsert(gc, ("cache_key",)), rows)


async def purge_expired(db: Db) -> int:
    """Delete every organization's expired entries; returns how many."""
    return await db.execute(delete(gc).where(gc.c.expires_at <= dt.datetime.now(dt.UTC)))


class GatewayCache:
    """The gateway's reads of its response cache (``store.gateway_cache``).

    An object because it owns state: on SQLite, the synchronous read connection of the gateway's
    hot path. Writes are query functions (``put_many``, ``purge_expired``) run through
    ``store.write``.
    """

    def __init__(self, runner: Runner) -> None:
        self._runner = runner
        path = sqlite_path(runner.engine.url)
        self._sqlite = _SqliteReader(path) if path is not None else None

    async def get_many(self, org_id: str, keys: list[str]) -> Found:
        """The live values among ``keys`` with their expiry; absent and expired keys left out."""
        now = dt.datetime.now(dt.UTC)
        if self._sqlite is not None:
            return self._sqlite.get_many(org_id, keys, now)
        return await self._runner.org(org_id).read(_live_entries, keys, now)

    def close(self) -> None:
        """Close the SQLite read connection, if any."""
        if self._sqlite is not None:
            self._sqlite.close()
