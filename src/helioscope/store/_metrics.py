"""Dashboard metrics: totals, series over time, quantiles and breakdowns of the request log.

Every query here is scoped by ``_scope``: the organization, the time window and the compiled
filter tree, ANDed in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    String,
    and_,
    case,
    cast,
    distinct,
    func,
    literal,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from helioscope.errors import BadRequest
from helioscope.store._dialects import SqlDialect
from helioscope.store._schema import request_response as rr
from helioscope.store._timeseries import Buckets, TimeWindow, filled
from helioscope.store.filters import NANO_USD, compile_filter, where_or_true

Expr = ColumnElement[Any]

_TOTAL_TOKENS = func.coalesce(rr.c.prompt_tokens, 0) + func.coalesce(rr.c.completion_tokens, 0)
_IS_ERROR = rr.c.status != 200
_THREAT = rr.c.threat.is_(True)


def _count_if(condition: ColumnElement[bool]) -> Expr:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _usd(total: Expr) -> Expr:
    return cast(func.coalesce(total, 0), Float()) / NANO_USD


# The measures a series can ask for, by name (each an aggregate over a bucket's rows).
MEASURES: dict[str, Expr] = {
    "count": func.count(),
    "cost": _usd(func.sum(rr.c.cost)),
    "prompt_tokens": func.coalesce(func.sum(rr.c.prompt_tokens), 0),
    "completion_tokens": func.coalesce(func.sum(rr.c.completion_tokens), 0),
    "reasoning_tokens": func.coalesce(func.sum(rr.c.reasoning_tokens), 0),
    "prompt_cache_read_tokens": func.coalesce(func.sum(rr.c.prompt_cache_read_tokens), 0),
    "prompt_cache_write_tokens": func.coalesce(func.sum(rr.c.prompt_cache_write_tokens), 0),
    "total_tokens": func.coalesce(func.sum(_TOTAL_TOKENS), 0),
    "latency": func.coalesce(func.avg(rr.c.latency), 0),
    "ttft": func.coalesce(func.avg(rr.c.time_to_first_token), 0),
    "users": func.count(distinct(rr.c.user_id)),
    "threats": _count_if(_THREAT),
    "errors": _count_if(_IS_ERROR),
}

# Values whose quantiles can be asked for (Helicone's four, plus TTFT and cost in USD).
QUANTILE_VALUES: dict[str, Expr] = {
    "latency": rr.c.latency,
    "time_to_first_token": rr.c.time_to_first_token,
    "prompt_tokens": rr.c.prompt_tokens,
    "completion_tokens": rr.c.completion_tokens,
    "total_tokens": _TOTAL_TOKENS,
    "cost": cast(rr.c.cost, Float()) / NANO_USD,
}
QUANTILES = {"p75": 75, "p90": 90, "p95": 95, "p99": 99}

# Columns a breakdown can group by.
BREAKDOWNS: dict[str, Expr] = {
    "model": rr.c.model,
    "provider": rr.c.provider,
    "status": rr.c.status,
    "country": rr.c.country_code,
}


def _scope(d: SqlDialect, org_id: str, node: Any, window: TimeWindow | None) -> ColumnElement[bool]:
    # The organization is ANDed in here, for every metrics query.
    conditions = [rr.c.organization_id == org_id, where_or_true(compile_filter(node, d))]
    if window is not None:
        conditions += [
            rr.c.request_created_at >= window.start,
            rr.c.request_created_at <= window.end,
        ]
    return and_(*conditions)


async def totals(
    conn: AsyncConnection, org_id: str, node: Any, window: TimeWindow | None
) -> dict[str, Any]:
    """Every dashboard total over the window, in one pass."""
    d = SqlDialect(conn.dialect.name)
    ttft_rows = rr.c.time_to_first_token > 0
    stmt = select(
        func.count().label("requests"),
        func.coalesce(func.sum(rr.c.cost), 0).label("cost"),
        func.coalesce(func.sum(rr.c.latency), 0).label("latency_sum"),
        func.coalesce(func.sum(case((ttft_rows, rr.c.time_to_first_token), else_=0)), 0).label(
            "ttft_sum"
        ),
        _count_if(ttft_rows).label("ttft_count"),
        func.coalesce(func.sum(rr.c.prompt_tokens), 0).label("prompt_tokens"),
        func.coalesce(func.sum(rr.c.completion_tokens), 0).label("completion_tokens"),
        _count_if(_THREAT).label("threats"),
        func.count(distinct(rr.c.user_id)).label("users"),
        _count_if(_IS_ERROR).label("errors"),
        _count_if(rr.c.cache_enabled.is_(True)).label("cache_enabled"),
    ).where(_scope(d, org_id, node, window))
    row = (await conn.execute(stmt)).one()
    return {key: int(value or 0) for key, value in row._mapping.items()}


async def over_time(
    conn: AsyncConnection,
    org_id: str,
    node: Any,
    window: TimeWindow,
    buckets: Buckets,
    measures: list[str],
    group_by: str | None = None,
    fill: bool = True,
) -> list[dict[str, Any]]:
    """Named measures per bucket (and per group), oldest first, empty buckets filled."""
    buckets.check(window)
    d = SqlDialect(conn.dialect.name)
    bucket = d.time_bucket(rr.c.request_created_at, buckets.unit, buckets.tz_minutes)
    columns: list[Any] = [bucket.label("bucket")]
    group_cols: list[Any] = [bucket]
    if group_by is not None:
        grouped = BREAKDOWNS[group_by].label(group_by)
        columns.append(grouped)
        group_cols.append(BREAKDOWNS[group_by])
    columns += [MEASURES[name].label(name) for name in measures]
    stmt = (
        select(*columns)
        .where(_scope(d, org_id, node, window))
        .group_by(*group_cols)
        .order_by(bucket)
    )
    rows = [dict(r._mapping) for r in await conn.execute(stmt)]
    for row in rows:
        for name in measures:
            row[name] = float(row[name] or 0)
    if not fill:
        for row in rows:
            row["time"] = buckets.instant(buckets.parse_bucket(row.pop("bucket")))
        return rows
    empty: dict[str, Any] = dict.fromkeys(measures, 0.0)
    if group_by is not None:
        empty[group_by] = None
    return filled(rows, window, buckets, empty)


def window_ranks(bucket: Expr, value: Expr, scope: ColumnElement[bool]) -> Select[Any]:
    """Nearest ranks per bucket with window functions, so that SQLite needs no percentile."""
    ranked = (
        select(
            bucket.label("bucket"),
            value.label("value"),
            func.row_number().over(partition_by=bucket, order_by=value).label("rank"),
            func.count().over(partition_by=bucket).label("n"),
        )
        .where(scope, value.is_not(None))
        .subquery()
    )
    # rank >= ceil(p/100 * n)  <=>  100 * rank >= p * n, for whole ranks: no ceil() needed.
    picks = [
        func.min(case((ranked.c.rank * 100 >= literal(p) * ranked.c.n, ranked.c.value))).label(name)
        for name, p in QUANTILES.items()
    ]
    return select(ranked.c.bucket, *picks).group_by(ranked.c.bucket).order_by(ranked.c.bucket)


Ranks = Callable[[Expr, Expr, ColumnElement[bool]], Select[Any]]


async def quantiles(
    conn: AsyncConnection,
    org_id: str,
    node: Any,
    window: TimeWindow,
    buckets: Buckets,
    metric: str,
    ranks: Ranks = window_ranks,
) -> list[dict[str, Any]]:
    """p75/p90/p95/p99 of a value per bucket (``ranks`` builds the query; see ``window_ranks``).

    Nearest rank: the smallest value with at least p% of the bucket's values at or below it.
    """
    value = QUANTILE_VALUES.get(metric)
    if value is None:
        raise BadRequest(f"metric: unknown metric {metric!r} (known: {', '.join(QUANTILE_VALUES)})")
    buckets.check(window)
    d = SqlDialect(conn.dialect.name)
    bucket = d.time_bucket(rr.c.request_created_at, buckets.unit, buckets.tz_minutes)
    stmt = ranks(bucket, value, _scope(d, org_id, node, window))
    rows = [dict(r._mapping) for r in await conn.execute(stmt)]
    for row in rows:
        for name in QUANTILES:
            row[name] = float(row[name] or 0)
    return filled(rows, window, buckets, dict.fromkeys(QUANTILES, 0.0))


async def breakdown(
    conn: AsyncConnection,
    org_id: str,
    node: Any,
    window: TimeWindow,
    by: str,
    offset: int,
    limit: int,
) -> list[dict[str, Any]]:
    """Requests, tokens and cost per model, provider, status or country; busiest first."""
    d = SqlDialect(conn.dialect.name)
    key = BREAKDOWNS[by]
    stmt = (
        select(
            key.label("key"),
            func.count().label("total_requests"),
            func.coalesce(func.sum(rr.c.prompt_tokens), 0).label("prompt_tokens"),
            func.coalesce(func.sum(rr.c.completion_tokens), 0).label("completion_tokens"),
            func.coalesce(func.sum(rr.c.cost), 0).label("cost"),
            _count_if(_IS_ERROR).label("errors"),
        )
        .where(_scope(d, org_id, node, window), key.is_not(None))
        .group_by(key)
        .order_by(func.count().desc(), key)
        .offset(offset)
        .limit(limit)
    )
    return [dict(r._mapping) for r in await conn.execute(stmt)]


async def scored_rows(
    conn: AsyncConnection, org_id: str, node: Any, window: TimeWindow, buckets: Buckets
) -> list[tuple[str, dict[str, Any]]]:
    """(bucket, scores) of every scored request in the window, for per-score averages."""
    buckets.check(window)
    d = SqlDialect(conn.dialect.name)
    bucket = d.time_bucket(rr.c.request_created_at, buckets.unit, buckets.tz_minutes)
    scored = cast(rr.c.scores, String()).not_in(["{}", ""])
    stmt = select(bucket, rr.c.scores).where(_scope(d, org_id, node, window), scored)
    return [(row[0], row[1] or {}) for row in await conn.execute(stmt)]
