"""One ClickHouse client, driven off the event loop, with errors sorted for the log writer.

clickhouse-connect's client is synchronous, and chdb's has no async twin at all (1.12). Every
call therefore runs on a small thread pool owned by this object: one thread for chdb (its
connection handle serialises calls anyway, and one engine serves the whole process), a few for
HTTP, whose client is thread-safe once it stops sending a session id.

Errors come out as one of two kinds, the split the writer retries on (``store.is_transient``):
``ClickHouseUnavailable`` (a ``ConnectionError``: the server, the network or a limit; retry
later) and ``ClickHouseRejected`` (a ``ValueError``: the statement or its rows are at fault).
A ``ClickHouseRefused`` is unavailable to the writer, but no outage: the server refused this
user (a wrong password, a read-only user), and startup says so rather than waiting.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import clickhouse_connect
from clickhouse_connect.datatypes.base import ClickHouseType
from clickhouse_connect.driver import options as _driver_options
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import (
    ClickHouseError,
    DatabaseError,
    OperationalError,
    ProgrammingError,
)

from helioscope.store import _engine
from helioscope.store._store import StoreRefused
from helioscope.store.clickhouse._url import ClickHouseUrl

_T = TypeVar("_T")

# clickhouse-connect 1.13 resolves ``options.pd`` at every insert, only to ask whether the data
# is a pandas DataFrame, and so imports pandas (0.8-2 s with the GIL held, ~36,000 objects the
# garbage collector then traverses in every full collection of a running server, ~150 MB of
# RSS) wherever it is installed (chdb-core declares it). This store sends lists and never asks
# for DataFrames: resolve the lazy attribute as "no pandas" before the client ever looks.
if "pd" not in vars(_driver_options):
    vars(_driver_options).update(pd=None, pd_time_test=None)  # what its resolver sets

# clickhouse-connect 1.13 warns "Unexpected Http Driver Exception" (on the last-resort handler:
# a bare line on stderr) before raising each request that could not reach the server. That
# error is this store's to report, once an outage (``_outage``): a server waiting for
# ClickHouse at startup wrote the line at every probe, and the log writer at every retry.
_DRIVER_WARNING = "Unexpected Http Driver Exception"
logging.getLogger("clickhouse_connect.driver._backend.http_sync").addFilter(
    lambda record: record.getMessage() != _DRIVER_WARNING
)

# Server codes that say "not now" rather than "never": limits, timeouts, replicas, Keeper, and
# a schema that is not there yet (the writer keeps its rows until a migration creates it).
TRANSIENT_CODES = frozenset(
    {
        3,  # UNEXPECTED_END_OF_FILE
        32,  # ATTEMPT_TO_READ_AFTER_EOF
        60,  # UNKNOWN_TABLE
        81,  # UNKNOWN_DATABASE
        159,  # TIMEOUT_EXCEEDED
        202,  # TOO_MANY_SIMULTANEOUS_QUERIES
        203,  # NO_FREE_CONNECTION
        209,  # SOCKET_TIMEOUT
        210,  # NETWORK_ERROR
        236,  # ABORTED
        241,  # MEMORY_LIMIT_EXCEEDED
        242,  # TABLE_IS_READ_ONLY
        252,  # TOO_MANY_PARTS
        285,  # TOO_FEW_LIVE_REPLICAS
        319,  # UNKNOWN_STATUS_OF_INSERT
        394,  # QUERY_WAS_CANCELLED
        425,  # SYSTEM_ERROR
        473,  # DEADLOCK_AVOIDED
        999,  # KEEPER_EXCEPTION
    }
)

# Server codes by which it refuses this user, whatever the statement: waiting mends none of
# them (a server starting waited forever for a read-only user), though the rows are not at
# fault either.
REFUSED_CODES = frozenset(
    {
        164,  # READONLY
        192,  # UNKNOWN_USER
        193,  # WRONG_PASSWORD
        194,  # REQUIRED_PASSWORD
        497,  # ACCESS_DENIED
        516,  # AUTHENTICATION_FAILED
    }
)

# clickhouse-connect 1.13 refuses, before sending anything, to send a setting that
# system.settings says this user may not change: what a user of a read-only profile
# (readonly=1) meets at connect, since every query here sends SESSION_SETTINGS.
_READONLY_SETTING = re.compile(r"^Setting \w+ is readonly$")
# What clickhouse-connect wraps the server's own message in, and the server's version trailer.
_DRIVER_WRAPPING = re.compile(r"^.*?server response:\s*|\s*\(for url [^)]*\)\s*$", re.S)
_VERSION_TRAILER = re.compile(r"\s*\(version [^()]*(?:\([^()]*\))?\)\s*$")

# Session settings every query runs with:
# - join_use_nulls: a LEFT JOIN's missing side reads NULL, as in SQL (not the type's default);
# - cast_keep_nullable: CAST(NULL AS Float64) stays NULL instead of failing the query;
# - union_default_mode: UNION means UNION DISTINCT, as in SQL;
# - optimize_or_like_chain off: on chdb 26.9 it rewrites `x ILIKE '%a%' OR … OR x ILIKE '%%'`
#   (four alternatives) into one multi-pattern match that drops the empty pattern's rows (44
#   of 80 instead of 80; found by the filter reference test);
# - aggregate_functions_null_for_empty: max/min/sum of no rows is NULL, as in SQL (not 0 or
#   1970-01-01: the UI's "latest request" of an empty window).
SESSION_SETTINGS: dict[str, Any] = {
    "aggregate_functions_null_for_empty": 1,
    "join_use_nulls": 1,
    "cast_keep_nullable": 1,
    "union_default_mode": "DISTINCT",
    "optimize_or_like_chain": 0,
}


class ClickHouseUnavailable(ConnectionError):
    """ClickHouse cannot take the call now (down, unreachable, over a limit): retry later."""


class ClickHouseRejected(ValueError):
    """ClickHouse refused the statement or its data: the same call fails the same way again."""


class ClickHouseRefused(ClickHouseUnavailable, StoreRefused):
    """ClickHouse refused this user (a wrong password, a read-only user, a missing grant).

    Unavailable to the log writer, which keeps its rows (they are not at fault), but no
    outage: a command or a server starting says so, and exits (``store.is_refused``).
    """


def _sorted_error(exc: Exception) -> Exception:
    if isinstance(exc, DatabaseError) and exc.code in REFUSED_CODES:
        # (Before OperationalError: clickhouse-connect raises one for a refusal it retried.)
        return ClickHouseRefused(_server_message(exc))
    if isinstance(exc, ProgrammingError) and _READONLY_SETTING.match(str(exc)):
        return ClickHouseRefused(f"{exc}: the user is read-only (readonly=1), and may not write")
    if isinstance(exc, OperationalError) or isinstance(exc, OSError):
        return ClickHouseUnavailable(_network_cause(exc) or str(exc))
    if isinstance(exc, DatabaseError) and exc.code in TRANSIENT_CODES:
        return ClickHouseUnavailable(str(exc))
    return ClickHouseRejected(str(exc))


def _server_message(exc: Exception) -> str:
    """The server's own message, on one line ("Code: 516. DB::Exception: …").

    Without clickhouse-connect's wrapping ("Received ClickHouse exception, code: 516, server
    response: …  (for url …)") or the server's version.
    """
    text = _VERSION_TRAILER.sub("", _DRIVER_WRAPPING.sub("", str(exc)))
    return " ".join(text.split())


def _network_cause(exc: BaseException) -> str | None:
    """The socket's error under the driver's (refused, timed out), or None.

    clickhouse-connect's message for it is urllib3's, three errors deep, with the request's
    query id: a line that named an outage was 400 characters, and different at each attempt.
    """
    seen = exc.__cause__ or exc.__context__
    while seen is not None:
        if isinstance(seen, OSError):
            return f"{type(seen).__name__}: {seen}"
        seen = seen.__cause__ or seen.__context__
    return None


@dataclass(frozen=True, slots=True)
class Rows:
    """A query's answer: column names and rows of Python values."""

    columns: tuple[str, ...]
    rows: Sequence[Sequence[Any]]


