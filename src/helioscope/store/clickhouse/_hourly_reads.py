"""Dashboard reads from the per-hour rollups (``_hourly``): whole hours from the rollups.

A window ``[start, end]`` is cut at whole hours: ``[h0, h1)`` is read from the rollups, and
``[start, h0)`` and ``[h1, end]`` (under two hours of rows) from the log, as rows of the same
shape (each one request). Sums come from ``request_hour``, distinct users from ``user_hour``,
latency quantiles from the histogram ``latency_hour``. A filter names the log's columns and
rows, which the rollups no longer have, so the store's own function answers it, but for one:
a single property equal to a value, which ``property_hour`` and ``property_user_hour`` keep.
The store's functions also answer a window shorter than an hour, a client offset that is not
whole hours, minute buckets, a breakdown by country (not a rollup column), and times outside
ClickHouse's ``DateTime`` (1970 to 2106).
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    String,
    Subquery,
    and_,
    case,
    cast,
    distinct,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)

from helioscope.store._dialects import UtcDateTime
from helioscope.store._runner import OrgDb
from helioscope.store.clickhouse._ddl import HOURLY_SUMS, PROPERTY_HOUR_SUMS
from helioscope.store.clickhouse._dialect import BELOW_LEVEL, ClickHouseSqlDialect
from helioscope.store.clickhouse._hourly import END_HOUR, FIRST_HOUR, SUMMED, hour_of
from helioscope.store.clickhouse._hourly import latency_hour as lh
from helioscope.store.clickhouse._hourly import property_hour as ph
from helioscope.store.clickhouse._hourly import property_user_hour as puh
from helioscope.store.clickhouse._hourly import request_hour as rh
from helioscope.store.clickhouse._hourly import user_hour as uh
from helioscope.store.clickhouse._properties import IN_COLUMNS
from helioscope.store.clickhouse._sql import QuantilesExactWeighted
from helioscope.store.cost import usd
from helioscope.store.filters import compile_filter
from helioscope.store.log import metrics, users
from helioscope.store.log.timeseries import Buckets, TimeWindow, filled
from helioscope.store.tables.log import request_response as rr

_HOUR = dt.timedelta(hours=1)
_GROUPS = ("model", "provider", "status")


def _unfiltered(db: OrgDb, node: Any, aggregates: dict[str, Any] | None = None) -> bool:
    compiled = compile_filter(node, db.dialect, aggregates)
    return compiled.where is None and compiled.having is None


def _hours(window: TimeWindow) -> tuple[dt.datetime, dt.datetime] | None:
    """``(h0, h1)``: the whole hours inside the window, or None when there are none."""
    start = hour_of(window.start)
    first = start if start == window.start.astimezone(dt.UTC) else start + _HOUR
    last = hour_of(window.end)
    if first >= last or first < FIRST_HOUR or last > END_HOUR:
        return None
    return first, last


class _Scope(NamedTuple):
    """What a read counts: every request, or those with one property's value.

    ``where`` is the compiled filter, for the log's rows at the window's edges.
    """

    prop: tuple[str, str] | None = None
    where: ColumnElement[bool] | None = None


_EVERY = _Scope()


def one_property(node: Any) -> tuple[str, str] | None:
    """``(key, value)`` of a filter that is one property equal to a value, else None.

    Only a lower-case key that the log keeps in its Map, and a value that is not '' (a
    missing property reads as '').
    """
    inner = node.get("request_response_rmt") if isinstance(node, dict) and len(node) == 1 else None
    props = inner.get("properties") if isinstance(inner, dict) and len(inner) == 1 else None
    if not isinstance(props, dict) or len(props) != 1:
        return None
    ((key, test),) = props.items()
    value = test.get("equals") if isinstance(test, dict) and len(test) == 1 else None
    if not isinstance(value, str) or value == "" or key != key.lower() or key in IN_COLUMNS:
        return None
    return key, value


def _scope(db: OrgDb, node: Any) -> _Scope | None:
    """The rollups' scope of a filter, or None when only the log can answer it."""
    compiled = compile_filter(node, db.dialect)
    if compiled.having is not None:
        return None
    if compiled.where is None:
        return _EVERY
    prop = one_property(node)
    return None if prop is None else _Scope(prop, compiled.where)


