"""Statements the log writer runs on the driver's own parameters, in each engine's form.

The writer's hot path skips SQLAlchemy's per-row parameter processing: it builds each row's
tuple itself, and these constructs give it the engine's forms (timestamps, placeholders, how a
statement's values are bound). ``SqlDialect.bulk_upsert`` and ``keys_in_org`` hand them out.
"""

from __future__ import annotations

import datetime as dt
import math
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import Boolean, Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from helioscope.store._sqlite_time import SqliteTime, sqlite_times

# Rows per statement of the writer's upserts: as many as fit, then the rest in tens and ones,
# so that each engine sees three statements (PostgreSQL prepares each once). One multi-row
# statement of 100 rows cost SQLite ~30% less than executing the one-row statement 100
# times (a step, a reset and the driver's bookkeeping per row): 10.3 -> 7.2-8.3 us a row on
# a 100,000-row log; at 400 no better. 45 columns x 100 rows stay far below both engines'
# limit of 32,767 bound parameters.
_ROWS_PER_STATEMENT = (100, 10, 1)


class BulkUpsert:
    """``INSERT … ON CONFLICT (key) DO UPDATE`` of many rows a statement, on the driver's tuples.

    The log writer's hot path: SQLAlchemy's per-row parameter processing was the largest part
    of the writer's time on the event loop. The caller names the columns in the order it
    builds each row's tuple (straight from its records: no dict a row, no converter call a
    column), writes JSON documents as text, and converts timestamps with ``time`` (one) or
    ``times`` (many at once), the form ``UtcDateTime`` gives this engine (aware UTC datetimes;
    on SQLite, their text). The rows must have distinct keys (PostgreSQL refuses a statement
    that updates a row twice).
    """

    def __init__(self, table: Table, key: tuple[str, ...], columns: tuple[str, ...], pg: bool):
        if sorted(columns) != sorted(c.name for c in table.columns):
            raise ValueError(f"{table.name}: the upsert must name every column once: {columns}")
        self.columns = columns
        self.time: Callable[[dt.datetime | None], Any] = _aware_utc if pg else SqliteTime()
        self.times: Callable[[Sequence[dt.datetime | None]], Sequence[Any]] = (
            _aware_utcs if pg else sqlite_times
        )
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
        width = len(columns)
        self._sql: dict[int, str] = {}
        for count in _ROWS_PER_STATEMENT:
            marks = [f"${i}" if pg else "?" for i in range(1, width * count + 1)]
            rows = ", ".join(
                f"({', '.join(marks[start : start + width])})"
                for start in range(0, len(marks), width)
            )
            self._sql[count] = (
                f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES {rows} "
                f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
            )

    def statements(self, rows: list[tuple[Any, ...]]) -> list[tuple[str, list[tuple[Any, ...]]]]:
        """``rows`` as statements, each with the parameters to execute it with (executemany)."""
        out = []
        start = 0
        for count in _ROWS_PER_STATEMENT:
            end = start + (len(rows) - start) // count * count
            if end > start:
                flat = self._parameters
                params = [flat(rows[at : at + count]) for at in range(start, end, count)]
                out.append((self._sql[count], params))
                start = end
        return out

    def _parameters(self, rows: list[tuple[Any, ...]]) -> tuple[Any, ...]:
        """One statement's parameters: its rows' values, one row after another."""
        return tuple(_flat(rows))

    async def run(self, conn: AsyncConnection, rows: list[tuple[Any, ...]]) -> None:
        """Upsert ``rows`` in ``conn``'s transaction."""
        for sql, params in self.statements(rows):
            await conn.exec_driver_sql(sql, params)


def _flat(rows: list[tuple[Any, ...]]) -> list[Any]:
    # A list extended row by row (the driver then takes a tuple): tuple(chain(...)) grew a
    # tuple step by step, twice the cost.
    flat: list[Any] = []
    extend = flat.extend
    for row in rows:
        extend(row)
    return flat


_NAN = math.nan


