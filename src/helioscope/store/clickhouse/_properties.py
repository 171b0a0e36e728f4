"""The ``request_property`` table: one row per (request, property key), kept with the log.

Property queries read this table instead of the log's ``properties`` Map: a lookup in a Map
reads every key and value of every row, while here a key's rows are one range of the sort key
(README: "Properties out of the scan"). It is kept exact the way the session summary is: the
writer writes a batch's properties in the same call as its log rows, with the log rows'
version, so a replayed row replaces its own property rows; a key the new version of a row no
longer has (a reused id whose properties changed) gets a tombstone, which FINAL leaves out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Column, MetaData, String, Table

from helioscope.store._dialects import UtcDateTime
from helioscope.store.clickhouse._client import ClickHouse
from helioscope.store.filters._fields import PROPERTY_COLUMNS

# Keys the log keeps as columns of its own (any case): reads take them from those columns
# (``filters.property_column``), so the table leaves them out. In the benchmark's log they
# are three of every row's five keys.
IN_COLUMNS = tuple(sorted(key.lower() for key in PROPERTY_COLUMNS))

# The table as the reads see it (``_reads``, ``_dialect``); read FINAL (``_sql``).
request_property = Table(
    "request_property",
    MetaData(),
    Column("organization_id", String()),
    Column("key", String()),
    Column("request_created_at", UtcDateTime()),
    Column("request_id", String()),
    Column("value", String()),
    Column("cost", BigInteger()),
)

COLUMNS = (
    "organization_id",
    "key",
    "request_created_at",
    "request_id",
    "value",
    "cost",
    "updated_at",
    "is_deleted",
)


@dataclass(frozen=True, slots=True)
class Logged:
    """A log row as the property table needs it (properties cleaned as the log stores them)."""

    organization_id: str
    request_id: str
    request_created_at: dt.datetime
    properties: Mapping[str, str]
    cost: int | None


# Of a row a batch replaces: its time (the log's identity is (org, time, id)) and its keys.
Previous = tuple[dt.datetime, Sequence[str]]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)


def ticks(value: dt.datetime) -> int:
    """Microseconds since the epoch (naive times are UTC): what a DateTime64(6) holds.

    Handing clickhouse-connect integers skips its per-value datetime conversion, the slowest
    part of building a block.
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return (value - _EPOCH) // _MICROSECOND


async def write(
    clickhouse: ClickHouse,
    rows: Sequence[Logged],
    now: dt.datetime,
    previous: Mapping[tuple[str, str], Previous] | None = None,
) -> None:
    """Insert the properties of ``rows`` (one INSERT), versioned ``now`` as their log rows.

    ``previous`` holds the rows these replace: a key the replaced version had and the new one
    lacks gets a tombstone, so that no query counts it any more.
    """
    logged = property_rows(
        LoggedColumns(
            [r.organization_id for r in rows],
            [r.request_id for r in rows],
            [ticks(r.request_created_at) for r in rows],
            [r.properties for r in rows],
            [r.cost for r in rows],
        ),
        now,
        previous,
    )
    await insert_rows(clickhouse, logged)


@dataclass(frozen=True, slots=True)
class LoggedColumns:
    """Log rows as the property table needs them, a list per column (times as ticks)."""

    organization_id: Sequence[str]
    request_id: Sequence[str]
    request_created_at: Sequence[int]
    properties: Sequence[Mapping[str, str]]
    cost: Sequence[int | None]


def property_rows(
    rows: LoggedColumns,
    now: dt.datetime,
    previous: Mapping[tuple[str, str], Previous] | None = None,
) -> list[Sequence[Any]] | None:
    """The table's rows for ``rows`` (``write``'s), a list per column; None if there are none.

    From columns, with no object per property.
    """
    of_row: list[int] = []
    keys: list[str] = []
    values: list[str] = []
    deleted: list[int] = []
    for i, properties in enumerate(rows.properties):
        for key, value in properties.items():
            if key.lower() not in IN_COLUMNS:
                of_row.append(i)
                keys.append(key)
                values.append(value)
    deleted = [0] * len(of_row)
    if previous:
        position = {
            key: i for i, key in enumerate(zip(rows.organization_id, rows.request_id, strict=True))
        }
        for logged, (time, old_keys) in previous.items():
            i = position.get(logged, -1)
            # Only the same log row (same time) is replaced; another time is another row.
            if i < 0 or ticks(time) != rows.request_created_at[i]:
                continue
            for name in old_keys:
                if name not in rows.properties[i] and name.lower() not in IN_COLUMNS:
                    of_row.append(i)
                    keys.append(name)
                    values.append("")
                    deleted.append(1)
    if not of_row:
        return None
    columns: list[Sequence[Any]] = [
        [rows.organization_id[i] for i in of_row],
        keys,
        [rows.request_created_at[i] for i in of_row],
        [rows.request_id[i] for i in of_row],
        values,
        [rows.cost[i] for i in of_row],
        [ticks(now)] * len(of_row),
        deleted,
    ]
    return columns


async def insert_rows(clickhouse: ClickHouse, columns: list[Sequence[Any]] | None) -> None:
    """Insert rows made by ``property_rows`` (one INSERT), if any."""
    if columns is not None:
        await clickhouse.insert("request_property", COLUMNS, columns)


# Every property of the log at once, for a log written before the table existed (a schema
# migration) or generated inside ClickHouse (the benchmarks).
_REBUILD = f"""
INSERT INTO request_property ({", ".join(COLUMNS)})
SELECT organization_id, key, request_created_at, request_id, value, cost, updated_at, 0
FROM request_response FINAL
ARRAY JOIN mapKeys(properties) AS key, mapValues(properties) AS value
WHERE lower(key) NOT IN {{in_columns:Array(String)}}
"""


async def rebuild(clickhouse: ClickHouse) -> None:
    """Fill the table from the log (its rows replace any older versions already there)."""
    await clickhouse.command(_REBUILD, {"in_columns": list(IN_COLUMNS)})