def _units(
    db: OrgDb,
    window: TimeWindow,
    hours: tuple[dt.datetime, dt.datetime],
    users: bool,
    scope: _Scope = _EVERY,
) -> Subquery:
    """The window as rows of (time, model, provider, status, user_id, sums…).

    The rollups' rows carry no user; with ``users``, each (hour, user) of ``user_hour`` is a
    row of its own with every sum zero, so that ``count(DISTINCT user_id)`` counts them and
    no sum changes. Scoped to one property, the rows come from ``property_hour`` and
    ``property_user_hour`` (no model, provider or status: those reads go to the log).
    """
    first, last = hours
    hour = literal_column("toDateTime64(hour, 6, 'UTC')", UtcDateTime()).label("t")
    nothing = [null().label(name) for name in ("model", "provider", "status", "user_id")]
    if scope.prop is None:
        errors = case((rh.c.status != 200, rh.c.requests), else_=0)
        from_rollup = select(
            hour,
            rh.c.model,
            rh.c.provider,
            rh.c.status,
            null().label("user_id"),
            *(rh.c[name].label(name) for name in HOURLY_SUMS),
            errors.label("errors"),
        ).where(db.in_org(rh), rh.c.hour >= first, rh.c.hour < last)
        users_of = select(hour, *nothing[:3], uh.c.user_id).where(db.in_org(uh))
        users_of = users_of.where(uh.c.hour >= first, uh.c.hour < last)
    else:
        key, value = scope.prop
        from_rollup = select(
            hour, *nothing, *(ph.c[name].label(name) for name in PROPERTY_HOUR_SUMS)
        ).where(db.in_org(ph), ph.c.key == key, ph.c.value == value)
        from_rollup = from_rollup.where(ph.c.hour >= first, ph.c.hour < last)
        users_of = select(hour, *nothing[:3], puh.c.user_id).where(
            db.in_org(puh), puh.c.key == key, puh.c.value == value
        )
        users_of = users_of.where(puh.c.hour >= first, puh.c.hour < last)
    t = rr.c.request_created_at
    edges = or_(and_(t >= window.start, t < first), and_(t >= last, t <= window.end))
    from_log = select(
        t.label("t"),
        rr.c.model,
        rr.c.provider,
        rr.c.status,
        rr.c.user_id,
        *(literal_column(f"toInt64({sql})").label(name) for name, sql in SUMMED.items()),
    ).where(db.in_org(rr), edges, *([] if scope.where is None else [scope.where]))
    parts = [from_rollup, from_log]
    if users:
        zero: ColumnElement[Any] = literal_column("toInt64(0)")
        parts.append(users_of.add_columns(*(zero.label(name) for name in PROPERTY_HOUR_SUMS)))
    return union_all(*parts).subquery("units")


def _sum(u: Subquery, name: str) -> ColumnElement[Any]:
    return func.coalesce(func.sum(u.c[name]), 0)


def _average(u: Subquery, total: str, count: str) -> ColumnElement[Any]:
    # avg() over the non-NULL values, as metrics.MEASURES computes it; 0 over none.
    return case((_sum(u, count) > 0, cast(_sum(u, total), Float()) / _sum(u, count)), else_=0.0)


