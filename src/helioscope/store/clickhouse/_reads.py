"""The read functions that need a ClickHouse form of their own, and why.

Everything else the store reads runs unchanged on ClickHouse (``tests/store/clickhouse/
test_query_parity.py`` says which and proves the answers equal SQLite's). These differ:

- ``quantiles``: the SQL form ranks every row with window functions so that SQLite needs no
  percentile function; over 10,000,000 rows ClickHouse spends seconds sorting for the window.
  Here each bucket sorts its values once (``arraySort(groupArray(v))``) and picks the same
  nearest ranks, with integer arithmetic as the SQL form does.
- ``property_keys``: read from the ``property_key`` table a materialized view keeps (listing
  the keys of every row's map took seconds at 10,000,000 rows); the hidden keys are metadata
  in SQLite/PostgreSQL, so the caller passes them.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from typing import Any

from sqlalchemy import Column, ColumnElement, MetaData, Select, String, Table, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from helioscope.store import _metrics
from helioscope.store._dialects import UtcDateTime
from helioscope.store._metrics import QUANTILES


def sorted_ranks(
    bucket: ColumnElement[Any], value: ColumnElement[Any], scope: ColumnElement[bool]
) -> Select[Any]:
    """Nearest ranks per bucket from the bucket's values sorted once (1-based arrays).

    The ``ceil(p * n / 100)``-th value, in integers: ``intDiv(p * n + 99, 100)``.
    """
    ordered = func.arraySort(func.groupArray(value))
    size = func.length(ordered)
    picks = [
        func.arrayElement(ordered, func.intDiv(p * size + 99, 100)).label(name)
        for name, p in QUANTILES.items()
    ]
    return (
        select(bucket.label("bucket"), *picks)
        .where(scope, value.is_not(None))
        .group_by(bucket)
        .order_by(bucket)
    )


# p75/p90/p95/p99 per bucket: the answers of ``_metrics.quantiles``, each bucket sorted once.
quantiles = functools.partial(_metrics.quantiles, ranks=sorted_ranks)


# Kept by the materialized view of ``_ddl.property_keys_view`` (a set: replays cannot spoil it).
property_key = Table(
    "property_key",
    MetaData(),
    Column("organization_id", String()),
    Column("key", String()),
    Column("last_seen", UtcDateTime()),
)


async def property_keys(conn: AsyncConnection, org_id: str, hidden: Collection[str]) -> list[str]:
    """Distinct property keys of the organization's requests, sorted, ``hidden`` left out.

    From the table of keys, not the log: listing the keys of 10,000,000 rows' maps took
    seconds (``bench/dashboard.py``), the table holds one row per key.
    """
    stmt = select(property_key.c.key).where(property_key.c.organization_id == org_id).distinct()
    return sorted(str(key) for (key,) in await conn.execute(stmt) if key not in hidden)
