"""The request log on ClickHouse, as the store's query functions see a log: ``Db`` and a runner.

A log query function is ``async def fn(db: OrgDb, …)`` that builds SQLAlchemy Core and reads it
through ``db.rows``/``row``/``tuples``/``scalar``/``scalars`` (``store/_runner.py``).
``ClickHouseDb`` offers those five over a ``ClickHouse`` client: the statement is compiled by the
ClickHouse dialect (``_sql``), run with server-side parameters, and answered with the same
conversions the column types apply on SQLite and PostgreSQL (aware UTC times; JSON text parsed).
``ClickHouseLog.org(org_id).read(fn, *args)`` runs such a function, as ``store.log`` does.

Functions that change rows in place (``db.execute``: UPDATE, upsert) have ClickHouse forms of
their own (``_edits``): ClickHouse replaces a row by inserting it again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

import orjson
from sqlalchemy import JSON, Executable
from sqlalchemy.engine import Result
from sqlalchemy.engine.result import IteratorResult, SimpleResultMetaData
from sqlalchemy.ext.asyncio import AsyncConnection

from helioscope.store._runner import OrgDb
from helioscope.store.clickhouse import _hourly as hourly
from helioscope.store.clickhouse._client import (
    ClickHouse,
    ClickHouseRejected,
    ClickHouseUnavailable,
)
from helioscope.store.clickhouse._dialect import KEY_HASHES, KEY_IDS, ClickHouseSqlDialect
from helioscope.store.clickhouse._edits import EDITS
from helioscope.store.clickhouse._insert import insert_log_rows
from helioscope.store.clickhouse._migrate import migrate
from helioscope.store.clickhouse._reads import READS
from helioscope.store.clickhouse._sql import DIALECT, compile_statement
from helioscope.store.clickhouse._url import ClickHouseUrl
from helioscope.store.records import LogRow

P = ParamSpec("P")
T = TypeVar("T")

# The journal's read positions of a batch (worker id -> position), as the writer hands them.
Positions = Mapping[str, Any]


def _json_value(value: Any) -> Any:
    # Maps arrive as dicts already; JSON text columns (prompt inputs) arrive as text.
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _scores(value: Any) -> Any:
    # The Map keeps Float64; a score written as 5 reads back as 5, as SQL's JSON keeps it (and
    # as Helicone, whose scores are integers, prints it).
    if not isinstance(value, dict):
        return value
    return {k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in value.items()}


def _processor(type_: Any, key: str) -> Callable[[Any], Any] | None:
    if isinstance(type_, JSON) or isinstance(getattr(type_, "impl", None), JSON):
        return _scores if key == "scores" else _json_value
    processor: Callable[[Any], Any] | None = type_._cached_result_processor(DIALECT, None)
    return processor


# An organization's API key hashes by key id, read from the relational store.
KeyHashes = Callable[[str], Awaitable[dict[int, str]]]


class ClickHouseDb(OrgDb):
    """An ``OrgDb`` whose statements run on ClickHouse (there is no SQLAlchemy connection)."""

    __slots__ = ("clickhouse", "key_hashes")

    def __init__(
        self,
        clickhouse: ClickHouse,
        dialect: ClickHouseSqlDialect,
        org_id: str,
        key_hashes: KeyHashes | None = None,
    ) -> None:
        super().__init__(cast(AsyncConnection, None), dialect, org_id)
        self.clickhouse = clickhouse
        self.key_hashes = key_hashes

    def for_org(self, org_id: str) -> ClickHouseDb:
        """This ClickHouse, scoped to another organization."""
        dialect = cast(ClickHouseSqlDialect, self.dialect)
        return ClickHouseDb(self.clickhouse, dialect, org_id, self.key_hashes)

    async def _bind_keys(self, parameters: dict[str, Any]) -> None:
        # The request.auth_hash filter names the organization's keys (metadata): bound here.
        if KEY_IDS not in parameters:
            return
        if self.key_hashes is None:
            raise ClickHouseRejected("request.auth_hash needs the API keys of the relational store")
        keys = await self.key_hashes(self.org_id)
        parameters[KEY_IDS] = list(keys)
        parameters[KEY_HASHES] = list(keys.values())

    async def _result(self, stmt: Executable) -> Result[Any]:
        query = compile_statement(stmt)
        await self._bind_keys(query.parameters)
        answer = await self.clickhouse.query(query.sql, query.parameters)
        keys = query.result_keys or list(answer.columns)
        processors = [_processor(t, k) for t, k in zip(query.result_types, keys, strict=False)]
        rows = answer.rows
        if any(processors):
            rows = [
                tuple(p(v) if p is not None else v for p, v in zip(processors, row, strict=True))
                for row in rows
            ]
        return IteratorResult(SimpleResultMetaData(keys), iter(rows))

    async def rows(self, stmt: Executable) -> list[dict[str, Any]]:
        """Every row, as a dict by column name."""
        return [dict(row) for row in (await self._result(stmt)).mappings()]

    async def row(self, stmt: Executable) -> dict[str, Any] | None:
        """The first row as a dict, or None."""
        found = (await self._result(stmt)).mappings().first()
        return None if found is None else dict(found)

    async def tuples(self, stmt: Executable) -> list[tuple[Any, ...]]:
        """Every row, as a tuple in the statement's column order."""
        return [tuple(row) for row in await self._result(stmt)]

    async def scalar(self, stmt: Executable) -> Any:
        """The first column of the first row, or None when there is no row."""
        return (await self._result(stmt)).scalar()

    async def scalars(self, stmt: Executable) -> list[Any]:
        """The first column of every row."""
        return list((await self._result(stmt)).scalars())

    async def execute(
        self, stmt: Executable, rows: Sequence[Mapping[str, Any]] | None = None
    ) -> int:
        """Refused: rows change on ClickHouse by being inserted again (``_edits``)."""
        raise ClickHouseRejected(
            f"{type(stmt).__name__} statements do not run on ClickHouse; "
            "the change has a ClickHouse form in store/clickhouse/_edits.py"
        )


