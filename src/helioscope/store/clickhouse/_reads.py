"""The read functions that need a ClickHouse form of their own, and why.

Everything else the store reads runs unchanged on ClickHouse (``tests/store/clickhouse/
test_query_parity.py`` says which and proves the answers equal SQLite's). These differ:

- ``quantiles``: the SQL form ranks every row with window functions so that SQLite needs no
  percentile function; over 10,000,000 rows ClickHouse spends seconds sorting for the window.
  Here each bucket sorts its values once (``arraySort(groupArray(v))``) and picks the same
  nearest ranks, with integer arithmetic as the SQL form does.
- ``property_keys``: the hidden keys are metadata in SQLite/PostgreSQL; the caller passes them.
- sessions: ``SessionQuery(use_summary=False)``: the session summary is a SQL table the SQL
  writer keeps; ClickHouse aggregates the log directly (``bench/query.py``: the numbers).
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from helioscope.store import _metrics, _properties
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


async def property_keys(conn: AsyncConnection, org_id: str, hidden: Collection[str]) -> list[str]:
    """Distinct property keys of the organization's requests, sorted, ``hidden`` left out."""
    keys = await _properties.property_keys(conn, org_id, include_hidden=True)
    return [key for key in keys if key not in hidden]
