"""Helicone's request and session query routes over HTTP, with two organizations."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from helioscope.store import LogRow
from helioscope.store.log import requests
from tests.conftest import Running

# These routes read the log: they run with it in ClickHouse too (tests/conftest.py). Each test
# writes and reads only its own two organizations, so they share one app per engine
# (``own_org``): an app of its own cost each test a store, and on ClickHouse its first batch's
# heal (~0.13 s of CPU).
pytestmark = [pytest.mark.clickhouse, pytest.mark.asyncio(loop_scope="module")]

T0 = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
# Helicone's documented example body of /v1/session/query (its swagger.json), kept in the repo.
SEED = Path(__file__).parents[1] / "fixtures" / "seed-session-query.json"


def log(org: str, request_id: str, minute: int, **fields: Any) -> LogRow:
    values: dict[str, Any] = {
        "request_id": request_id,
        "organization_id": org,
        "request_created_at": T0 + dt.timedelta(minutes=minute),
        "status": 200,
        "provider": "OPENAI",
        "model": "gpt-4o-mini",
        "latency": 100 * (minute + 1),
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "total_tokens": 15,
        "cost": 2_000 * (minute + 1),
    }
    values.update(fields)
    return LogRow(**values)


def session(sid: str, name: str, path: str) -> dict[str, str]:
    return {
        "Helicone-Session-Id": sid,
        "Helicone-Session-Name": name,
        "Helicone-Session-Path": path,
    }


@pytest_asyncio.fixture(loop_scope="module")
async def helioscope(own_org: Running) -> Running:
    return own_org


@pytest_asyncio.fixture(loop_scope="module")
async def data(helioscope: Running) -> tuple[str, str]:
    # A rival of this test's own (organizations are made by name).
    other_org, other_key = await helioscope.add_org(f"rival-{uuid.uuid4().hex}")
    me = helioscope.org_id
    rows = [
        log(me, "r1", 0, user_id="alice", properties={"env": "prod", **session("s1", "Trip", "/")}),
        log(
            me,
            "r2",
            1,
            user_id="bob",
            properties={"env": "dev", **session("s1", "Trip", "/plan/hotel")},
        ),
        log(me, "r3", 2, model="claude-3-5-sonnet", properties={**session("s1", "Trip", "/plan")}),
        log(me, "r4", 3, status=500, properties={"env": "prod", **session("s2", "Chat", "/")}),
        log(me, "r5", 4, cache_reference_id="r1", properties={"env": "prod"}),
        log(
            other_org,
            "x1",
            0,
            user_id="alice",
            properties={"env": "prod", **session("s1", "Trip", "/")},
        ),
    ]
    await helioscope.services.store.log.write_batch(rows)
    return other_org, other_key


async def post(hs: Running, path: str, body: Any, key: str | None = None) -> httpx.Response:
    async with hs.http() as http:
        return await http.post(
            path, json=body, headers={"authorization": f"Bearer {key or hs.key}"}
        )


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [r["request_id"] for r in response.json()["data"]]


async def test_request_query_filters_sorts_and_pages(helioscope: Running, data: Any) -> None:
    prod = {"request_response_rmt": {"properties": {"env": {"equals": "prod"}}}}
    assert ids(await post(helioscope, "/v1/request/query", {"filter": prod})) == ["r5", "r4", "r1"]
    body = {"filter": prod, "sort": {"latency": "asc"}, "limit": 2, "offset": 1}
    assert ids(await post(helioscope, "/v1/request/query", body)) == ["r4", "r5"]
    either = {
        "left": prod,
        "operator": "or",
        "right": {"request_response_rmt": {"model": {"ilike": "CLAUDE%"}}},
    }
    body = {"filter": either, "isCached": False, "sort": {"created_at": "asc"}}
    assert ids(await post(helioscope, "/v1/request/query-clickhouse", body)) == ["r1", "r3", "r4"]
    cost = {"request_response_rmt": {"cost": {"gte": 0.000006}}}  # USD; stored as USD x 1e9
    assert sorted(ids(await post(helioscope, "/v1/request/query", {"filter": cost}))) == [
        "r3",
        "r4",
        "r5",
    ]
    count = await post(helioscope, "/v1/request/count/query", {"filter": prod})
    assert count.json() == {"data": 3, "error": None}


async def test_request_query_rejects_bad_input(helioscope: Running, data: Any) -> None:
    bad = await post(
        helioscope,
        "/v1/request/query",
        {"filter": {"request_response_rmt": {"latnecy": {"gt": 1}}}},
    )
    assert bad.status_code == 400
    assert bad.json()["data"] is None
    assert bad.json()["error"].startswith(
        "filter.request_response_rmt.latnecy: unknown column of request_response_rmt"
    )
    for body in (
        {"filter": "all", "limit": 0},
        {"filter": "all", "limit": 5000},
        {"filter": "all", "offset": -1},
        {"filter": "all", "offset": 2**63},
        {"filter": "all", "sort": {"latency": "sideways"}},
        {"filter": "all", "sort": {"password": "asc"}},
        {},
    ):
        response = await post(helioscope, "/v1/request/query", body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["data"] is None


@pytest.mark.parametrize(
    ("leaf", "node"),
    [
        ({"latency": {"gt": 1e19}}, "latency.gt"),
        ({"prompt_tokens": {"equals": 2**63 - 1}}, "prompt_tokens.equals"),
        ({"cost": {"gt": 1e10}}, "cost.gt"),  # nano-USD past 64 bits
        ({"latency": {"lt": -1e19}}, "latency.lt"),
    ],
)
async def test_numbers_past_64_bits_are_a_400_naming_the_node(
    helioscope: Running, leaf: dict[str, Any], node: str
) -> None:
    for path in ("/v1/request/query", "/v1/request/count/query"):
        response = await post(helioscope, path, {"filter": {"request_response_rmt": leaf}})
        assert response.status_code == 400, response.text
        assert response.json()["error"].startswith(f"filter.request_response_rmt.{node}: ")
        assert "out of range" in response.json()["error"]
    # The largest value that fits still compiles.
    fits = {"request_response_rmt": {"latency": {"lt": 9e18}}}
    assert (await post(helioscope, "/v1/request/query", {"filter": fits})).status_code == 200


async def test_an_unknown_column_error_lists_the_known_ones(helioscope: Running) -> None:
    body = {"filter": {"request_response_rmt": {"latnecy": {"gt": 1}}}}
    error = (await post(helioscope, "/v1/request/count/query", body)).json()["error"]
    assert error.startswith("filter.request_response_rmt.latnecy: unknown column of ")
    assert "(known: " in error and "latency" in error


async def test_query_ids_only_finds_own_requests(helioscope: Running, data: Any) -> None:
    response = await post(helioscope, "/v1/request/query-ids", {"requestIds": ["r2", "x1", "nope"]})
    assert ids(response) == ["r2"]


async def test_feedback_property_and_scores(helioscope: Running, data: Any) -> None:
    assert (await post(helioscope, "/v1/request/r2/feedback", {"rating": True})).status_code == 200
    async with helioscope.http() as http:
        auth = {"authorization": f"Bearer {helioscope.key}"}
        put = await http.put(
            "/v1/request/r2/property", json={"key": "reviewed", "value": "yes"}, headers=auth
        )
        assert put.json() == {"data": None, "error": None}
        got = (await http.get("/v1/request/r2", headers=auth)).json()["data"]
    assert got["feedback_rating"] is True
    assert got["properties"]["reviewed"] == "yes"
    score = await post(
        helioscope, "/v1/request/r2/score", {"scores": {"accuracy": 7, "helpful": True}}
    )
    assert score.status_code == 200
    row = await helioscope.services.store.log.org(helioscope.org_id).read(
        requests.get_request, "r2"
    )
    # The rating is the score helicone-score-feedback too, as in Helicone.
    expected = {"helicone-score-feedback": 1, "accuracy": 7, "helpful-hcone-bool": 1}
    assert row is not None and row["scores"] == expected

    for node in (
        {"feedback": {"rating": {"equals": True}}},
        {"request_response_rmt": {"properties": {"reviewed": {"equals": "yes"}}}},
        {"request_response_rmt": {"scores": {"accuracy": {"gte": 7}}}},
        {"request_response_rmt": {"helicone-score-feedback": {"equals": True}}},
    ):
        assert ids(await post(helioscope, "/v1/request/query", {"filter": node})) == ["r2"], node

    other = await post(helioscope, "/v1/request/x1/feedback", {"rating": False})
    assert other.status_code == 404  # another organization's request does not exist here
    assert (await post(helioscope, "/v1/request/r2/score", {"scores": {"": 1}})).status_code == 400
    asset = await post(helioscope, "/v1/request/r2/assets/a1", {})
    assert asset.status_code == 404


async def test_sessions(helioscope: Running, data: Any) -> None:
    window = {
        "startTimeUnixMs": (T0 - dt.timedelta(hours=1)).timestamp() * 1000,
        "endTimeUnixMs": (T0 + dt.timedelta(hours=1)).timestamp() * 1000,
    }
    body: dict[str, Any] = {
        "search": "",
        "timeFilter": window,
        "timezoneDifference": 0,
        "filter": "all",
    }
    response = await post(helioscope, "/v1/session/query", body)
    assert response.status_code == 200, response.text
    sessions = {s["session_id"]: s for s in response.json()["data"]}
    assert list(sessions) == ["s2", "s1"]  # newest first
    s1 = sessions["s1"]
    assert s1["session_name"] == "Trip"
    assert s1["total_requests"] == 3
    assert s1["total_tokens"] == 45
    assert s1["prompt_tokens"] == 30 and s1["completion_tokens"] == 15
    assert s1["total_cost"] == pytest.approx((2000 + 4000 + 6000) / 1e9)
    assert s1["created_at"] == "2026-05-01T12:00:00.000Z"
    assert s1["latest_request_created_at"] == "2026-05-01T12:02:00.000Z"
    assert "avg_latency" not in s1 and "user_ids" not in s1  # not in Helicone's SessionResult

    having = {"sessions_request_response_rmt": {"session_total_cost": {"gt": 0.00001}}}
    assert [
        s["session_id"]
        for s in (await post(helioscope, "/v1/session/query", {**body, "filter": having})).json()[
            "data"
        ]
    ] == ["s1"]
    legacy = {"sessions_request_response_rmt": {"total_tokens": {"lt": 20}}}
    assert [
        s["session_id"]
        for s in (await post(helioscope, "/v1/session/query", {**body, "filter": legacy})).json()[
            "data"
        ]
    ] == ["s2"]
    mixed = {
        "left": {"request_response_rmt": {"status": {"equals": 500}}},
        "operator": "and",
        "right": {"sessions_request_response_rmt": {"session_total_requests": {"gte": 1}}},
    }
    assert [
        s["session_id"]
        for s in (await post(helioscope, "/v1/session/query", {**body, "filter": mixed})).json()[
            "data"
        ]
    ] == ["s2"]
    assert [
        s["session_id"]
        for s in (await post(helioscope, "/v1/session/query", {**body, "search": "tri"})).json()[
            "data"
        ]
    ] == ["s1"]
    assert [
        s["session_id"]
        for s in (
            await post(helioscope, "/v1/session/query", {**body, "nameEquals": "Chat"})
        ).json()["data"]
    ] == ["s2"]
    shifted = (
        await post(helioscope, "/v1/session/query", {**body, "timezoneDifference": 60})
    ).json()["data"]
    assert shifted[1]["created_at"] == "2026-05-01T13:00:00.000Z"
    late = {
        **window,
        "startTimeUnixMs": (T0 + dt.timedelta(minutes=2, seconds=30)).timestamp() * 1000,
    }
    assert [
        s["session_id"]
        for s in (await post(helioscope, "/v1/session/query", {**body, "timeFilter": late})).json()[
            "data"
        ]
    ] == ["s2"]


async def test_seed_session_query_body_is_accepted(helioscope: Running, data: Any) -> None:
    seed = json.loads(SEED.read_text())
    response = await post(helioscope, "/v1/session/query", seed)
    assert response.status_code == 200, response.text
    assert response.json() == {"data": [], "error": None}


async def test_session_names_metrics_feedback_tags_and_trace(
    helioscope: Running, data: Any
) -> None:
    names = (
        await post(
            helioscope, "/v1/session/name/query", {"nameContains": "", "timezoneDifference": 0}
        )
    ).json()["data"]
    assert {n["name"]: n["session_count"] for n in names} == {"Trip": 1, "Chat": 1}
    trip = next(n for n in names if n["name"] == "Trip")
    assert trip["total_cost"] == pytest.approx((2000 + 4000 + 6000) / 1e9)
    assert "avg_latency" not in trip
    assert [
        n["name"]
        for n in (
            await post(
                helioscope,
                "/v1/session/name/query",
                {"nameContains": "tri", "timezoneDifference": 0},
            )
        ).json()["data"]
    ] == ["Trip"]

    metrics = (
        await post(
            helioscope, "/v1/session/metrics/query", {"nameContains": "", "timezoneDifference": 0}
        )
    ).json()["data"]
    assert sum(b["value"] for b in metrics["session_count"]) == 2
    assert "average" not in metrics  # Helicone's SessionMetrics; the UI's route adds it
    ours = (
        await post(
            helioscope,
            "/v1/helioscope/sessions/metrics",
            {"nameContains": "", "timezoneDifference": 0},
        )
    ).json()["data"]
    assert ours["session_count"] == metrics["session_count"]
    assert ours["average"]["session_count"] == [{"average": 2.0}]
    assert ours["average"]["session_duration"] == [{"average": 60.0}]
    # The UI's route also takes the session list's search, which matches a name or an id.
    by_id = (
        await post(
            helioscope,
            "/v1/helioscope/sessions/metrics",
            {"search": "s2", "timezoneDifference": 0},
        )
    ).json()["data"]
    assert sum(b["value"] for b in by_id["session_count"]) == 1
    assert by_id["average"]["session_count"] == [{"average": 1.0}]

    async with helioscope.http() as http:
        auth = {"authorization": f"Bearer {helioscope.key}"}
        assert (await http.get("/v1/session/has-session", headers=auth)).json() == {
            "data": True,
            "error": None,
        }
        assert (await http.get("/v1/session/s1/tag", headers=auth)).json() == {
            "data": None,
            "error": None,
        }
        assert (
            await http.post("/v1/session/s1/tag", json={"tag": "golden"}, headers=auth)
        ).status_code == 200
        assert (await http.get("/v1/session/s1/tag", headers=auth)).json()["data"] == "golden"
        trace = (await http.get("/v1/session/s1/trace", headers=auth)).json()["data"]
        missing = await http.get("/v1/session/nope/trace", headers=auth)
    assert [r["request_id"] for r in trace] == ["r1", "r3", "r2"]  # "/", "/plan", "/plan/hotel"
    assert missing.status_code == 404

    tagged = {"sessions_request_response_rmt": {"session_tag": {"equals": "golden"}}}
    body = {"search": "", "timezoneDifference": 0, "filter": tagged}
    assert [
        s["session_id"] for s in (await post(helioscope, "/v1/session/query", body)).json()["data"]
    ] == ["s1"]

    assert (await post(helioscope, "/v1/session/s1/feedback", {"rating": True})).status_code == 200
    first = await helioscope.services.store.log.org(helioscope.org_id).read(
        requests.get_request, "r1"
    )
    assert first is not None and first["properties"]["Helicone-Session-Feedback"] == "1"
    assert (
        await post(helioscope, "/v1/session/nope/feedback", {"rating": True})
    ).status_code == 404


async def test_nothing_leaks_between_organizations(
    helioscope: Running, data: tuple[str, str]
) -> None:
    _, other_key = data
    everything = {"filter": "all", "limit": 1000}
    assert ids(await post(helioscope, "/v1/request/query", everything, other_key)) == ["x1"]
    sneaky = {
        "filter": {"request_response_rmt": {"organization_id": {"equals": helioscope.org_id}}}
    }
    assert ids(await post(helioscope, "/v1/request/query", sneaky, other_key)) == []
    sessions = (
        await post(
            helioscope,
            "/v1/session/query",
            {"search": "", "timezoneDifference": 0, "filter": "all"},
            other_key,
        )
    ).json()["data"]
    assert [(s["session_id"], s["total_requests"]) for s in sessions] == [("s1", 1)]
    assert (
        await post(helioscope, "/v1/session/s2/tag", {"tag": "x"}, other_key)
    ).status_code == 404
    count = await post(helioscope, "/v1/request/count/query", {"filter": "all"}, other_key)
    assert count.json()["data"] == 1


@pytest.mark.parametrize(
    "body",
    [
        {"timeFilter": {"startTimeUnixMs": 10, "endTimeUnixMs": 5}},
        {"timezoneDifference": 99999},
        {"filter": {"sessions_request_response_rmt": {"total_cost": {"gt": "lots"}}}},
        {"search": 5},
    ],
)
async def test_session_query_bad_input(helioscope: Running, body: dict[str, Any]) -> None:
    response = await post(
        helioscope,
        "/v1/session/query",
        {"search": "", "timezoneDifference": 0, "filter": "all", **body},
    )
    assert response.status_code == 400
    assert response.json()["data"] is None


async def test_whole_numbers_are_written_as_javascript_writes_them(
    helioscope: Running, data: Any
) -> None:
    # Helicone's server writes 200 and 15, not 200.0 and 15.0; clients that read JSON into typed
    # values (Python's json, Go's) see the difference.
    window = {
        "startTimeUnixMs": (T0 - dt.timedelta(hours=1)).timestamp() * 1000,
        "endTimeUnixMs": (T0 + dt.timedelta(hours=1)).timestamp() * 1000,
    }
    metrics_window = {
        "start": (T0 - dt.timedelta(hours=1)).isoformat(),
        "end": (T0 + dt.timedelta(hours=1)).isoformat(),
    }
    request = (await post(helioscope, "/v1/request/query", {"filter": "all"})).json()["data"][0]
    sessions = await post(
        helioscope,
        "/v1/session/query",
        {"search": "", "timeFilter": window, "timezoneDifference": 0, "filter": "all"},
    )
    latency = await post(
        helioscope, "/v1/metrics/averageLatency", {"filter": "all", "timeFilter": metrics_window}
    )
    cost = await post(
        helioscope, "/v1/metrics/totalCost", {"filter": "all", "timeFilter": metrics_window}
    )
    session = sessions.json()["data"][0]
    for value in (
        request["response_status"],
        request["prompt_tokens"],
        request["total_tokens"],
        request["delay_ms"],
        session["total_requests"],
        session["total_tokens"],
        latency.json()["data"],
    ):
        assert type(value) is int, (value, request, session, latency.text)
    assert (
        '"response_status":200,'
        in (await post(helioscope, "/v1/request/query", {"filter": "all", "limit": 1})).text
    )
    # Fractions stay fractions.
    assert request["request_id"] == "r5" and request["costUSD"] == 1e-05
    assert type(cost.json()["data"]) is float
