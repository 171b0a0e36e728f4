"""The user metrics page from ``user_hour``, with exact times from the log's edge hours.

Per-user sums come from the rollup; first and last times from the log's few hours where each
user's first and last request lie.

``users.user_metrics`` groups every log row by user (10,000,000 rows: 1,250 ms CPU here, and
as much again for its count). Every per-user value but three is a sum the rollup keeps per
(hour, user): requests, tokens, cost, and the active days (an hour lies in one UTC day). The
three others are read where they are:

- first and last active: a user's first request lies in the first hour the rollup has for
  them, so the log is read only in those hours (each user's first and last; a primary-key
  read of the hours, 22 of the benchmark's 720);
- the rate-limited count: the requests whose ``Helicone-Rate-Limit-Status`` property is set
  (``request_property``), looked up in the log by its key; none is the common case, and an
  empty set reads nothing.

As in ``_hourly_reads``, a window is cut at whole hours: the rollup answers for those, the log
for the partial hours at its ends (and for rows outside the rollup's 1970 to 2106). The
``users_view`` filter (HAVING) and the sort apply to the joined per-user values, by the names
``users.aggregates`` gives them; a filter on the log's rows goes to the store's own function.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Subquery,
    cast,
    distinct,
    func,
    literal_column,
    or_,
    select,
    true,
    tuple_,
    union_all,
)

from helioscope.store._dialects import UtcDateTime
from helioscope.store._runner import OrgDb
from helioscope.store.clickhouse._hourly import END_HOUR, FIRST_HOUR, hour_of
from helioscope.store.clickhouse._hourly import user_hour as uh
from helioscope.store.clickhouse._properties import request_property as rp
from helioscope.store.cost import usd
from helioscope.store.filters import compile_filter
from helioscope.store.log import users
from helioscope.store.log.users import RATE_LIMITED, UserQuery
from helioscope.store.tables.log import request_response as rr

_HOUR = dt.timedelta(hours=1)
_RATE_LIMIT_KEY = "Helicone-Rate-Limit-Status"


def _whole_hours(query: UserQuery) -> tuple[dt.datetime, dt.datetime]:
    """``[h0, h1)``: the rollup's hours wholly inside ``start < t < end``.

    When they are none, ``h0 > h1`` or ``h0 == h1``: the rollup's part is empty and the log's
    edges (``t < h0 or t >= h1``) cover every time.
    """
    h0 = FIRST_HOUR if query.start is None else max(hour_of(query.start) + _HOUR, FIRST_HOUR)
    h1 = END_HOUR if query.end is None else min(hour_of(query.end), END_HOUR)
    return h0, h1


def _window(query: UserQuery) -> list[ColumnElement[bool]]:
    """The log rows of the organization's users inside the query's window (both ends open)."""
    t = rr.c.request_created_at
    conditions: list[ColumnElement[bool]] = [rr.c.user_id.is_not(None)]
    if query.start is not None:
        conditions.append(t > query.start)
    if query.end is not None:
        conditions.append(t < query.end)
    return conditions


def _units(db: OrgDb, query: UserQuery, hours: tuple[dt.datetime, dt.datetime]) -> Subquery:
    """Per-user rows: the rollup's (user, hour) groups and the log's rows at the window's edges."""
    h0, h1 = hours
    from_rollup = select(
        uh.c.user_id,
        literal_column("toDateTime64(hour, 6, 'UTC')", UtcDateTime()).label("t"),
        uh.c.requests,
        uh.c.cost,
        uh.c.prompt_tokens,
        uh.c.completion_tokens,
    ).where(db.in_org(uh), uh.c.hour >= h0, uh.c.hour < h1)
    t = rr.c.request_created_at
    from_log = select(
        rr.c.user_id,
        t.label("t"),
        literal_column("toInt64(1)").label("requests"),
        func.coalesce(rr.c.cost, 0).label("cost"),
        func.coalesce(rr.c.prompt_tokens, 0).label("prompt_tokens"),
        func.coalesce(rr.c.completion_tokens, 0).label("completion_tokens"),
    ).where(db.in_org(rr), *_window(query), or_(t < h0, t >= h1))
    return union_all(from_rollup, from_log).subquery("units")