def _measures(u: Subquery) -> dict[str, ColumnElement[Any]]:
    """``metrics.MEASURES``, from the units' sums."""
    return {
        "count": _sum(u, "requests"),
        "cost": usd(_sum(u, "cost")),
        "prompt_tokens": _sum(u, "prompt_tokens"),
        "completion_tokens": _sum(u, "completion_tokens"),
        "reasoning_tokens": _sum(u, "reasoning_tokens"),
        "prompt_cache_read_tokens": _sum(u, "prompt_cache_read_tokens"),
        "prompt_cache_write_tokens": _sum(u, "prompt_cache_write_tokens"),
        "total_tokens": _sum(u, "prompt_tokens") + _sum(u, "completion_tokens"),
        "latency": _average(u, "latency_sum", "latency_count"),
        "ttft": _average(u, "ttft_sum", "ttft_count"),
        "users": func.count(distinct(u.c.user_id)),
        "threats": _sum(u, "threats"),
        "errors": _sum(u, "errors"),
    }


async def totals(db: OrgDb, node: Any, window: TimeWindow | None) -> dict[str, Any]:
    """``metrics.totals`` from the rollups (unfiltered, or filtered by one property)."""
    scope = _scope(db, node) if window is not None else None
    hours = _hours(window) if window is not None and scope is not None else None
    if window is None or scope is None or hours is None:
        return await metrics.totals(db, node, window)
    u = _units(db, window, hours, users=True, scope=scope)
    m = _measures(u)
    stmt = select(
        m["count"].label("requests"),
        m["cost"].label("cost"),
        _sum(u, "latency_sum").label("latency_sum"),
        _sum(u, "ttft_positive_sum").label("ttft_sum"),
        _sum(u, "ttft_positive_count").label("ttft_count"),
        m["prompt_tokens"].label("prompt_tokens"),
        m["completion_tokens"].label("completion_tokens"),
        m["threats"].label("threats"),
        m["users"].label("users"),
        m["errors"].label("errors"),
        _sum(u, "cache_enabled").label("cache_enabled"),
    )
    return await metrics.read_totals(db, stmt)


async def over_time(
    db: OrgDb,
    node: Any,
    window: TimeWindow,
    buckets: Buckets,
    measures: list[str],
    group_by: str | None = None,
    fill: bool = True,
) -> list[dict[str, Any]]:
    """``metrics.over_time`` from the rollups (unfiltered, or filtered by one property)."""
    scope = _scope(db, node)
    hours = _hours(window) if scope is not None else None
    whole_hours = buckets.unit != "minute" and buckets.tz_minutes % 60 == 0
    # Groups need the unfiltered rollup (the property's has no model or status), and
    # distinct users per group the users per group (``user_hour`` has them per hour).
    grouped = group_by is not None and (
        group_by not in _GROUPS or "users" in measures or (scope and scope.prop) is not None
    )
    if scope is None or hours is None or not whole_hours or grouped:
        return await metrics.over_time(db, node, window, buckets, measures, group_by, fill)
    buckets.check(window)
    u = _units(db, window, hours, users="users" in measures, scope=scope)
    m = _measures(u)
    bucket = db.dialect.time_bucket(u.c.t, buckets.unit, buckets.tz_minutes)
    columns: list[Any] = [bucket.label("bucket")]
    group_cols: list[Any] = [bucket]
    if group_by is not None:
        columns.append(u.c[group_by].label(group_by))
        group_cols.append(u.c[group_by])
    columns += [m[name].label(name) for name in measures]
    stmt = select(*columns).group_by(*group_cols).order_by(bucket)
    return await metrics.read_series(db, stmt, window, buckets, measures, group_by, fill)


async def breakdown(
    db: OrgDb, node: Any, window: TimeWindow, by: str, offset: int, limit: int
) -> list[dict[str, Any]]:
    """``metrics.breakdown`` from the rollup (by model, provider or status)."""
    hours = _hours(window) if _unfiltered(db, node) else None
    if hours is None or by not in _GROUPS:
        return await metrics.breakdown(db, node, window, by, offset, limit)
    u = _units(db, window, hours, users=False)
    m = _measures(u)
    key = u.c[by]
    stmt = (
        select(
            key.label("key"),
            m["count"].label("total_requests"),
            m["prompt_tokens"].label("prompt_tokens"),
            m["completion_tokens"].label("completion_tokens"),
            m["cost"].label("cost"),
            m["errors"].label("errors"),
        )
        .group_by(key)
        .order_by(m["count"].desc(), key)
        .offset(offset)
        .limit(limit)
    )
    return await db.rows(stmt)


