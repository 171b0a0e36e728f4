"""Users and properties over HTTP, against values computed here from the same rows."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import pytest
import pytest_asyncio

from helioscope.store import LogRow
from helioscope.store.log import users
from tests.conftest import Running
from tests.insights.seed import NANO, T0, data, make_rows, post, seed, window

# These routes read the log: they run with it in ClickHouse too (tests/conftest.py).
# Each test reads only its own organization's rows: one app per engine (``own_org``).
pytestmark = [pytest.mark.clickhouse, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(loop_scope="module")
async def helioscope(own_org: Running) -> Running:
    return own_org


@pytest_asyncio.fixture(loop_scope="module")
async def rows(helioscope: Running) -> list[LogRow]:
    mine = make_rows(helioscope.org_id)
    other_org, _ = await helioscope.add_org("other")
    theirs = make_rows(other_org, n=20, seed=5)
    for r in theirs:
        r.user_id = "mallory"
        r.properties = {"secret-key": "secret-value", "team": "search", "env": "theirs"}
    await seed(helioscope, mine + theirs)
    return mine


def per_user(rows: list[LogRow]) -> dict[str, dict[str, Any]]:
    users: dict[str, list[LogRow]] = defaultdict(list)
    for r in rows:
        if r.user_id:
            users[r.user_id].append(r)
    out = {}
    for user, mine in users.items():
        days = {r.request_created_at.date() for r in mine}
        tokens = sum((r.prompt_tokens or 0) + (r.completion_tokens or 0) for r in mine)
        out[user] = {
            "total_requests": len(mine),
            "active_for": len(days),
            "average_requests_per_day_active": len(mine) / len(days),
            "average_tokens_per_request": tokens / len(mine),
            "total_prompt_tokens": sum(r.prompt_tokens or 0 for r in mine),
            "total_completion_tokens": sum(r.completion_tokens or 0 for r in mine),
            "cost": sum(r.cost or 0 for r in mine) / NANO,
            "rate_limited_count": sum(
                1
                for r in mine
                if r.properties.get("Helicone-Rate-Limit-Status")
                in ("rate_limited", "bucket_rate_limited")
            ),
            "first_active": min(r.request_created_at for r in mine),
            "last_active": max(r.request_created_at for r in mine),
        }
    return out


async def test_user_metrics_match_the_rows(helioscope: Running, rows: list[LogRow]) -> None:
    got = data(await post(helioscope, "/v1/user/metrics/query", {"filter": "all", "limit": 100}))
    expected = per_user(rows)
    assert got["count"] == len(expected) and got["hasUsers"] is True
    assert {u["user_id"] for u in got["users"]} == set(expected)  # no "mallory": no leak
    for user in got["users"]:
        want = expected[user["user_id"]]
        for name in (
            "total_requests",
            "active_for",
            "average_requests_per_day_active",
            "average_tokens_per_request",
            "total_prompt_tokens",
            "total_completion_tokens",
            "cost",
        ):
            assert user[name] == pytest.approx(want[name]), name
        assert user["id"] == user["user_id"]
        assert "rate_limited_count" not in user  # not in Helicone's UserMetricsResult
        assert dt.datetime.fromisoformat(user["last_active"]) == want["last_active"].replace(
            microsecond=0
        )
    # Helicone's default order: least recently active first.
    lasts = [u["last_active"] for u in got["users"]]
    assert lasts == sorted(lasts)


async def test_user_having_filters_sort_and_paging(helioscope: Running, rows: list[LogRow]) -> None:
    expected = per_user(rows)
    busiest = max(v["total_requests"] for v in expected.values())
    having = {"users_view": {"user_total_requests": {"gte": busiest}}}
    got = data(await post(helioscope, "/v1/user/metrics/query", {"filter": having, "limit": 10}))
    assert {u["user_id"] for u in got["users"]} == {
        k for k, v in expected.items() if v["total_requests"] >= busiest
    }
    cost_floor = sorted(v["cost"] for v in expected.values())[1]
    mixed = {
        "left": {"users_view": {"user_cost": {"gte": cost_floor}}},
        "operator": "and",
        "right": {"request_response_rmt": {"model": {"equals": "gpt-4o"}}},
    }
    got = data(await post(helioscope, "/v1/user/metrics/query", {"filter": mixed}))
    gpt4o = per_user([r for r in rows if r.model == "gpt-4o"])
    assert {u["user_id"] for u in got["users"]} == {
        k for k, v in gpt4o.items() if v["cost"] >= cost_floor - 1e-9
    }
    body = {"filter": "all", "sort": {"cost": "desc"}, "limit": 1, "offset": 1}
    got = data(await post(helioscope, "/v1/user/metrics/query", body))
    by_cost = sorted(expected, key=lambda k: -expected[k]["cost"])
    assert [u["user_id"] for u in got["users"]] == [by_cost[1]]
    assert got["count"] == len(expected)


async def test_rate_limited_calls_count_in_both_spellings(
    helioscope: Running, rows: list[LogRow]
) -> None:
    bob = per_user(rows)["bob"]
    spellings = {r.properties.get("Helicone-Rate-Limit-Status") for r in rows if r.user_id == "bob"}
    assert {"rate_limited", "bucket_rate_limited"} <= spellings  # the seed has both
    having = {"users_view": {"user_user_id": {"equals": "bob"}}}
    log = helioscope.services.store.log.org(helioscope.org_id)
    found, _ = await log.read(users.user_metrics, users.UserQuery(filter=having))
    assert found[0]["rate_limited_count"] == bob["rate_limited_count"]


async def test_earlier_unprefixed_users_view_columns_still_filter(
    helioscope: Running, rows: list[LogRow]
) -> None:
    expected = per_user(rows)
    busiest = max(v["total_requests"] for v in expected.values())
    for old, new in (
        ("total_requests", "user_total_requests"),
        ("user_id", "user_user_id"),
        ("total_prompt_token", "user_total_prompt_tokens"),
    ):
        value: Any = "alice" if old == "user_id" else busiest
        op = "equals" if old == "user_id" else "gte"
        results = []
        for name in (old, new):
            body = {"filter": {"users_view": {name: {op: value}}}, "limit": 10}
            got = data(await post(helioscope, "/v1/user/metrics/query", body))
            results.append(sorted(u["user_id"] for u in got["users"]))
        assert results[0] == results[1] and results[0], (old, results)


async def test_user_totals_and_overview(helioscope: Running, rows: list[LogRow]) -> None:
    got = data(await post(helioscope, "/v1/user/query", {"userIds": ["alice", "mallory"]}))
    alice = [r for r in rows if r.user_id == "alice"]
    assert got == [
        {
            "count": len(alice),
            "prompt_tokens": sum(r.prompt_tokens or 0 for r in alice),
            "completion_tokens": sum(r.completion_tokens or 0 for r in alice),
            "user_id": "alice",
            "cost_usd": pytest.approx(sum(r.cost or 0 for r in alice) / NANO),
        }
    ]
    overview = data(await post(helioscope, "/v1/user/metrics-overview/query", {"filter": "all"}))
    assert sum(b["value"] for b in overview["request_count"]) == len(per_user(rows))
    assert len(overview["user_cost"]) == 10


async def test_property_keys_values_and_hiding(helioscope: Running, rows: list[LogRow]) -> None:
    keys = data(await post(helioscope, "/v1/property/query", {}))
    expected = sorted({k for r in rows for k in r.properties})
    assert [k["property"] for k in keys] == expected  # no "secret-key": no leak
    assert data(await post(helioscope, "/v1/property/hide", {"key": "env"})) == {"ok": True}
    assert data(await post(helioscope, "/v1/property/hide", {"key": "env"})) == {"ok": True}
    keys = data(await post(helioscope, "/v1/property/query", {}))
    assert "env" not in [k["property"] for k in keys]
    hidden = data(await post(helioscope, "/v1/property/hidden/query", {}))
    assert hidden == [{"property": "env"}]
    _, other_key = await helioscope.add_org("third")
    assert data(await post(helioscope, "/v1/property/hidden/query", {}, other_key)) == []
    assert data(await post(helioscope, "/v1/property/restore", {"key": "env"})) == {"ok": True}
    assert data(await post(helioscope, "/v1/property/hidden/query", {})) == []
    values = data(await post(helioscope, "/v1/property/team/search", {"searchTerm": "SEARCH"}))
    assert values == sorted(
        {r.properties["team"] for r in rows if "search" in r.properties["team"].lower()}
    )
    assert data(await post(helioscope, "/v1/property/secret-key/search", {"searchTerm": ""})) == []
    # Property names are case-insensitive, as the header names they come from are.
    upper = data(await post(helioscope, "/v1/property/Team/search", {"searchTerm": "SEARCH"}))
    assert upper == values


async def test_property_top_and_over_time(helioscope: Running, rows: list[LogRow]) -> None:
    body = {"timeFilter": window()}
    costs = data(await post(helioscope, "/v1/property/team/top-costs/query", body))
    expected: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for r in rows:
        expected[r.properties["team"]] += (r.cost or 0) / NANO
        counts[r.properties["team"]] += 1
    assert {c["value"]: c["cost"] for c in costs} == pytest.approx(dict(expected))
    assert data(await post(helioscope, "/v1/property/TEAM/top-costs/query", body)) == costs
    assert [c["cost"] for c in costs] == sorted((c["cost"] for c in costs), reverse=True)
    top = data(await post(helioscope, "/v1/property/team/top-requests/query", body))
    assert {c["value"]: c["count"] for c in top} == counts
    series = data(
        await post(
            helioscope,
            "/v1/property/properties/over-time",
            {
                "propertyKey": "team",
                "userFilter": "all",
                "timeFilter": window(),
                "dbIncrement": "day",
                "timeZoneDifference": 0,
            },
        )
    )
    per_day: dict[tuple[str, str], int] = defaultdict(int)
    for r in rows:
        day = r.request_created_at.replace(hour=0, minute=0, second=0, microsecond=0)
        per_day[(day.strftime("%Y-%m-%dT00:00:00.000Z"), r.properties["team"])] += 1
    got = {(s["created_at_trunc"], s["property"]): s["request_count"] for s in series}
    assert {k: v for k, v in got.items() if v} == per_day
    last_day = (T0 + dt.timedelta(days=3)).strftime("%Y-%m-%dT00:00:00.000Z")
    assert got[(last_day, "")] == 0  # the empty last day is filled


@pytest.mark.parametrize(
    ("path", "body", "named"),
    [
        ("/v1/user/metrics/query", {"limit": 5000}, "limit"),
        ("/v1/user/metrics/query", {"sort": {"mood": "asc"}}, "mood"),
        ("/v1/user/metrics/query", {"filter": {"users_view": {"user_nope": {}}}}, "user_nope"),
        (
            "/v1/user/metrics/query",
            {"filter": {"users_view": {"user_total_requests": {"gt": 1e30}}}},
            "user_total_requests.gt",
        ),
        ("/v1/user/metrics/query", {"offset": 2**63}, "offset"),
        (
            "/v1/user/query",
            {"timeFilter": {"startTimeUnixSeconds": 10, "endTimeUnixSeconds": 1}},
            "timeFilter",
        ),
        ("/v1/property/hide", {"key": ""}, "key"),
        (
            "/v1/property/team/top-costs/query",
            {"timeFilter": {"start": "2026-11-05T00:00:00Z", "end": "2026-11-01T00:00:00Z"}},
            "timeFilter",
        ),
        (
            "/v1/property/properties/over-time",
            {"propertyKey": "team", "timeFilter": window(), "dbIncrement": "decade"},
            "dbIncrement",
        ),
    ],
)
async def test_bad_input_is_a_400_naming_the_field(
    helioscope: Running, path: str, body: dict[str, Any], named: str
) -> None:
    response = await post(helioscope, path, body)
    assert response.status_code == 400, response.text
    assert response.json()["data"] is None
    assert named in response.json()["error"]