def _first_and_last(
    db: OrgDb, query: UserQuery, hours: tuple[dt.datetime, dt.datetime]
) -> Subquery:
    """Each user's first and last request time, from the log's hours that can hold them."""
    h0, h1 = hours
    # One scan of the rollup: each user's first and last hour, as one column.
    edge_hours = (
        select(func.arrayJoin(func.array(func.min(uh.c.hour), func.max(uh.c.hour))))
        .where(db.in_org(uh), uh.c.hour >= h0, uh.c.hour < h1)
        .group_by(uh.c.user_id)
    )
    t = rr.c.request_created_at
    in_edges = or_(func.toStartOfHour(t).in_(edge_hours), t < h0, t >= h1)
    return (
        select(rr.c.user_id, func.min(t).label("first_active"), func.max(t).label("last_active"))
        .where(db.in_org(rr), *_window(query), in_edges)
        .group_by(rr.c.user_id)
        .subquery("edges")
    )


def _rate_limited(db: OrgDb, query: UserQuery) -> Subquery:
    """Per user, the requests refused by a rate limit (as ``users.aggregates`` counts them)."""
    refused = select(rp.c.request_created_at, rp.c.request_id).where(
        db.in_org(rp), rp.c.key == _RATE_LIMIT_KEY, rp.c.value.in_(list(RATE_LIMITED))
    )
    row = tuple_(rr.c.request_created_at, rr.c.request_id)
    return (
        select(rr.c.user_id, func.count().label("refused"))
        .where(db.in_org(rr), *_window(query), row.in_(refused))
        .group_by(rr.c.user_id)
        .subquery("refused")
    )


def _per_user(db: OrgDb, query: UserQuery) -> Subquery:
    """Every user of the window with the values ``users.aggregates`` names (cost in nano-USD)."""
    hours = _whole_hours(query)
    u = _units(db, query, hours)
    requests = func.sum(u.c.requests)
    days = func.count(distinct(db.dialect.time_bucket(u.c.t, "day", 0)))
    tokens = func.sum(u.c.prompt_tokens) + func.sum(u.c.completion_tokens)
    sums = (
        select(
            u.c.user_id,
            days.label("active_for"),
            requests.label("total_requests"),
            (cast(requests, Float()) / days).label("average_requests_per_day_active"),
            (cast(tokens, Float()) / requests).label("average_tokens_per_request"),
            func.sum(u.c.completion_tokens).label("total_completion_tokens"),
            func.sum(u.c.prompt_tokens).label("total_prompt_tokens"),
            func.sum(u.c.cost).label("cost"),
        )
        .group_by(u.c.user_id)
        .subquery("sums")
    )
    edges = _first_and_last(db, query, hours)
    refused = _rate_limited(db, query)
    joined = sums.outerjoin(edges, edges.c.user_id == sums.c.user_id).outerjoin(
        refused, refused.c.user_id == sums.c.user_id
    )
    return (
        select(
            sums.c.user_id,
            sums.c.active_for,
            edges.c.first_active,
            edges.c.last_active,
            *(sums.c[name] for name in _SUMS),
            func.coalesce(refused.c.refused, 0).label("rate_limited_count"),
        )
        .select_from(joined)
        .subquery("per_user")
    )


_SUMS = (
    "total_requests",
    "average_requests_per_day_active",
    "average_tokens_per_request",
    "total_completion_tokens",
    "total_prompt_tokens",
    "cost",
)


async def user_metrics(db: OrgDb, query: UserQuery) -> tuple[list[dict[str, Any]], int]:
    """``users.user_metrics`` from the rollup, the edge hours and ``request_property``."""
    per_user = _per_user(db, query)
    values = {name: per_user.c[name] for name in users.aggregates(db.dialect)}
    compiled = compile_filter(query.filter, db.dialect, values)
    bad_page = not 0 < query.limit <= users.MAX_USERS_PAGE or query.offset < 0
    if compiled.where is not None or bad_page:
        # A filter on the log's rows, or a page the store's function refuses (with its 400).
        return await users.user_metrics(db, query)
    kept = compiled.having if compiled.having is not None else true()
    columns = [c.label(name) for name, c in values.items()]
    columns[list(values).index("cost")] = usd(per_user.c.cost).label("cost")
    page = (
        select(*columns, func.count().over().label("matching"))
        .where(kept)
        .order_by(*users.page_order(query.sort, values))
        .offset(query.offset)
        .limit(query.limit)
    )
    rows = await db.rows(page)
    if rows:
        count = int(rows[0]["matching"])
        for row in rows:
            del row["matching"]
        return rows, count
    if query.offset == 0:  # a first page with no row: no user matches
        return rows, 0
    # A page past the last user has no row to carry the count.
    count_stmt = select(func.count()).select_from(per_user).where(kept)
    return rows, int(await db.scalar(count_stmt))
