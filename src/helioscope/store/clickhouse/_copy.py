"""Copying a SQLite/PostgreSQL log into ClickHouse (``helioscope migrate --to-clickhouse``).

The copy reads each organization's log in keyset pages on ``(request_created_at,
request_id)`` (the order of the SQL index, so the thousandth page costs what the first does)
and writes each page as one ClickHouse insert, bodies included. After every page it records
where it got to in ``log_copy_checkpoint`` (in ClickHouse, beside the rows it describes): a
copy that stops, for whatever reason, starts again after the last page it recorded. A page
written twice (stopped between the insert and the checkpoint) is harmless, as every replay is
on a ReplacingMergeTree. The rest of the log (feedback, session tags, scores by key, hidden
property keys) is small and copied whole per organization; session totals are recomputed by
the insert as for any batch. At the end every table's rows are counted on both sides.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select

from helioscope.store import keys
from helioscope.store._runner import OrgDb, Runner
from helioscope.store.clickhouse._client import ClickHouse
from helioscope.store.clickhouse._insert import insert_log_rows
from helioscope.store.records import LogRow
from helioscope.store.tables.log import (
    feedback,
    hidden_property_key,
    request_body,
    score_value,
    session_tag,
)
from helioscope.store.tables.log import request_response as rr

CHECKPOINT_TABLE = "log_copy_checkpoint"
_CHECKPOINT_DDL = (
    f"CREATE TABLE IF NOT EXISTS {CHECKPOINT_TABLE} ("
    "source String, organization_id String, "
    "after_created_at Nullable(DateTime64(6, 'UTC')), after_request_id Nullable(String), "
    "copied UInt64, done UInt8, updated_at DateTime64(6, 'UTC')"
    ") ENGINE = ReplacingMergeTree(updated_at) ORDER BY (source, organization_id)"
)
_FIELDS = tuple(f.name for f in dataclasses.fields(LogRow))
_ROW_COLUMNS = [rr.c[name] for name in _FIELDS if name in rr.c]
# The small tables, copied whole per organization: (SQL table, ClickHouse columns).
_SIDE_TABLES = (
    (feedback, ("organization_id", "request_id", "id", "rating", "created_at")),
    (session_tag, ("organization_id", "session_id", "tag", "created_at")),
    (score_value, ("organization_id", "request_id", "score_key", "value", "created_at")),
    (hidden_property_key, ("organization_id", "key", "created_at")),
)
COPIED_TABLES = ("request_response", *(table.name for table, _ in _SIDE_TABLES))


@dataclass(frozen=True, slots=True)
class Mark:
    """Where one organization's copy got to."""

    after: tuple[dt.datetime, str] | None
    copied: int
    done: bool


@dataclass(frozen=True, slots=True)
class TableCount:
    """One table's rows in the source and in ClickHouse (every organization)."""

    table: str
    source: int
    clickhouse: int


@dataclass(frozen=True, slots=True)
class CopyReport:
    """What a copy did: rows copied now, rows a previous run had copied, and the counts."""

    copied: int
    resumed: int
    counts: list[TableCount]

    @property
    def verified(self) -> bool:
        """Every table holds as many rows in ClickHouse as in the source."""
        return all(c.source == c.clickhouse for c in self.counts)


async def log_rows_after(
    db: OrgDb, after: tuple[dt.datetime, str] | None, limit: int
) -> list[LogRow]:
    """The organization's next ``limit`` log rows, bodies included, in keyset order."""
    created = rr.c.request_created_at
    condition = db.in_org(rr)
    if after is not None:
        at, request_id = after
        condition = and_(
            condition, or_(created > at, and_(created == at, rr.c.request_id > request_id))
        )
    joined = rr.outerjoin(
        request_body,
        and_(
            request_body.c.organization_id == rr.c.organization_id,
            request_body.c.request_id == rr.c.request_id,
        ),
    )
    stmt = (
        select(*_ROW_COLUMNS, request_body.c.request_body, request_body.c.response_body)
        .select_from(joined)
        .where(condition)
        .order_by(created, rr.c.request_id)
        .limit(limit)
    )
    return [LogRow(**_log_fields(row)) for row in await db.rows(stmt)]


def _log_fields(row: dict[str, Any]) -> dict[str, Any]:
    fields = {name: row[name] for name in _FIELDS if name in row}
    fields["properties"] = fields.get("properties") or {}
    fields["scores"] = fields.get("scores") or {}
    return fields


