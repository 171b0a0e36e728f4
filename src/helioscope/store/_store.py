"""The storage seam: the one object the rest of Helioscope talks to about data."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.exc import (
    DataError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
    StatementError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine

from helioscope.store import _migrate, keys
from helioscope.store._engine import WRITE, create_engine, sqlite_path
from helioscope.store._location import describe_url
from helioscope.store._runner import Runner
from helioscope.store.gateway_cache import GatewayCache
from helioscope.store.log import LogStore
from helioscope.store.log.journal import Position, read_positions, save_positions
from helioscope.store.prompts import PromptStore

if TYPE_CHECKING:
    from helioscope.store.clickhouse import ClickHouseLog

# Errors caused by the rows themselves: writing the same rows again fails the same way.
_DATA_ERRORS: tuple[type[Exception], ...] = (IntegrityError, DataError, ProgrammingError)
_DATA_SQLSTATE_CLASSES = ("22", "23")


class Store(Runner):
    """Everything Helioscope keeps, over SQLite or PostgreSQL, reached through runners.

    - ``store.read(fn, *args)`` / ``store.write(fn, *args)``, and ``store.org(org_id).read`` /
      ``.write`` for one organization's functions: organizations, keys, experiments, datasets,
      evaluators, webhooks and alerts (``keys``, ``experiments.*``, ``notifications``);
    - ``store.log``: the same, for the request log's functions (``log.*``), and the writer's
      ``write_batch``; with ``clickhouse_url``, the log lives in ClickHouse (``ClickHouseLog``)
      and everything else stays here;
    - ``store.prompts``: the same, for prompt functions (``prompts.*``), with the gateway's cache
      of versions;
    - ``store.gateway_cache``: the gateway's response cache.

    A function scoped to an organization never returns another organization's rows.
    """

    def __init__(self, engine: AsyncEngine, clickhouse: ClickHouseLog | None = None) -> None:
        super().__init__(engine)
        self.clickhouse = clickhouse
        self.log: LogStore | ClickHouseLog
        if clickhouse is None:
            self.log = LogStore(engine, self.dialect)
        else:
            self.log = clickhouse
            # Metadata functions that read log rows (db.log) read them from ClickHouse, and
            # the log's request.auth_hash filter reads the keys from here.
            self.log_db = clickhouse.db
            clickhouse.key_hashes = self._key_hashes
            # The journal's positions stay in the relational store (journal_position).
            clickhouse.commit_positions = self._commit_positions
        self.prompts = PromptStore(self)
        self.gateway_cache = GatewayCache(self)

    async def _commit_positions(self, positions: Mapping[str, Position]) -> None:
        await self.write(save_positions, positions)

    async def journal_positions(self) -> dict[str, Position]:
        """Where the log writer stopped in each worker's journal (kept here on every engine)."""
        return await self.read(read_positions)

    async def _key_hashes(self, org_id: str) -> dict[int, str]:
        return await self.org(org_id).read(keys.api_key_hashes)

    @classmethod
    def open(
        cls,
        database_url: str,
        clickhouse_url: str | None = None,
        *,
        clickhouse_cluster: str | None = None,
        log_retention_days: int | None = None,
    ) -> Store:
        """Create a store for a user-facing URL (``sqlite:///…`` or ``postgresql://…``).

        With ``clickhouse_url`` (``chdb:///dir`` or ``http(s)://…``) the request log is kept
        there instead; it connects in ``migrate``.
        """
        clickhouse = None
        if clickhouse_url is not None:
            # Imported here: ClickHouse's client is an extra (helioscope[clickhouse]).
            from helioscope.store.clickhouse import ClickHouseLog

            clickhouse = ClickHouseLog(
                clickhouse_url, cluster=clickhouse_cluster, retention_days=log_retention_days
            )
        return cls(create_engine(database_url), clickhouse)

    @property
    def sqlite_file(self) -> Path | None:
        """The SQLite database file, or None on PostgreSQL."""
        return sqlite_path(self.engine.url)

    @property
    def location(self) -> str:
        """Where this store keeps its data: the SQLite file, or the URL without its password."""
        return describe_url(self.engine.url)

    def probes(self) -> list[tuple[str, Callable[[], Awaitable[None]]]]:
        """The parts of this store that can be down, each named and with a round trip to it.

        PostgreSQL and a ClickHouse server; a SQLite file and an embedded chdb are never down.
        """
        parts: list[tuple[str, Callable[[], Awaitable[None]]]] = []
        if self.sqlite_file is None:
            parts.append((self.location, self.ping))
        if self.clickhouse is not None and self.clickhouse.server is not None:
            parts.append((self.clickhouse.name, self.clickhouse.ping))
        return parts

    def part_of(self, exc: BaseException) -> str:
        """The part of this store that raised ``exc``, named for a message (no password).

        The ClickHouse that keeps the log, or else the relational store: a wrong ClickHouse
        password was reported as the SQLite file's error.
        """
        if self.clickhouse is not None and self.clickhouse.raised(exc):
            return self.clickhouse.name
        return self.location

    async def is_initialised(self) -> bool:
        """True when the database holds Helioscope's tables (False: migrating creates them).

        A missing SQLite file is not created by asking.
        """
        if self.sqlite_file is not None and not self.sqlite_file.exists():
            return False
        return await _migrate.current_revision(self.engine) is not None

    async def migrate(self) -> None:
        """Create the SQLite file's directory if need be, and bring the schema up to date."""
        if self.sqlite_file is not None:
            self.sqlite_file.parent.mkdir(parents=True, exist_ok=True)
        if self.sqlite_file is None and self.engine.dialect.name == "postgresql":
            # Without the statement bound: a migration that builds an index on a large log
            # may take longer than any query should.
            unbounded = create_engine(self.engine.url, statement_bound=False)
            try:
                await _migrate.upgrade(unbounded.execution_options(**{WRITE: True}))
            finally:
                await unbounded.dispose()
        else:
            await _migrate.upgrade(self.writer_engine)
        if self.clickhouse is not None:
            await self.clickhouse.start()

    async def close(self) -> None:
        """Release every connection."""
        self.gateway_cache.close()
        if self.clickhouse is not None:
            await self.clickhouse.close()
        await self.engine.dispose()