class ClickHouseOrgRunner:
    """Runs one organization's log query functions on ClickHouse."""

    __slots__ = ("_log", "_org_id")

    def __init__(self, log: ClickHouseLog, org_id: str) -> None:
        self._log = log
        self._org_id = org_id

    async def read(
        self,
        fn: Callable[Concatenate[OrgDb, P], Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """``fn(db, *args, **kwargs)`` for this organization, on ClickHouse.

        A function with a faster ClickHouse form (``_reads.READS``) runs as that form.
        """
        form = READS.get(fn, fn)
        result: T = await form(self._log.db(self._org_id), *args, **kwargs)
        return result

    async def write(
        self,
        fn: Callable[Concatenate[OrgDb, P], Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """The ClickHouse form of the log function ``fn`` (``_edits.EDITS``), for this organization.

        Call sites name the store's function (``requests.set_property``); ClickHouse changes a
        row by inserting it again, so each such function has a form of its own here.
        """
        edit = EDITS.get(fn)
        if edit is None:
            raise ClickHouseRejected(f"{fn.__qualname__} has no ClickHouse form (_edits.EDITS)")
        result: T = await edit(self._log.clickhouse, self._org_id, *args, **kwargs)
        return result


class ClickHouseLog:
    """The request log kept in ClickHouse (``store.log`` with ``HELIOSCOPE_CLICKHOUSE_URL``).

    ``org(org_id).read(fn, …)`` runs the log's query functions, ``.write(fn, …)`` their
    ClickHouse forms, ``write_batch`` the writer's batches. Built from a URL, it connects (and
    creates its tables) in ``start``, which ``Store.migrate`` calls; built over an open
    ``ClickHouse``, it is ready at once.
    """

    def __init__(
        self,
        source: ClickHouse | str,
        *,
        cluster: str | None = None,
        retention_days: int | None = None,
        commit_positions: Callable[[Positions], Awaitable[None]] | None = None,
        key_hashes: KeyHashes | None = None,
    ) -> None:
        self._clickhouse = source if isinstance(source, ClickHouse) else None
        self._url = None if isinstance(source, ClickHouse) else source
        self.dialect = ClickHouseSqlDialect()
        self.cluster = cluster
        self.retention_days = retention_days
        # Where the journal's read positions go once their rows are in ClickHouse: the
        # relational store (rows are idempotent here, so a crash between the two replays them).
        self.commit_positions = commit_positions
        # The organization's API keys, for the request.auth_hash filter (set by the Store).
        self.key_hashes = key_hashes
        # The rollup beside the log takes each batch's signed deltas, exact only if every
        # earlier batch succeeded whole. At start (a crash may have cut a batch after its
        # log insert: None, the newest rows) and after a failure (from when that batch
        # began), the hours of rows written since are recomputed before the next batch.
        self._healed = False
        self._heal_from: dt.datetime | None = None

    @property
    def clickhouse(self) -> ClickHouse:
        """The open client."""
        if self._clickhouse is None:
            raise RuntimeError("the ClickHouse log is not started (Store.migrate starts it)")
        return self._clickhouse

    @property
    def _parsed_url(self) -> ClickHouseUrl:
        if self._clickhouse is not None:
            return self._clickhouse.url
        assert self._url is not None
        return ClickHouseUrl.parse(self._url)

    @property
    def server(self) -> str | None:
        """The ClickHouse server's URL, without its password; None for an embedded chdb.

        chdb runs in this process: it is never down, so nothing waits for it (``_outage``).
        """
        url = self._parsed_url
        return None if url.kind == "chdb" else url.redacted()

    @property
    def name(self) -> str:
        """Its name in messages: "ClickHouse" and its URL, without the password."""
        return f"ClickHouse {self._parsed_url.redacted()}"

    @staticmethod
    def raised(exc: BaseException) -> bool:
        """Whether ``exc`` is ClickHouse's (not the relational store's beside it)."""
        return isinstance(exc, ClickHouseUnavailable | ClickHouseRejected)

    async def _connect(self) -> ClickHouse:
        if self._clickhouse is None:
            assert self._url is not None
            self._clickhouse = await ClickHouse.connect(self._url)
        return self._clickhouse

    async def start(self) -> None:
        """Connect (for chdb: start the engine) if need be, and bring the tables up to date."""
        await self._connect()
        await self.migrate(self.cluster, self.retention_days)

    async def ping(self) -> None:
        """One round trip to ClickHouse (connecting first if it has not yet)."""
        await (await self._connect()).query("SELECT 1")

    def db(self, org_id: str) -> ClickHouseDb:
        """One organization's ``OrgDb`` on ClickHouse (what ``OrgDb.log`` hands other areas)."""
        return ClickHouseDb(self.clickhouse, self.dialect, org_id, self.key_hashes)

    def org(self, org_id: str) -> ClickHouseOrgRunner:
        """A runner for one organization's log functions."""
        return ClickHouseOrgRunner(self, org_id)

    async def write_batch(self, rows: list[LogRow], positions: Positions | None = None) -> None:
        """Write a batch of log rows as one INSERT, then commit the journal's ``positions``.

        Replays are harmless (ReplacingMergeTree), so the positions are committed after the
        insert succeeds, to the relational store: a crash in between replays the batch.
        """
        if not self._healed:
            await hourly.heal(self.clickhouse, self._heal_from)
            self._healed = True
        started = dt.datetime.now(dt.UTC)
        try:
            await insert_log_rows(self.clickhouse, rows)
        except BaseException:
            self._healed, self._heal_from = False, started
            raise
        if positions is not None:
            if self.commit_positions is None:
                raise RuntimeError("journal positions given, but nowhere to commit them")
            await self.commit_positions(positions)

    async def migrate(self, cluster: str | None = None, retention_days: int | None = None) -> None:
        """Create the log's tables and set their retention."""
        await migrate(self.clickhouse, cluster, retention_days)

    async def close(self) -> None:
        """Close the client (if it was opened)."""
        if self._clickhouse is not None:
            await self._clickhouse.close()
            self._clickhouse = None