async def count_log_rows(db: OrgDb, table_name: str) -> int:
    """How many rows of one log table the organization has."""
    table = (
        rr if table_name == rr.name else next(t for t, _ in _SIDE_TABLES if t.name == table_name)
    )
    return int(await db.scalar(select(func.count()).select_from(table).where(db.in_org(table))))


async def side_rows(db: OrgDb, table_name: str) -> list[tuple[Any, ...]]:
    """Every row of one small log table for the organization, in ClickHouse's column order."""
    table, columns = next((t, c) for t, c in _SIDE_TABLES if t.name == table_name)
    stmt = select(*(table.c[name] for name in columns)).where(db.in_org(table))
    return await db.tuples(stmt)


async def _marks(clickhouse: ClickHouse, source: str) -> dict[str, Mark]:
    await clickhouse.command(_CHECKPOINT_DDL)
    found = await clickhouse.query(
        f"SELECT organization_id, after_created_at, after_request_id, copied, done "
        f"FROM {CHECKPOINT_TABLE} FINAL WHERE source = {{source:String}}",
        {"source": source},
    )
    marks = {}
    for org_id, at, request_id, copied, done in found.rows:
        after = None if at is None else (at, str(request_id))
        marks[str(org_id)] = Mark(after, int(copied), bool(done))
    return marks


async def _mark(clickhouse: ClickHouse, source: str, org_id: str, mark: Mark) -> None:
    at, request_id = mark.after if mark.after is not None else (None, None)
    row: dict[str, Any] = {
        "source": source,
        "organization_id": org_id,
        "after_created_at": at,
        "after_request_id": request_id,
        "copied": mark.copied,
        "done": int(mark.done),
        "updated_at": dt.datetime.now(dt.UTC),
    }
    await clickhouse.insert(CHECKPOINT_TABLE, tuple(row), [[value] for value in row.values()])


async def _copy_side_tables(source: Runner, clickhouse: ClickHouse, org_id: str) -> None:
    for table, columns in _SIDE_TABLES:
        rows = await source.org(org_id).read(side_rows, table.name)
        if not rows:
            continue
        data: list[list[Any]] = [list(column) for column in zip(*rows, strict=True)]
        names: tuple[str, ...] = columns
        if table is hidden_property_key:
            names = (*columns, "is_deleted")
            data.append([0] * len(rows))
        await clickhouse.insert(table.name, names, data)


async def _count_clickhouse(clickhouse: ClickHouse, table: str, org_ids: list[str]) -> int:
    found = await clickhouse.query(
        f"SELECT count() FROM {table} FINAL WHERE organization_id IN {{orgs:Array(String)}}",
        {"orgs": org_ids},
    )
    return int(found.rows[0][0])


async def copy_log(
    source: Runner,
    location: str,
    clickhouse: ClickHouse,
    *,
    page_size: int = 10_000,
    started: Callable[[int, int], None] = lambda total, done: None,
    advanced: Callable[[int], None] = lambda rows: None,
) -> CopyReport:
    """Copy every organization's log from ``source`` (SQL) into ``clickhouse``, resuming.

    ``location`` names the source in the checkpoint (its file or URL). ``started(total,
    done)`` is called once with the log's size and what earlier runs copied, ``advanced(rows)``
    after each page.
    """
    orgs = [org.id for org in await source.read(keys.list_orgs)]
    marks = await _marks(clickhouse, location)
    totals = {org: await source.org(org).read(count_log_rows, rr.name) for org in orgs}
    resumed = sum(m.copied for m in marks.values() if m.copied)
    started(sum(totals.values()), resumed)
    copied = 0
    for org in orgs:
        mark = marks.get(org, Mark(None, 0, False))
        if mark.done:
            continue
        while rows := await source.org(org).read(log_rows_after, mark.after, page_size):
            await insert_log_rows(clickhouse, rows)
            last = rows[-1]
            mark = Mark((last.request_created_at, last.request_id), mark.copied + len(rows), False)
            await _mark(clickhouse, location, org, mark)
            copied += len(rows)
            advanced(len(rows))
        await _copy_side_tables(source, clickhouse, org)
        await _mark(clickhouse, location, org, dataclasses.replace(mark, done=True))
    counts = []
    for table in COPIED_TABLES:
        in_source = sum([await source.org(org).read(count_log_rows, table) for org in orgs])
        counts.append(
            TableCount(table, in_source, await _count_clickhouse(clickhouse, table, orgs))
        )
    return CopyReport(copied, resumed, counts)
