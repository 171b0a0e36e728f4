"""Dashboard metrics over HTTP, checked against values computed here from the same rows."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import pytest
import pytest_asyncio

from helioscope.store import LogRow
from tests.conftest import Running
from tests.insights.seed import NANO, T0, data, make_rows, nearest_rank, post, seed, window

# These routes read the log: they run with it in ClickHouse too (tests/conftest.py). Each test
# reads only its own organization's rows, so they share one app per engine (``own_org``).
pytestmark = [pytest.mark.clickhouse, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(loop_scope="module")
async def helioscope(own_org: Running) -> Running:
    return own_org


def iso(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def local_bucket(created: dt.datetime, unit: str, tz: int) -> dt.datetime:
    """The UTC instant starting the bucket that holds ``created`` in wall-clock time."""
    local = created - dt.timedelta(minutes=tz)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    start = {
        "min": local.replace(second=0, microsecond=0),
        "hour": local.replace(minute=0, second=0, microsecond=0),
        "day": day,
        "week": day - dt.timedelta(days=day.weekday()),
        "month": day.replace(day=1),
    }[unit]
    return start + dt.timedelta(minutes=tz)


@pytest_asyncio.fixture(loop_scope="module")
async def rows(helioscope: Running) -> list[LogRow]:
    mine = make_rows(helioscope.org_id)
    other_org, _ = await helioscope.add_org("other")
    await seed(helioscope, mine + make_rows(other_org, n=25, seed=99))
    return mine


async def test_totals_match_the_rows(helioscope: Running, rows: list[LogRow]) -> None:
    body = {"filter": "all", "timeFilter": window()}
    got = data(await post(helioscope, "/v1/metrics/totals", body))
    n = len(rows)
    ttft = [r.time_to_first_token for r in rows if r.time_to_first_token]
    prompt = sum(r.prompt_tokens or 0 for r in rows)
    completion = sum(r.completion_tokens or 0 for r in rows)
    assert got["total_requests"] == n
    assert got["total_cost"] == pytest.approx(sum(r.cost or 0 for r in rows) / NANO)
    assert got["average_latency"] == pytest.approx(sum(r.latency or 0 for r in rows) / n)
    assert got["average_time_to_first_token"] == pytest.approx(sum(ttft) / len(ttft))
    assert got["average_tokens_per_request"] == {
        "average_prompt_tokens_per_response": pytest.approx(prompt / n),
        "average_completion_tokens_per_response": pytest.approx(completion / n),
        "average_total_tokens_per_response": pytest.approx((prompt + completion) / n),
    }
    assert got["total_threats"] == sum(1 for r in rows if r.threat)
    assert got["active_users"] == len({r.user_id for r in rows if r.user_id})
    assert got["total_errors"] == sum(1 for r in rows if r.status != 200)
    singles = {
        "totalRequests": n,
        "totalThreats": got["total_threats"],
        "activeUsers": got["active_users"],
    }
    for route, expected in singles.items():
        assert data(await post(helioscope, f"/v1/metrics/{route}", body)) == expected
    assert data(await post(helioscope, "/v1/metrics/totalCost", body)) == pytest.approx(
        got["total_cost"]
    )
    assert data(await post(helioscope, "/v1/metrics/averageLatency", body)) == pytest.approx(
        got["average_latency"]
    )


async def test_filter_and_window_narrow_the_totals(helioscope: Running, rows: list[LogRow]) -> None:
    body = {
        "filter": {"request_response_rmt": {"model": {"equals": "gpt-4o"}}},
        "timeFilter": window(hours=24),
    }
    got = data(await post(helioscope, "/v1/metrics/totalRequests", body))
    end = T0 + dt.timedelta(hours=24)
    assert got == sum(1 for r in rows if r.model == "gpt-4o" and r.request_created_at <= end)
    count = data(await post(helioscope, "/v1/metrics/requestCount", {"filter": "all"}))
    assert count == len(rows)


@pytest.mark.parametrize(
    ("unit", "tz"),
    [("min", 0), ("hour", 0), ("day", 300), ("day", -330), ("week", 60), ("month", 720)],
)
async def test_requests_over_time_fill_every_bucket(
    helioscope: Running, rows: list[LogRow], unit: str, tz: int
) -> None:
    body = {
        "filter": "all",
        "timeFilter": window(),
        "dbIncrement": unit,
        "timeZoneDifference": tz,
    }
    got = data(await post(helioscope, "/v1/metrics/requestOverTime", body))
    counts: dict[dt.datetime, int] = defaultdict(int)
    for r in rows:
        counts[local_bucket(r.request_created_at, unit, tz)] += 1
    first = local_bucket(T0, unit, tz)
    last = local_bucket(T0 + dt.timedelta(hours=72), unit, tz)
    expected = []
    current = first
    while current <= last:
        expected.append({"time": iso(current), "count": counts.get(current, 0), "status": None})
        # Any instant inside the next bucket, truncated, is the next bucket's start.
        step = {"min": 1, "hour": 60, "day": 1440, "week": 10080, "month": 32 * 1440}[unit]
        current = local_bucket(current + dt.timedelta(minutes=step), unit, tz)
    assert got == expected
    if unit == "hour":
        assert any(item["count"] == 0 for item in got)  # the gaps really are filled


async def test_cost_tokens_latency_users_errors_series(
    helioscope: Running, rows: list[LogRow]
) -> None:
    body: dict[str, Any] = {
        "filter": "all",
        "timeFilter": window(),
        "dbIncrement": "day",
        "timeZoneDifference": 0,
    }
    by_day: dict[str, list[LogRow]] = defaultdict(list)
    for r in rows:
        by_day[iso(local_bucket(r.request_created_at, "day", 0))].append(r)
    cost = data(await post(helioscope, "/v1/metrics/costOverTime", body))
    tokens = data(await post(helioscope, "/v1/metrics/tokensOverTime", body))
    latency = data(await post(helioscope, "/v1/metrics/latencyOverTime", body))
    users = data(await post(helioscope, "/v1/metrics/usersOverTime", body))
    errors = data(await post(helioscope, "/v1/metrics/errorOverTime", body))
    threats = data(await post(helioscope, "/v1/metrics/threatsOverTime", body))
    ttft = data(await post(helioscope, "/v1/metrics/timeToFirstToken", body))
    detailed = data(await post(helioscope, "/v1/metrics/detailedTokensOverTime", body))
    assert [c["time"] for c in cost] == sorted(by_day) + [iso(T0 + dt.timedelta(days=3))]
    for i, day in enumerate(sorted(by_day)):
        day_rows = by_day[day]
        assert cost[i]["cost"] == pytest.approx(sum(r.cost or 0 for r in day_rows) / NANO)
        assert tokens[i]["prompt_tokens"] == sum(r.prompt_tokens or 0 for r in day_rows)
        assert tokens[i]["completion_tokens"] == sum(r.completion_tokens or 0 for r in day_rows)
        assert detailed[i]["reasoning_tokens"] == sum(r.reasoning_tokens or 0 for r in day_rows)
        assert latency[i]["duration"] == pytest.approx(
            sum(r.latency or 0 for r in day_rows) / len(day_rows)
        )
        firsts = [r.time_to_first_token for r in day_rows if r.time_to_first_token is not None]
        assert ttft[i]["ttft"] == pytest.approx(sum(firsts) / len(firsts))
        assert users[i]["count"] == len({r.user_id for r in day_rows if r.user_id})
        assert errors[i]["count"] == sum(1 for r in day_rows if r.status != 200)
        assert threats[i]["count"] == sum(1 for r in day_rows if r.threat)
    assert cost[-1]["cost"] == 0  # the last day of the window has no rows: filled


@pytest.mark.parametrize("metric", ["latency", "total_tokens", "time_to_first_token", "cost"])
async def test_quantiles_are_nearest_rank(
    helioscope: Running, rows: list[LogRow], metric: str
) -> None:
    body = {
        "filter": "all",
        "timeFilter": window(),
        "dbIncrement": "day",
        "timeZoneDifference": 0,
        "metric": metric,
    }
    got = data(await post(helioscope, "/v1/metrics/quantiles", body))

    def value(r: LogRow) -> float | None:
        if metric == "total_tokens":
            return (r.prompt_tokens or 0) + (r.completion_tokens or 0)
        if metric == "cost":
            return None if r.cost is None else r.cost / NANO
        return getattr(r, metric)  # type: ignore[no-any-return]

    by_day: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        v = value(r)
        if v is not None:
            by_day[iso(local_bucket(r.request_created_at, "day", 0))].append(v)
    assert len(got) == 4
    for item in got[:3]:
        values = by_day[item["time"]]
        for p in (75, 90, 95, 99):
            assert item[f"p{p}"] == pytest.approx(nearest_rank(values, p)), (item, p)
    assert got[3] == {
        "time": iso(T0 + dt.timedelta(days=3)),
        "p75": 0,
        "p90": 0,
        "p95": 0,
        "p99": 0,
    }


async def test_breakdowns(helioscope: Running, rows: list[LogRow]) -> None:
    body = {"filter": "all", "timeFilter": window(), "offset": 0, "limit": 10}
    models = data(await post(helioscope, "/v1/metrics/models", body))
    for m in models:
        mine = [r for r in rows if r.model == m["model"]]
        assert m["total_requests"] == len(mine)
        assert m["total_prompt_token"] == sum(r.prompt_tokens or 0 for r in mine)
        assert m["cost"] == pytest.approx(sum(r.cost or 0 for r in mine) / NANO)
    assert sum(m["total_requests"] for m in models) == len(rows)
    countries = data(await post(helioscope, "/v1/metrics/country", body))
    expected: dict[str, int] = defaultdict(int)
    for r in rows:
        if r.country_code:
            expected[r.country_code] += 1
    assert {c["country"]: c["total_requests"] for c in countries} == expected
    counts = [c["total_requests"] for c in countries]
    assert counts == sorted(counts, reverse=True)
    providers = data(await post(helioscope, "/v1/metrics/providers", body))
    assert {p["key"]: p["total_requests"] for p in providers} == {
        "OPENAI": sum(1 for r in rows if r.provider == "OPENAI"),
        "ANTHROPIC": sum(1 for r in rows if r.provider == "ANTHROPIC"),
    }
    statuses = data(await post(helioscope, "/v1/metrics/status", body))
    assert {s["key"]: s["total_requests"] for s in statuses} == {
        str(code): sum(1 for r in rows if r.status == code) for code in {r.status for r in rows}
    }
    paged = data(await post(helioscope, "/v1/metrics/models", {**body, "offset": 1, "limit": 1}))
    assert paged == models[1:2]
    usage = data(
        await post(
            helioscope,
            "/v1/metrics/modelUsageOverTime",
            {
                "filter": "all",
                "timeFilter": window(),
                "dbIncrement": "day",
                "timeZoneDifference": 0,
            },
        )
    )
    assert sum(u["request_count"] for u in usage) == len(rows)
    status = data(
        await post(
            helioscope,
            "/v1/metrics/requestStatusOverTime",
            {
                "filter": "all",
                "timeFilter": window(),
                "dbIncrement": "day",
                "timeZoneDifference": 0,
            },
        )
    )
    assert sum(s["count"] for s in status if s["status"] == 500) == sum(
        1 for r in rows if r.status == 500
    )


async def test_other_organization_sees_only_its_rows(
    helioscope: Running, rows: list[LogRow]
) -> None:
    _, lonely_key = await helioscope.add_org("lonely")
    body = {"filter": "all", "timeFilter": window()}
    assert data(await post(helioscope, "/v1/metrics/totalRequests", body, lonely_key)) == 0
    series = data(
        await post(
            helioscope,
            "/v1/metrics/requestOverTime",
            {**body, "dbIncrement": "day", "timeZoneDifference": 0},
            lonely_key,
        )
    )
    assert [s["count"] for s in series] == [0, 0, 0, 0]


@pytest.mark.parametrize(
    ("path", "body", "named"),
    [
        ("/v1/metrics/requestOverTime", {"dbIncrement": "fortnight"}, "dbIncrement"),
        (
            "/v1/metrics/requestOverTime",
            {"timeFilter": {"start": "2026-11-05T00:00:00Z", "end": "2026-11-01T00:00:00Z"}},
            "timeFilter",
        ),
        ("/v1/metrics/totalCost", {"timeFilter": {"start": "yesterday", "end": "x"}}, "timeFilter"),
        ("/v1/metrics/quantiles", {"metric": "mood"}, "metric"),
        (
            "/v1/metrics/costOverTime",
            {
                "dbIncrement": "min",
                "timeFilter": {"start": "2025-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"},
            },
            "dbIncrement",
        ),
        ("/v1/metrics/requestOverTime", {"timeZoneDifference": 99999}, "timeZoneDifference"),
        ("/v1/metrics/totalRequests", {"filter": {"request_response_rmt": {"nope": {}}}}, "nope"),
        ("/v1/metrics/models", {"limit": 0}, "limit"),
    ],
)
async def test_bad_input_is_a_400_naming_the_field(
    helioscope: Running, path: str, body: dict[str, Any], named: str
) -> None:
    full = {
        "filter": "all",
        "timeFilter": window(),
        "dbIncrement": "hour",
        "timeZoneDifference": 0,
        "metric": "latency",
        **body,
    }
    response = await post(helioscope, path, full)
    assert response.status_code == 400, response.text
    assert response.json()["data"] is None
    assert named in response.json()["error"]


async def test_unknown_key_is_a_401(helioscope: Running) -> None:
    response = await post(
        helioscope, "/v1/metrics/totalRequests", {"timeFilter": window()}, "sk-helicone-nope"
    )
    assert response.status_code == 401
    assert response.json()["data"] is None


async def test_scores_over_time_average_each_score(helioscope: Running, rows: list[LogRow]) -> None:
    body = {
        "userFilter": "all",
        "timeFilter": window(),
        "dbIncrement": "day",
        "timeZoneDifference": 0,
    }
    got = data(await post(helioscope, "/v1/dashboard/scores/query", body))
    sums: dict[tuple[str, str], list[float]] = defaultdict(list)
    for r in rows:
        for name, value in r.scores.items():
            sums[(iso(local_bucket(r.request_created_at, "day", 0)), name)].append(value)
    assert {(g["created_at_trunc"], g["score_key"]): g["score_sum"] for g in got} == {
        k: pytest.approx(sum(v) / len(v)) for k, v in sums.items()
    }
    _, lonely_key = await helioscope.add_org("lonely")
    assert data(await post(helioscope, "/v1/dashboard/scores/query", body, lonely_key)) == []
    bad = await post(helioscope, "/v1/dashboard/scores/query", {**body, "dbIncrement": "eon"})
    assert bad.status_code == 400 and "dbIncrement" in bad.json()["error"]


async def test_a_window_at_the_start_of_the_calendar_is_answered(helioscope: Running) -> None:
    body = {
        "filter": "all",
        "timeFilter": {"start": "0001-01-01T00:00:00Z", "end": "0002-01-01T00:00:00Z"},
        "timeZoneDifference": 600,
        "dbIncrement": "month",
    }
    response = await post(helioscope, "/v1/metrics/requestOverTime", body)
    assert response.status_code == 200, response.text
    assert all(point["count"] == 0 for point in response.json()["data"])