async def per_user_values(db: OrgDb, node: Any) -> list[dict[str, Any]]:
    """``users.per_user_values`` from the rollup (every hour: no window)."""
    if not _unfiltered(db, node, users.aggregates(db.dialect)):
        return await users.per_user_values(db, node)
    from_rollup = select(uh.c.user_id, uh.c.requests, uh.c.cost).where(db.in_org(uh))
    # Rows outside the rollup's hours (before 1970, from 2106) are summed from the log.
    t = rr.c.request_created_at
    from_log = select(
        rr.c.user_id,
        literal_column("toInt64(1)").label("requests"),
        func.coalesce(rr.c.cost, 0).label("cost"),
    ).where(db.in_org(rr), rr.c.user_id.is_not(None), or_(t < FIRST_HOUR, t >= END_HOUR))
    u = union_all(from_rollup, from_log).subquery("units")
    stmt = select(
        _sum(u, "requests").label("requests"), usd(_sum(u, "cost")).label("cost")
    ).group_by(u.c.user_id)
    return await db.rows(stmt)


async def quantiles(
    db: OrgDb, node: Any, window: TimeWindow, buckets: Buckets, metric: str
) -> list[dict[str, Any]]:
    """``metrics.quantiles`` of latency from the histogram ``latency_hour``: exact nearest ranks.

    Each bucket's latencies, counted per value (the rollup's whole hours, the log's edges one
    request a row), go to ``quantilesExactWeighted`` at the levels ``nearest_ranks`` uses:
    the smallest value whose running count reaches the nearest rank ``ceil(p * n / 100)``.
    """
    hours = _hours(window) if metric == "latency" and _unfiltered(db, node) else None
    whole_hours = buckets.unit != "minute" and buckets.tz_minutes % 60 == 0
    if hours is None or not whole_hours:
        return await metrics.quantiles(db, node, window, buckets, metric)
    buckets.check(window)
    first, last = hours
    # Each side's bucket start as a DateTime: the histogram's hour stays in seconds.
    dialect = db.dialect
    assert isinstance(dialect, ClickHouseSqlDialect)  # a ClickHouseDb's
    start = partial(dialect.bucket_start, unit=buckets.unit, shift_minutes=buckets.tz_minutes)
    from_rollup = select(start(lh.c.hour).label("start"), lh.c.latency, lh.c.requests).where(
        db.in_org(lh), lh.c.hour >= first, lh.c.hour < last
    )
    t = rr.c.request_created_at
    edges = or_(and_(t >= window.start, t < first), and_(t >= last, t <= window.end))
    from_log = select(
        start(t).label("start"), rr.c.latency, literal_column("toInt64(1)").label("requests")
    ).where(db.in_org(rr), edges, rr.c.latency.is_not(None))
    u = union_all(from_rollup, from_log).subquery("units")
    levels = tuple(p / 100 - BELOW_LEVEL for p in metrics.QUANTILES.values())
    selected = QuantilesExactWeighted(u.c.latency, func.toUInt64(u.c.requests), levels)
    picks = [
        func.arrayElement(selected, index + 1, type_=Integer()).label(name)
        for index, name in enumerate(metrics.QUANTILES)
    ]
    bucket = func.toString(u.c.start, type_=String()).label("bucket")
    stmt = select(bucket, *picks).group_by(u.c.start).order_by(u.c.start)
    rows = await db.rows(stmt)
    for row in rows:
        for name in metrics.QUANTILES:
            row[name] = float(row[name] or 0)
    return filled(rows, window, buckets, dict.fromkeys(metrics.QUANTILES, 0.0))