class _SqliteBulkUpsert(BulkUpsert):
    """On SQLite, a statement's values bound as the driver binds them cheapest, to the same effect.

    CPython 3.11's sqlite3 binds a value of exact type ``int``, ``float`` or ``str`` directly,
    and every other one (``None``, ``bool``) through its adapter table (``need_adapt`` and
    ``pysqlite_microprotocols_adapt`` in ``Modules/_sqlite``): a tuple built and hashed, a
    table lookup and the adapter's call, ~1,200 instructions a value (callgrind). A log row's
    absent optional columns and its booleans are ~17 such values: 3.3% of a whole proxied
    call's instructions. So, per statement:

    - a column NULL in every row binds a NaN in each: SQLite stores a NaN as NULL (it never
      holds one: ``sqlite3VdbeMemSetDouble``, pinned by a test), and a float binds directly;
    - a boolean column with no NULL binds the integers 0 and 1, which SQLite stores for them.

    A column NULL in some rows only keeps its ``None`` (the adapter binds it). The statement's
    text never depends on the values: a text per pattern of NULL columns would be prepared
    again and again (a 100-row statement: ~1.2M instructions and ~360 KB each).
    """

    def __init__(self, table: Table, key: tuple[str, ...], columns: tuple[str, ...]):
        super().__init__(table, key, columns, pg=False)
        self._width = len(columns)
        self._booleans = frozenset(
            at for at, name in enumerate(columns) if isinstance(table.c[name].type, Boolean)
        )

    def _parameters(self, rows: list[tuple[Any, ...]]) -> tuple[Any, ...]:
        flat = _flat(rows)
        count, width, booleans = len(rows), self._width, self._booleans
        # A column's values are a slice of the flat list (``flat[at::width]``): read, counted
        # and replaced in C. Only a column whose first row is NULL can be NULL in every row.
        for at in range(width):
            if flat[at] is None:
                if flat[at::width].count(None) == count:
                    flat[at::width] = (_NAN,) * count
            elif at in booleans:
                values = flat[at::width]
                if None not in values:
                    flat[at::width] = map(int, values)
        return tuple(flat)

    async def run(self, conn: AsyncConnection, rows: list[tuple[Any, ...]]) -> None:
        """Upsert ``rows`` in ``conn``'s transaction: one call on the driver's thread a statement.

        (See ``_aiosqlite``.)
        """
        driver = await _aiosqlite(conn)
        for sql, params in self.statements(rows):
            with _as_sqlalchemy_raises(sql):
                await driver.executemany(sql, params)


async def _aiosqlite(conn: AsyncConnection) -> Any:
    """The aiosqlite connection under ``conn``, to run a statement in one call on its thread.

    aiosqlite runs every call on the connection's own thread, a round trip between threads
    (~30 us of CPU on a VM: a wakeup each way). SQLAlchemy's cursor makes three or four of a
    statement (open a cursor, execute, fetch, close: ~140 us of CPU against ~30); the driver
    connection's ``executemany`` and ``execute_fetchall`` make one, in the same transaction
    (the connection's ``BEGIN``).
    """
    driver = (await conn.get_raw_connection()).driver_connection
    assert driver is not None  # (None only once the connection is closed)
    return driver


@contextmanager
def _as_sqlalchemy_raises(sql: str) -> Iterator[None]:
    # The driver's errors as SQLAlchemy raises them (IntegrityError, OperationalError…): the
    # writer tells a refused row (isolated, never retried) from an outage by these classes.
    try:
        yield
    except sqlite3.Error as error:
        raise DBAPIError.instance(sql, None, error, sqlite3.Error) from error


def _aware_utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _aware_utcs(values: Sequence[dt.datetime | None]) -> list[dt.datetime | None]:
    return list(map(_aware_utc, values))


class KeyLookup:
    """``SELECT returned FROM table WHERE organization_id = ? AND key IN (?, …)``, on the driver.

    Run with the organization as the first parameter and the keys after it.
    """

    def __init__(self, table: str, key: str, returned: tuple[str, ...], count: int, pg: bool):
        marks = [f"${i}" if pg else "?" for i in range(1, count + 2)]
        self.sql = (
            f"SELECT {', '.join(returned)} FROM {table} "
            f"WHERE organization_id = {marks[0]} AND {key} IN ({', '.join(marks[1:])})"
        )

    async def rows(self, conn: AsyncConnection, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """The rows found, in ``conn``'s transaction."""
        return [tuple(row) for row in await conn.exec_driver_sql(self.sql, params)]


class _SqliteKeyLookup(KeyLookup):
    """On SQLite, the lookup in one call on the driver's thread (see ``_aiosqlite``)."""

    async def rows(self, conn: AsyncConnection, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """The rows found, in ``conn``'s transaction."""
        driver = await _aiosqlite(conn)
        with _as_sqlalchemy_raises(self.sql):
            return list(await driver.execute_fetchall(self.sql, params))


@lru_cache(maxsize=16)
def keys_in_org(table: str, key: str, returned: tuple[str, ...], count: int, pg: bool) -> KeyLookup:
    """The writer's lookup of ``count`` keys in one organization: see ``SqlDialect``."""
    lookup = KeyLookup if pg else _SqliteKeyLookup
    return lookup(table, key, returned, count, pg)


@lru_cache(maxsize=16)
def bulk_upsert(
    table: Table, key: tuple[str, ...], columns: tuple[str, ...], pg: bool
) -> BulkUpsert:
    """The writer's upsert of ``table`` for one engine (built once): see ``SqlDialect``."""
    return BulkUpsert(table, key, columns, pg) if pg else _SqliteBulkUpsert(table, key, columns)
