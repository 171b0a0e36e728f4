"""The store's read functions, unchanged, on ClickHouse: the same log and edits on SQLite and
on chdb must give the same answers, call by call.

The calls that need a ClickHouse form of their own are listed in ``NEEDS_CLICKHOUSE_FORM`` with
the reason; the test checks that they do fail, so the list stays true as the code changes.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from helioscope.store import (
    Buckets,
    RequestQuery,
    SessionQuery,
    Store,
    TimeWindow,
    UserQuery,
    _datasets,
    _hooks,
    _metrics,
    _prompt_inputs,
    _properties,
    _requests,
    _sessions,
    _users,
)
from helioscope.store.clickhouse import ClickHouse, ClickHouseConnection, insert_log_rows
from helioscope.store.clickhouse import _edits as ch_edits
from helioscope.store.clickhouse import _reads as ch_reads
from tests.store.clickhouse.parity_data import ORG, OTHER, START, edits, log_rows

Call = Callable[[AsyncConnection], Awaitable[Any]]
WINDOW = TimeWindow(START, START + dt.timedelta(days=3))
DAY, HOUR = Buckets("day", 300), Buckets("hour", -60)
PROD = {"request_response_rmt": {"properties": {"env": {"equals": "prod"}}}}
COSTLY = {"sessions_request_response_rmt": {"session_total_cost": {"gt": 0.0001}}}
BUSY_USERS = {"users_view": {"user_total_requests": {"gte": 10}}}
BODY = {"request_response_rmt": {"response_body": {"contains": "answer 3"}}}
IDS = [f"{ORG[-5:]}-{i:05d}" for i in (1, 5, 6, 50)]


def _sessions_query(**kw: Any) -> SessionQuery:
    return SessionQuery(start=START, end=START + dt.timedelta(days=3), use_summary=False, **kw)


def _q(**kw: Any) -> RequestQuery:
    return RequestQuery(limit=50, **kw)


CALLS: dict[str, Call] = {
    "query_requests": lambda c: _requests.query_requests(c, ORG, _q()),
    "query_requests (filter, sort)": lambda c: _requests.query_requests(
        c, ORG, _q(filter=PROD, sort={"latency": "asc"})
    ),
    "query_requests (property sort)": lambda c: _requests.query_requests(
        c, ORG, _q(sort={"properties": {"feature": "desc"}}, include_bodies=False)
    ),
    "query_requests (body filter, body sort)": lambda c: _requests.query_requests(
        c, ORG, _q(filter=BODY, sort={"request_prompt": "asc"})
    ),
    "query_requests (cached, scored)": lambda c: _requests.query_requests(
        c, ORG, _q(is_cached=False, is_scored=True, part_of_experiment=False)
    ),
    "count_requests": lambda c: _requests.count_requests(c, ORG, PROD, None),
    "requests_by_ids": lambda c: _requests.requests_by_ids(c, ORG, IDS),
    "get_request": lambda c: _requests.get_request(c, ORG, IDS[1]),
    "query_sessions (log)": lambda c: _sessions.query_sessions(c, ORG, _sessions_query()),
    "query_sessions (log, having)": lambda c: _sessions.query_sessions(
        c, ORG, _sessions_query(filter=COSTLY, search="session-0")
    ),
    "query_sessions (summary)": lambda c: _sessions.query_sessions(
        c, ORG, SessionQuery(start=START, end=START + dt.timedelta(days=3))
    ),
    "session_users": lambda c: _sessions.session_users(c, ORG, ["session-01", "session-02"]),
    "session_names": lambda c: _sessions.session_names(c, ORG, "flow", "all", None, None),
    "session_rows": lambda c: _sessions.session_rows(c, ORG, SessionQuery()),
    "has_session": lambda c: _sessions.has_session(c, ORG),
    "session_trace": lambda c: _sessions.session_trace(c, ORG, "session-03"),
    "get_session_tag": lambda c: _sessions.get_session_tag(c, ORG, "session-01"),
    "totals": lambda c: _metrics.totals(c, ORG, "all", WINDOW),
    "totals (filter)": lambda c: _metrics.totals(c, ORG, PROD, None),
    "over_time (day)": lambda c: _metrics.over_time(
        c, ORG, "all", WINDOW, DAY, list(_metrics.MEASURES)
    ),
    "over_time (hour, by status)": lambda c: _metrics.over_time(
        c, ORG, PROD, WINDOW, HOUR, ["count", "cost"], "status"
    ),
    "over_time (week, month)": lambda c: _metrics.over_time(
        c, ORG, "all", WINDOW, Buckets("week", 0), ["count"], fill=False
    ),
    "quantiles": lambda c: _metrics.quantiles(c, ORG, "all", WINDOW, DAY, "latency"),
    "breakdown": lambda c: _metrics.breakdown(c, ORG, "all", WINDOW, "model", 0, 10),
    "scored_rows": lambda c: _metrics.scored_rows(c, ORG, "all", WINDOW, DAY),
    "user_metrics": lambda c: _users.user_metrics(
        c, ORG, UserQuery(sort={"cost": "desc"}, limit=3)
    ),
    "user_metrics (having)": lambda c: _users.user_metrics(c, ORG, UserQuery(filter=BUSY_USERS)),
    "has_users": lambda c: _users.has_users(c, ORG),
    "user_totals": lambda c: _users.user_totals(c, ORG, None, WINDOW),
    "per_user_values": lambda c: _users.per_user_values(c, ORG, "all"),
    "property_keys": lambda c: _properties.property_keys(c, ORG, False),
    "property_keys (hidden too)": lambda c: _properties.property_keys(c, ORG, True),
    "property search_values": lambda c: _properties.search_values(c, ORG, "feature", "F-"),
    "property top_values": lambda c: _properties.top_values(c, ORG, "env", WINDOW, "cost"),
    "property over_time": lambda c: _properties.over_time(c, ORG, "env", "all", WINDOW, DAY),
    "alert window_stats": lambda c: _hooks.window_stats(c, ORG, WINDOW.start, WINDOW.end),
    "dataset existing_requests": lambda c: _datasets.existing_requests(c, ORG, IDS + ["nope"]),
    "prompt call_inputs": lambda c: _prompt_inputs.call_inputs(
        c, ORG, "greeter", "v1", f"{ORG[-5:]}-00009"
    ),
    "prompt last_used": lambda c: _prompt_inputs.last_used(c, ORG, "greeter"),
}

# Calls that read a table only SQLite/PostgreSQL keep (metadata): on ClickHouse they need a
# form of their own (FORMS below).
NEEDS_CLICKHOUSE_FORM = {
    "property_keys": "hidden keys (hidden_property_key) are metadata, kept in SQL",
}
HIDDEN = ["feature"]

# (the SQL call, its ClickHouse form): the answers must be equal.
FORMS: dict[str, tuple[Call, Call]] = {
    "query_sessions": (
        lambda c: _sessions.query_sessions(c, ORG, SessionQuery(start=START)),
        lambda c: _sessions.query_sessions(c, ORG, SessionQuery(start=START, use_summary=False)),
    ),
    "session_rows": (
        lambda c: _sessions.session_rows(c, ORG, SessionQuery()),
        lambda c: _sessions.session_rows(c, ORG, SessionQuery(use_summary=False)),
    ),
    "property_keys": (
        lambda c: _properties.property_keys(c, ORG, False),
        lambda c: ch_reads.property_keys(c, ORG, HIDDEN),
    ),
    "quantiles": (
        lambda c: _metrics.quantiles(c, ORG, PROD, WINDOW, HOUR, "latency"),
        lambda c: ch_reads.quantiles(c, ORG, PROD, WINDOW, HOUR, "latency"),
    ),
    "quantiles (cost, day)": (
        lambda c: _metrics.quantiles(c, ORG, "all", WINDOW, DAY, "cost"),
        lambda c: ch_reads.quantiles(c, ORG, "all", WINDOW, DAY, "cost"),
    ),
}

# Calls whose SQL sets no order (or only a partial one): compared as sets of rows.
UNORDERED = {"over_time (hour, by status)", "scored_rows", "per_user_values"}

# Values that differ by design: ids and write times are assigned by each engine.
IGNORED = {"feedback_id", "feedback_created_at", "updated_at"}


def _normal(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items() if k not in IGNORED}
    if isinstance(value, list | tuple):
        return [_normal(v) for v in value]
    if isinstance(value, float) and math.isfinite(value):
        return round(value, 6)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    return value


def _difference(name: str, expected: Any, got: Any) -> str:
    if isinstance(expected, list) and isinstance(got, list) and len(expected) == len(got):
        for index, (want, have) in enumerate(zip(expected, got, strict=True)):
            if want != have:
                return (
                    f"{name} [{index}]:\n  sqlite     {want!r:.1500}\n  clickhouse {have!r:.1500}"
                )
    return f"{name}:\n  sqlite     {expected!r:.600}\n  clickhouse {got!r:.600}"


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[Store]:
    store = Store.open(f"sqlite:///{tmp_path / 'parity.db'}")
    await store.migrate()
    await store.insert_log_rows(log_rows() + log_rows(OTHER, 40))
    for method, args in edits():
        await getattr(store, method)(*args)
    for key in HIDDEN:
        await store.metrics.set_property_hidden(ORG, key, True)
    yield store
    await store.close()


async def test_every_read_answers_as_on_sqlite(sqlite: Store, clickhouse: ClickHouse) -> None:
    await insert_log_rows(clickhouse, log_rows() + log_rows(OTHER, 40))
    for method, args in edits():
        await getattr(ch_edits, method)(clickhouse, *args)
    ch = cast(AsyncConnection, ClickHouseConnection(clickhouse))
    differ, failed = [], {}
    for name, call in CALLS.items():
        async with sqlite.engine.connect() as conn:
            expected = _normal(await call(conn))
        try:
            got = _normal(await call(ch))
        except Exception as exc:  # the list below says which calls may fail, and why
            failed[name] = f"{type(exc).__name__}: {str(exc)[:200]}"
            continue
        if name in UNORDERED:
            got, expected = sorted(got, key=repr), sorted(expected, key=repr)
        if got != expected:
            differ.append(_difference(name, expected, got))
    assert not differ, "\n".join(differ)
    assert failed.keys() == NEEDS_CLICKHOUSE_FORM.keys(), failed
    unchanged = len(CALLS) - len(failed)
    print(f"{unchanged}/{len(CALLS)} read calls run unchanged on ClickHouse")


async def test_clickhouse_forms_answer_as_on_sqlite(sqlite: Store, clickhouse: ClickHouse) -> None:
    await insert_log_rows(clickhouse, log_rows() + log_rows(OTHER, 40))
    for method, args in edits():
        await getattr(ch_edits, method)(clickhouse, *args)
    ch = cast(AsyncConnection, ClickHouseConnection(clickhouse))
    for name, (sql_call, ch_call) in FORMS.items():
        async with sqlite.engine.connect() as conn:
            expected = _normal(await sql_call(conn))
        got = _normal(await ch_call(ch))
        assert expected, name  # a form compared over nothing would prove nothing
        assert got == expected, _difference(name, expected, got)
