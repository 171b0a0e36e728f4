"""The storage seam: the one object the rest of Helioscope talks to about data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.exc import DataError, IntegrityError, ProgrammingError, StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from helioscope.store import _keys, _log, _migrate
from helioscope.store._engine import create_engine, normalize_url, sqlite_path
from helioscope.store.records import ApiKey, LogRow, NewApiKey, Organization

# Errors caused by the rows themselves: writing the same rows again fails the same way.
_DATA_ERRORS: tuple[type[Exception], ...] = (IntegrityError, DataError, ProgrammingError)


class Store:
    """Async access to everything Helioscope keeps, over SQLite or PostgreSQL.

    Every read takes the caller's organization id; nothing returns another organization's rows.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, database_url: str) -> Store:
        """Create a store for a user-facing URL (``sqlite:///…`` or ``postgresql://…``)."""
        return cls(create_engine(database_url))

    @property
    def sqlite_file(self) -> Path | None:
        """The SQLite database file, or None on PostgreSQL."""
        return sqlite_path(normalize_url(self.engine.url.render_as_string(hide_password=False)))

    async def migrate(self) -> None:
        """Create the SQLite file's directory if need be, and bring the schema up to date."""
        if self.sqlite_file is not None:
            self.sqlite_file.parent.mkdir(parents=True, exist_ok=True)
        await _migrate.upgrade(self.engine)

    async def close(self) -> None:
        """Release every connection."""
        await self.engine.dispose()

    # Organizations and keys

    async def get_or_create_org(self, name: str) -> Organization:
        """The organization called ``name``, created if it does not exist."""
        async with self.engine.begin() as conn:
            return await _keys.get_or_create_org(conn, name)

    async def count_orgs(self) -> int:
        """How many organizations exist."""
        async with self.engine.connect() as conn:
            return await _keys.count_orgs(conn)

    async def create_api_key(
        self, org_id: str, name: str = "default", permissions: str = "rw"
    ) -> NewApiKey:
        """Create a key for ``org_id``; the clear key is in the result and nowhere else."""
        async with self.engine.begin() as conn:
            return await _keys.create_api_key(conn, org_id, name, permissions)

    async def find_api_key(self, key_hash: str) -> ApiKey | None:
        """The live key with this SHA-256 hash, or None."""
        async with self.engine.connect() as conn:
            return await _keys.find_api_key(conn, key_hash)

    # The request log

    async def insert_log_rows(self, rows: list[LogRow]) -> None:
        """Write a batch of log rows in one transaction (all or nothing)."""
        async with self.engine.begin() as conn:
            await _log.insert_log_rows(conn, rows)

    async def get_request(self, org_id: str, request_id: str) -> dict[str, Any] | None:
        """One logged request of ``org_id``, or None."""
        async with self.engine.connect() as conn:
            return await _log.get_request(conn, org_id, request_id)


def is_transient(exc: BaseException) -> bool:
    """True when a failed write may succeed later (locked, unreachable, restarting store).

    False when the rows themselves are at fault, so that the writer can isolate the bad row
    instead of retrying a batch that can never succeed.
    """
    if isinstance(exc, _DATA_ERRORS):
        return False
    if isinstance(exc, StatementError) and exc.orig is not None:
        return not isinstance(exc.orig, (TypeError, ValueError))
    return isinstance(exc, (StatementError, OSError, ConnectionError, TimeoutError))
