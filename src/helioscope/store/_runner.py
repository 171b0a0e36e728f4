"""The one way a query runs: ``await runner.read(fn, *args)`` or ``await runner.write(fn, *args)``.

A query function is ``async def fn(db, *args) -> T``. The runner opens a connection (``write``:
a transaction that commits when ``fn`` returns), hands ``fn`` a ``Db`` and returns what ``fn``
returns, as Datasette's ``execute_fn`` / ``execute_write_fn`` do. ``read`` and ``write`` are typed
with ``ParamSpec``, so mypy checks every call's arguments against the function's signature.

``runner.org(org_id)`` runs functions that belong to one organization: they get an ``OrgDb``,
which carries the organization rule (``db.in_org(table)``) so no query writes it by hand. A
function that takes an ``OrgDb`` cannot be run unscoped: mypy rejects ``runner.read(fn)``.

``Db`` is deliberately narrow (``rows``, ``row``, ``tuples``, ``scalar``, ``scalars``,
``execute``): a query function is a SQLAlchemy Core statement plus these calls, so another
engine's runner can run the same function by compiling the same statement for itself.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import ColumnElement, Executable, FromClause, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from helioscope.store._dialects import SqlDialect
from helioscope.store._engine import WRITE

P = ParamSpec("P")
T = TypeVar("T")

# How a runner reaches a log kept in another engine: one organization's ``OrgDb`` there.
LogDb = Callable[[str], "OrgDb"]


class StoreTimeout(TimeoutError):
    """The store did not answer in time, connecting or running a statement.

    The driver's own ``TimeoutError`` has no message, and an outage was logged as "store
    unreachable (TimeoutError: )"; this one says how long the call waited.
    """

    def __init__(self, started: float) -> None:
        super().__init__(f"timed out after {time.monotonic() - started:.1f} s")


@contextmanager
def _timed() -> Iterator[None]:
    """A store call: the driver's (or the pool's) ``TimeoutError`` as a ``StoreTimeout``."""
    started = time.monotonic()
    try:
        yield
    except StoreTimeout:
        raise
    except TimeoutError as exc:
        raise StoreTimeout(started) from exc


class Db:
    """One connection (or transaction) and the store's dialect, as a query function sees them."""

    __slots__ = ("conn", "dialect", "log_db")

    def __init__(
        self, conn: AsyncConnection, dialect: SqlDialect, log_db: LogDb | None = None
    ) -> None:
        self.conn = conn
        self.dialect = dialect
        # None: the log's tables are in this database (SQLite/PostgreSQL keep everything).
        self.log_db = log_db

    def for_org(self, org_id: str) -> OrgDb:
        """This connection, scoped to one organization (a batch that spans several)."""
        return OrgDb(self.conn, self.dialect, org_id, self.log_db)

    async def rows(self, stmt: Executable) -> list[dict[str, Any]]:
        """Every row, as a dict by column name."""
        return [dict(row) for row in (await self.conn.execute(stmt)).mappings()]

    async def row(self, stmt: Executable) -> dict[str, Any] | None:
        """The first row as a dict, or None."""
        found = (await self.conn.execute(stmt)).mappings().first()
        return None if found is None else dict(found)

    async def tuples(self, stmt: Executable) -> list[tuple[Any, ...]]:
        """Every row, as a tuple in the statement's column order."""
        return [tuple(row) for row in await self.conn.execute(stmt)]

    async def scalar(self, stmt: Executable) -> Any:
        """The first column of the first row, or None when there is no row."""
        return (await self.conn.execute(stmt)).scalar()

    async def scalars(self, stmt: Executable) -> list[Any]:
        """The first column of every row."""
        return list((await self.conn.execute(stmt)).scalars())

    async def execute(
        self, stmt: Executable, rows: Sequence[Mapping[str, Any]] | None = None
    ) -> int:
        """Run a change (with ``rows``: once per row, batched by the driver); rows it touched."""
        result = await self.conn.execute(stmt, list(rows) if rows is not None else None)
        return int(getattr(result, "rowcount", 0) or 0)