# What an unreachable or locked store raises (a caller that renders errors registers for these,
# then asks ``is_transient``): the driver's errors wrapped by SQLAlchemy, or a refused connect.
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    OSError,
    TimeoutError,
    PoolTimeout,  # every pooled connection is held by a call the store has not answered
)


class StoreRefused(ConnectionError):
    """The store answered, and refused this user: a wrong password, no right to write.

    Transient to the log writer (its rows are not at fault: it keeps them until someone mends
    the settings), but no outage (``is_refused``): a command or a server starting says so at
    once, and exits, rather than waiting for what waiting cannot mend.
    """


def is_refused(exc: BaseException) -> bool:
    """True when the store refused this user or database: waiting will not mend it.

    PostgreSQL's refused login or missing database (SQLSTATE classes 28 and 3D), and a
    ``StoreRefused`` (ClickHouse's wrong password, read-only user, missing grant).
    """
    if isinstance(exc, StoreRefused):
        return True
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return isinstance(code, str) and code[:2] in ("28", "3D")


def is_transient(exc: BaseException) -> bool:
    """True when a failed write may succeed later (locked, unreachable, restarting store).

    False when the rows themselves are at fault, so that the writer can isolate the bad row
    instead of retrying a batch that can never succeed.
    """
    if isinstance(exc, _DATA_ERRORS):
        return False
    # asyncpg's errors reach us as a plain DBAPIError; their SQLSTATE tells a fault of the data
    # (class 22: a value too long or out of range; 23: a constraint) from an outage.
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    if isinstance(code, str) and code[:2] in _DATA_SQLSTATE_CLASSES:
        return False
    if isinstance(exc, StatementError) and exc.orig is not None:
        return not isinstance(exc.orig, (TypeError, ValueError))
    return isinstance(exc, (StatementError, OSError, ConnectionError, TimeoutError, PoolTimeout))
