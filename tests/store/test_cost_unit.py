"""One unit per quantity: every store function that returns a cost returns USD.

The log keeps cost in USD x 1e9; two calls of 1.5 USD and 0.25 USD must read 1.75 USD (or their
own share) from every query that sums, groups or ranks them.
"""

from __future__ import annotations

import datetime as dt

import pytest

from helioscope.store import NANO_USD, Buckets, LogRow, SessionQuery, Store, TimeWindow, UserQuery
from helioscope.store.log import metrics, properties, requests, sessions, users

NOW = dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC)
WINDOW = TimeWindow(NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=1))
DAY = Buckets("day")


def _row(request_id: str, usd: float, minutes: int) -> LogRow:
    return LogRow(
        request_id=request_id,
        organization_id="org",
        request_created_at=NOW - dt.timedelta(minutes=minutes),
        status=200,
        provider="OPENAI",
        model="gpt-4o-mini",
        user_id="ada",
        cost=round(usd * NANO_USD),
        properties={"team": "core", "Helicone-Session-Id": "s1"},
    )


@pytest.fixture
async def logged(store: Store) -> Store:
    await store.log.write_batch([_row("r1", 1.5, 30), _row("r2", 0.25, 10)])
    return store


async def test_request_rows_carry_usd(logged: Store) -> None:
    log = logged.log.org("org")
    row = await log.read(requests.get_request, "r1")
    assert row is not None and row["cost"] == pytest.approx(1.5)
    page = await log.read(requests.query_requests, requests.RequestQuery(sort={"cost": "asc"}))
    assert [r["cost"] for r in page] == pytest.approx([0.25, 1.5])
    trace = await log.read(sessions.session_trace, "s1")
    assert sorted(r["cost"] for r in trace) == pytest.approx([0.25, 1.5])


async def test_dashboard_queries_return_usd(logged: Store) -> None:
    log = logged.log.org("org")
    assert (await log.read(metrics.totals, "all", WINDOW))["cost"] == pytest.approx(1.75)
    by_model = await log.read(metrics.breakdown, "all", WINDOW, "model", 0, 10)
    assert by_model[0]["cost"] == pytest.approx(1.75)
    series = await log.read(metrics.over_time, "all", WINDOW, DAY, ["cost"], None, False)
    assert sum(r["cost"] for r in series) == pytest.approx(1.75)
    quantiles = await log.read(metrics.quantiles, "all", WINDOW, DAY, "cost")
    assert max(q["p99"] for q in quantiles) == pytest.approx(1.5)
    since, until = NOW - dt.timedelta(hours=1), NOW
    assert (await log.read(metrics.window_stats, since, until))["cost"] == pytest.approx(1.75)


async def test_users_sessions_and_properties_return_usd(logged: Store) -> None:
    log = logged.log.org("org")
    page, _ = await log.read(users.user_metrics, UserQuery())
    assert page[0]["cost"] == pytest.approx(1.75)
    assert (await log.read(users.user_totals, None, WINDOW))[0]["cost"] == pytest.approx(1.75)
    assert (await log.read(users.per_user_values, "all"))[0]["cost"] == pytest.approx(1.75)
    for use_summary in (True, False):
        query = SessionQuery(use_summary=use_summary)
        listed = await log.read(sessions.query_sessions, query)
        assert listed[0]["total_cost"] == pytest.approx(1.75)
    assert (await log.read(sessions.session_rows, SessionQuery()))[0]["cost"] == pytest.approx(1.75)
    names = await log.read(sessions.session_names, "", "all", None, None)
    assert names[0]["total_cost"] == pytest.approx(1.75)
    top, total = await log.read(properties.top_values, "team", WINDOW, "cost")
    assert top[0]["cost"] == pytest.approx(1.75) and total == pytest.approx(1.75)
    series = await log.read(properties.over_time, "team", "all", WINDOW, DAY)
    assert sum(r["total_cost"] for r in series) == pytest.approx(1.75)
