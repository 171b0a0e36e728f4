"""Engines: turning a user's database URL into a configured async engine."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import orjson
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.engine.default import DefaultDialect
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import QueuePool

from helioscope.errors import BadRequest

# Rows per multi-row INSERT: ~45 columns x 500 rows stays under both engines' limit of 32,767
# bound parameters per statement, whatever batch size the writer is given.
_ROWS_PER_STATEMENT = 500

_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}

# A PostgreSQL server that accepts connections and never answers (stopped, swapping, a network
# partition that drops packets) would otherwise hang every caller: a key lookup, an API query,
# the log writer's batch (a hung store once held an API call 37 s and a gateway call over 60 s).
# Connecting is bounded at 5 s; a statement at 30 s, which an API query over a large log still
# fits. Migrations run without the statement bound (``Store.migrate``): building an index on a
# large log may take longer.
CONNECT_SECONDS = 5.0
STATEMENT_SECONDS = 30.0


def normalize_url(raw: str | URL) -> URL:
    """Map a user's URL (``sqlite:///x.db``, ``postgresql://…``) to its async driver."""
    try:
        url = make_url(raw)
    except Exception as exc:  # sqlalchemy raises ArgumentError with an unhelpful message
        raise BadRequest(f"HELIOSCOPE_DATABASE_URL is not a database URL: {raw!r}") from exc
    backend = url.get_backend_name()
    if backend == "postgres":
        backend = "postgresql"
    if backend not in _DRIVERS:
        raise BadRequest(
            f"HELIOSCOPE_DATABASE_URL must be sqlite:///… or postgresql://…, got {backend!r}"
        )
    return url.set(drivername=_DRIVERS[backend])


def sqlite_path(url: URL) -> Path | None:
    """The file behind a SQLite URL, or None for PostgreSQL and in-memory SQLite."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def create_engine(raw_url: str | URL, *, statement_bound: bool = True) -> AsyncEngine:
    """Create the async engine, with WAL and a busy timeout on SQLite.

    On PostgreSQL, connecting gives up after ``CONNECT_SECONDS`` and a statement after
    ``STATEMENT_SECONDS`` (unless not ``statement_bound``), each with ``TimeoutError``.
    """
    url = normalize_url(raw_url)
    if url.get_backend_name() == "sqlite":
        bind_without_lookups()
        engine = create_async_engine(
            url,
            # We issue BEGIN ourselves (below), so that a write transaction can take SQLite's
            # write lock up front.
            connect_args={"timeout": 30, "isolation_level": None},
            insertmanyvalues_page_size=_ROWS_PER_STATEMENT,
            hide_parameters=True,  # (see below)
            json_serializer=_json_text,
            json_deserializer=_json_value,
            **_last_returned_first(url),
        )
        event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    return create_async_engine(
        url,
        # asyncpg prepares every statement; PostgreSQL then plans it once for all parameter
        # values, and a plan made while a table was small (a seq scan) outlives its growth.
        # Custom plans cost a little planning per query and keep the indexes in use.
        connect_args={
            "server_settings": {"plan_cache_mode": "force_custom_plan"},
            "timeout": CONNECT_SECONDS,
            "command_timeout": STATEMENT_SECONDS if statement_bound else None,
        },
        pool_size=10,
        max_overflow=10,
        pool_pre_ping=True,
        insertmanyvalues_page_size=_ROWS_PER_STATEMENT,
        # A statement's error names its SQL, never its parameters: a log row's are request and
        # response bodies, and an API key's its hash, which must not reach the server's log.
        hide_parameters=True,
        json_serializer=_json_text,
        json_deserializer=orjson.loads,
    )


WRITE = "helioscope_write"


def _last_returned_first(url: URL) -> dict[str, Any]:
    """The pool's option to hand out the connection returned last, where it has a queue pool.

    The log writer's batches then mostly find the connection they last used: its prepared
    statements (a 100-row upsert costs ~1.2M instructions to prepare, once per connection) and
    its page cache (SQLite empties it once another connection has written) are warm. With the
    default (first in, first out) each batch took the next of the pool's connections: 17
    against 12 statements prepared while bench/instructions.py counted 2,000 calls. (An
    in-memory database has one connection, in a pool without the option.)
    """
    pool = cast("type[DefaultDialect]", url.get_dialect()).get_pool_class(url)
    return {"pool_use_lifo": True} if issubclass(pool, QueuePool) else {}


def bind_without_lookups() -> None:
    """Let the sqlite3 driver bind ``None`` and booleans without a failed lookup.

    The driver (CPython 3.11 ``_sqlite/statement.c``) binds exact ``int``, ``float`` and
    ``str`` values directly, and sends every other value through its adapter protocol: a miss
    in its adapter table, then ``__adapt__`` looked up on a type (an ``AttributeError``
    formatted and thrown away), then ``__conform__``. ``None`` takes that path too: the log
    writer binds ~20 of them a row, and the lookups were 4% of the gateway's instructions per
    proxied call (callgrind). With an adapter registered, each is one table hit and a C call
    that gives the same value as before: ``None`` (NULL), the int of a bool (as SQLite stores
    it anyway). The table is the driver's own, for the whole process; nothing else in the
    process registers these types. (The writer binds its JSON documents as plain ``str``.)
    """
    none: Callable[[None], None] = cast("Callable[[None], None]", {}.get)  # C: None -> None
    sqlite3.register_adapter(type(None), none)
    sqlite3.register_adapter(bool, int)


def _sqlite_begin(conn: Any) -> None:
    # A transaction that reads and then writes (the writer's replay check, a property update)
    # would otherwise ask for the write lock half way, and SQLite answers "database is locked"
    # at once rather than wait, to avoid a deadlock. Writers take the lock when they begin, and
    # so wait their turn (busy_timeout); readers stay lock-free under WAL.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE) else "BEGIN")


def _json_text(value: object) -> str:
    # orjson: the writer serialises properties and scores for every row it stores.
    return orjson.dumps(value).decode()


def _json_value(stored: str | bytes | int | float) -> Any:
    # SQLite gives a JSON column NUMERIC affinity: the text of a bare number (a template or a
    # metadata value of ``5``, stored by an older version or an import) comes back as a number.
    if isinstance(stored, int | float):
        return stored
    return orjson.loads(stored)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run while the log writer writes; NORMAL sync is safe under WAL and
    # several times faster than FULL for our batched inserts.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Memory must not grow with the log (issue 19, bench/memory.py): a page cache is per
    # connection (up to 15 in the pool) and fills as the database grows, and memory-mapped
    # pages count in the process's RSS (1 KB bodies, 100,000 calls: +230 MB with a 64 MB cache
    # and a 1 GB map; with 8 MB per connection still +25 MB per 30,000 calls). SQLite's own
    # default, 2 MB per connection, and no map: pages beyond it come from the OS page cache (one
    # pread each), which is shared and is not the process's memory.
    cursor.execute("PRAGMA cache_size=-2048")
    cursor.execute("PRAGMA mmap_size=0")
    # Checkpoint the WAL every ~40 MB rather than every 4 MB: fewer, larger copies back into
    # the database file under a steady stream of log writes.
    cursor.execute("PRAGMA wal_autocheckpoint=10000")
    cursor.close()
