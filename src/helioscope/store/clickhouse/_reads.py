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

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.ext.asyncio import AsyncConnection

from helioscope.errors import BadRequest
from helioscope.store._dialects import SqlDialect
from helioscope.store._metrics import QUANTILE_VALUES, QUANTILES, _scope
from helioscope.store._schema import request_response as rr
from helioscope.store._timeseries import Buckets, TimeWindow, filled


def _nearest_rank(values: ColumnElement[Any], percent: int) -> ColumnElement[Any]:
    # The smallest value with at least percent% of the values at or below it: the
    # ceil(percent * n / 100)-th of the sorted values (1-based, as ClickHouse arrays are).
    n = func.length(values)
    return func.arrayElement(values, func.intDiv(percent * n + 99, 100))


async def quantiles(
    conn: AsyncConnection,
    org_id: str,
    node: Any,
    window: TimeWindow,
    buckets: Buckets,
    metric: str,
) -> list[dict[str, Any]]:
    """p75/p90/p95/p99 per bucket: the answers of ``_metrics.quantiles``, sorted per bucket."""
    value = QUANTILE_VALUES.get(metric)
    if value is None:
        raise BadRequest(f"metric: unknown metric {metric!r} (known: {', '.join(QUANTILE_VALUES)})")
    buckets.check(window)
    d = SqlDialect(conn.dialect.name)
    bucket = d.time_bucket(rr.c.request_created_at, buckets.unit, buckets.tz_minutes)
    ordered = func.arraySort(func.groupArray(value))
    picks = [_nearest_rank(ordered, p).label(name) for name, p in QUANTILES.items()]
    stmt = (
        select(bucket.label("bucket"), *picks)
        .where(_scope(d, org_id, node, window), value.is_not(None))
        .group_by(bucket)
        .order_by(bucket)
    )
    rows = [dict(r._mapping) for r in await conn.execute(stmt)]
    for row in rows:
        for name in QUANTILES:
            row[name] = float(row[name] or 0)
    return filled(rows, window, buckets, dict.fromkeys(QUANTILES, 0.0))


async def property_keys(conn: AsyncConnection, org_id: str, hidden: Collection[str]) -> list[str]:
    """Distinct property keys of the organization's requests, sorted, ``hidden`` left out."""
    d = SqlDialect(conn.dialect.name)
    keys = d.json_keys(rr.c.properties)
    stmt = (
        select(keys.c.key)
        .select_from(rr.join(keys, true()))
        .where(rr.c.organization_id == org_id)
        .distinct()
    )
    return sorted(str(k) for (k,) in await conn.execute(stmt) if k not in hidden)