class ClickHouse:
    """The request log's ClickHouse: one client, its database, and the threads that call it."""

    def __init__(self, url: ClickHouseUrl, client: Client, pool: ThreadPoolExecutor) -> None:
        self.url = url
        self._client = client
        self._pool = pool
        self._insert_types: dict[tuple[str, tuple[str, ...]], Sequence[ClickHouseType]] = {}

    @classmethod
    async def connect(cls, url: ClickHouseUrl | str, threads: int = 4) -> ClickHouse:
        """Open the client (for chdb: start the engine) and create the database if need be."""
        parsed = ClickHouseUrl.parse(url) if isinstance(url, str) else url
        pool = ThreadPoolExecutor(
            max_workers=1 if parsed.kind == "chdb" else threads,
            thread_name_prefix="clickhouse",
        )
        loop = asyncio.get_running_loop()
        try:
            client = await loop.run_in_executor(pool, _open_client, parsed)
        except ClickHouseError as exc:
            pool.shutdown(wait=False)
            raise _sorted_error(exc) from exc
        except BaseException:
            pool.shutdown(wait=False)
            raise
        return cls(parsed, client, pool)

    async def _call(self, fn: Callable[[], _T]) -> _T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, fn)
        except (ClickHouseError, OSError) as exc:
            raise _sorted_error(exc) from exc

    async def query(self, sql: str, parameters: Mapping[str, Any] | None = None) -> Rows:
        """Run a SELECT; ``{name:Type}`` placeholders are bound by the server."""

        def run() -> Rows:
            result = self._client.query(sql, parameters=dict(parameters or {}))
            return Rows(tuple(result.column_names), result.result_rows)

        return await self._call(run)

    async def command(self, sql: str, parameters: Mapping[str, Any] | None = None) -> None:
        """Run a statement that returns nothing (DDL, ALTER, OPTIMIZE)."""
        await self._call(
            functools.partial(self._client.command, sql, parameters=dict(parameters or {}))
        )

    async def insert(
        self, table: str, columns: Sequence[str], data: Sequence[Sequence[Any]]
    ) -> None:
        """Insert column-oriented ``data`` (one sequence per column) as one block."""
        key = (table, tuple(columns))

        def run() -> None:
            types = self._insert_types.get(key)
            if types is None:
                # The table's column types, asked once (an insert otherwise asks every time).
                types = self._client.create_insert_context(table, list(columns)).column_types
                self._insert_types[key] = types
            self._client.insert(
                table, data, list(columns), column_types=types, column_oriented=True
            )

        await self._call(run)

    async def close(self) -> None:
        """Close the client and stop its threads."""
        await self._call(self._client.close)
        self._pool.shutdown(wait=True)


def _open_client(url: ClickHouseUrl) -> Client:
    if url.kind == "chdb":
        client = clickhouse_connect.get_client(
            dsn=f"chdb://{url.path}", settings=SESSION_SETTINGS, tz_mode="aware"
        )
    else:
        client = clickhouse_connect.get_client(
            host=url.host,
            port=url.port,
            username=url.username,
            password=url.password,
            secure=url.secure,
            # A server that accepts and never answers is bounded as PostgreSQL is (the same
            # bounds: store/_engine), not by clickhouse-connect's 300 s wait for an answer.
            connect_timeout=_engine.CONNECT_SECONDS,
            send_receive_timeout=_engine.STATEMENT_SECONDS,
            # Queries run concurrently from several threads: a shared session would make the
            # server refuse all but one ("session is locked").
            autogenerate_session_id=False,
            settings=SESSION_SETTINGS,
            tz_mode="aware",
        )
    client.command(f"CREATE DATABASE IF NOT EXISTS `{url.database}`")
    client.database = url.database
    return client
