"""Dashboard metrics: totals, series over time, quantiles and breakdowns of the request log.

Costs come out in USD.

Every query here is scoped by ``_scope``: the organization, the time window and the compiled
filter tree, ANDed in one place.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    case,
    cast,
    distinct,
    func,
    select,
)

from helioscope.errors import BadRequest
from helioscope.store._runner import OrgDb
from helioscope.store.cost import usd, usd_sum
from helioscope.store.filters import compile_filter, where_or_true
from helioscope.store.log.timeseries import Buckets, TimeWindow, filled
from helioscope.store.tables.log import request_response as rr

Expr = ColumnElement[Any]

_TOTAL_TOKENS = func.coalesce(rr.c.prompt_tokens, 0) + func.coalesce(rr.c.completion_tokens, 0)
_IS_ERROR = rr.c.status != 200
_THREAT = rr.c.threat.is_(True)


def _count_if(condition: ColumnElement[bool]) -> Expr:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


# The measures a series can ask for, by name (each an aggregate over a bucket's rows).
MEASURES: dict[str, Expr] = {
    "count": func.count(),
    "cost": usd_sum(rr.c.cost),
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
    "cost": usd(rr.c.cost),
}
QUANTILES = {"p75": 75, "p90": 90, "p95": 95, "p99": 99}

# Columns a breakdown can group by.
BREAKDOWNS: dict[str, Expr] = {
    "model": rr.c.model,
    "provider": rr.c.provider,
    "status": rr.c.status,
    "country": rr.c.country_code,
}


def _scope(db: OrgDb, node: Any, window: TimeWindow | None) -> ColumnElement[bool]:
    # The organization is ANDed in here, for every metrics query.
    conditions = [db.in_org(rr), where_or_true(compile_filter(node, db.dialect))]
    if window is not None:
        conditions += [
            rr.c.request_created_at >= window.start,
            rr.c.request_created_at <= window.end,
        ]
    return and_(*conditions)


async def totals(db: OrgDb, node: Any, window: TimeWindow | None) -> dict[str, Any]:
    """Every dashboard total over the window, in one pass (counts as integers, cost in USD)."""
    ttft_rows = rr.c.time_to_first_token > 0
    stmt = select(
        func.count().label("requests"),
        usd_sum(rr.c.cost).label("cost"),
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
    ).where(_scope(db, node, window))
    return await read_totals(db, stmt)


async def read_totals(db: OrgDb, stmt: Any) -> dict[str, Any]:
    """The one row of a totals statement: counts as integers, cost in USD.

    Shared with the ClickHouse rollup's form of ``totals``, so both answer in the same units.
    """
    row = await db.row(stmt)
    assert row is not None  # an aggregate without GROUP BY always has its row
    return {
        key: float(value or 0) if key == "cost" else int(value or 0) for key, value in row.items()
    }


async def over_time(
    db: OrgDb,
    node: Any,
    window: TimeWindow,
    buckets: Buckets,
    measures: list[str],
    group_by: str | None = None,
    fill: bool = True,
) -> list[dict[str, Any]]:
    """Named measures per bucket (and per group), oldest first, empty buckets filled."""
    buckets.check(window)
    bucket = db.dialect.time_bucket(rr.c.request_created_at, buckets.unit, buckets.tz_minutes)
    columns: list[Any] = [bucket.label("bucket")]
    group_cols: list[Any] = [bucket]
    if group_by is not None:
        grouped = BREAKDOWNS[group_by].label(group_by)
        columns.append(grouped)
        group_cols.append(BREAKDOWNS[group_by])
    columns += [MEASURES[name].label(name) for name in measures]
    stmt = select(*columns).where(_scope(db, node, window)).group_by(*group_cols).order_by(bucket)
    return await read_series(db, stmt, window, buckets, measures, group_by, fill)


async def read_series(
    db: OrgDb,
    stmt: Any,
    window: TimeWindow,
    buckets: Buckets,
    measures: list[str],
    group_by: str | None,
    fill: bool,
) -> list[dict[str, Any]]:
    """Run an ``over_time`` statement and shape its rows.

    The statement selects a ``bucket`` column, the group and the measures; the rows get the
    measures as floats, each bucket's instant as ``time``, and empty buckets filled. Shared by
    the SQL form and the ClickHouse rollup's form.
    """
    rows = await db.rows(stmt)
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


async def quantiles(
    db: OrgDb,
    node: Any,
    window: TimeWindow,
    buckets: Buckets,
    metric: str,
) -> list[dict[str, Any]]:
    """p75/p90/p95/p99 of a value per bucket (``SqlDialect.nearest_ranks``).

    Nearest rank: the smallest value with at least p% of the bucket's values at or below it.
    """
    value = QUANTILE_VALUES.get(metric)
    if value is None:
        raise BadRequest(f"metric: unknown metric {metric!r} (known: {', '.join(QUANTILE_VALUES)})")
    buckets.check(window)
    bucket = db.dialect.time_bucket(rr.c.request_created_at, buckets.unit, buckets.tz_minutes)
    scope = _scope(db, node, window)
    stmt = db.dialect.nearest_ranks(bucket, value, scope, QUANTILES)
    rows = await db.rows(stmt)
    for row in rows:
        for name in QUANTILES:
            row[name] = float(row[name] or 0)
    return filled(rows, window, buckets, dict.fromkeys(QUANTILES, 0.0))


async def breakdown(
    db: OrgDb, node: Any, window: TimeWindow, by: str, offset: int, limit: int
) -> list[dict[str, Any]]:
    """Requests, tokens and cost per model, provider, status or country; busiest first."""
    key = BREAKDOWNS[by]
    stmt = (
        select(
            key.label("key"),
            func.count().label("total_requests"),
            func.coalesce(func.sum(rr.c.prompt_tokens), 0).label("prompt_tokens"),
            func.coalesce(func.sum(rr.c.completion_tokens), 0).label("completion_tokens"),
            usd_sum(rr.c.cost).label("cost"),
            _count_if(_IS_ERROR).label("errors"),
        )
        .where(_scope(db, node, window), key.is_not(None))
        .group_by(key)
        .order_by(func.count().desc(), key)
        .offset(offset)
        .limit(limit)
    )
    return await db.rows(stmt)


async def scored_rows(
    db: OrgDb, node: Any, window: TimeWindow, buckets: Buckets
) -> list[tuple[str, dict[str, Any]]]:
    """(bucket, scores) of every scored request in the window, for per-score averages."""
    buckets.check(window)
    bucket = db.dialect.time_bucket(rr.c.request_created_at, buckets.unit, buckets.tz_minutes)
    scored = cast(rr.c.scores, String()).not_in(["{}", ""])
    stmt = select(bucket, rr.c.scores).where(_scope(db, node, window), scored)
    return [(bucket_start, scores or {}) for bucket_start, scores in await db.tuples(stmt)]


async def window_stats(db: OrgDb, since: dt.datetime, until: dt.datetime) -> dict[str, Any]:
    """Requests and errors (status other than 200) in ``[since, until]``, and cost in USD."""
    stmt = select(
        func.count().label("requests"),
        _count_if(_IS_ERROR).label("errors"),
        usd_sum(rr.c.cost).label("cost"),
    ).where(db.in_org(rr), rr.c.request_created_at >= since, rr.c.request_created_at <= until)
    row = await db.row(stmt)
    assert row is not None  # an aggregate without GROUP BY always has its row
    return {
        "requests": int(row["requests"]),
        "errors": int(row["errors"]),
        "cost": float(row["cost"]),
    }