class OrgDb(Db):
    """A ``Db`` scoped to one organization: ``org_id`` and the organization rule."""

    __slots__ = ("org_id",)

    def __init__(
        self,
        conn: AsyncConnection,
        dialect: SqlDialect,
        org_id: str,
        log_db: LogDb | None = None,
    ) -> None:
        super().__init__(conn, dialect, log_db)
        self.org_id = org_id

    @property
    def log(self) -> OrgDb:
        """Where the request log's tables are, for a function that reads them from elsewhere.

        On SQLite and PostgreSQL the log shares the database, so this is the same connection and
        transaction. A log kept in another engine (ClickHouse) hands its own ``OrgDb`` here, for
        the same organization; a statement therefore never joins a log table to another area's.
        """
        return self if self.log_db is None else self.log_db(self.org_id)

    def in_org(self, table: FromClause) -> ColumnElement[bool]:
        """The organization rule: ``table``'s rows that belong to this organization."""
        return table.c.organization_id == self.org_id


class Runner:
    """Runs query functions on one engine, with its dialect built once."""

    def __init__(
        self, engine: AsyncEngine, dialect: SqlDialect | None = None, log_db: LogDb | None = None
    ) -> None:
        self.engine = engine
        self.dialect = dialect or SqlDialect(engine.dialect.name)
        # Set when the log lives in another engine: what ``OrgDb.log`` hands a function.
        self.log_db = log_db
        # Transactions that write go through this view of the engine (see _engine.WRITE).
        self.writer_engine = engine.execution_options(**{WRITE: True})

    async def read(
        self, fn: Callable[Concatenate[Db, P], Awaitable[T]], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``fn(db, *args, **kwargs)`` on a connection of its own, for reading."""
        with _timed():
            async with self.engine.connect() as conn:
                return await fn(Db(conn, self.dialect, self.log_db), *args, **kwargs)

    async def write(
        self, fn: Callable[Concatenate[Db, P], Awaitable[T]], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``fn(db, *args, **kwargs)`` in one transaction: all of it commits, or none."""
        with _timed():
            async with self.writer_engine.begin() as conn:
                result = await fn(Db(conn, self.dialect, self.log_db), *args, **kwargs)
        self.written()
        return result

    def org(self, org_id: str) -> OrgRunner:
        """A runner for functions of one organization (they take an ``OrgDb``)."""
        return OrgRunner(self, org_id)

    async def ping(self) -> None:
        """One round trip to the store (raises as any query would when it is unreachable)."""
        await self.read(_select_one)

    def written(self) -> None:
        """Called after every committed write; a runner that caches what it reads clears here."""


async def _select_one(db: Db) -> None:
    await db.scalar(select(1))


class OrgRunner:
    """``Runner.read``/``write`` for one organization's functions."""

    __slots__ = ("_org_id", "_runner")

    def __init__(self, runner: Runner, org_id: str) -> None:
        self._runner = runner
        self._org_id = org_id

    async def read(
        self, fn: Callable[Concatenate[OrgDb, P], Awaitable[T]], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``fn(db, *args, **kwargs)`` for this organization, for reading."""
        runner = self._runner
        with _timed():
            async with runner.engine.connect() as conn:
                db = OrgDb(conn, runner.dialect, self._org_id, runner.log_db)
                return await fn(db, *args, **kwargs)

    async def write(
        self, fn: Callable[Concatenate[OrgDb, P], Awaitable[T]], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``fn(db, *args, **kwargs)`` for this organization, in one transaction."""
        runner = self._runner
        with _timed():
            async with runner.writer_engine.begin() as conn:
                db = OrgDb(conn, runner.dialect, self._org_id, runner.log_db)
                result = await fn(db, *args, **kwargs)
        runner.written()
        return result
