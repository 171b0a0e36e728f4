"""Helioscope's own read routes for the UI (``/v1/helioscope/...``), in process, on both engines."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from helioscope.services import Services
from helioscope.store import LogRow, keys
from helioscope.store.experiments import experiments
from tests.running import Running

# These routes read the log: they run with it in ClickHouse too (tests/conftest.py).
pytestmark = [pytest.mark.clickhouse, pytest.mark.asyncio(loop_scope="module")]

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


class Api:
    """The app in process (lifespan running), with one organization's key and another's."""

    def __init__(self, http: httpx.AsyncClient, services: Services) -> None:
        self.http = http
        self.services = services
        self.org = ""
        self.key = ""
        self.other_key = ""

    async def call(self, method: str, path: str, body: Any = None, key: str | None = None) -> Any:
        response = await self.http.request(
            method, path, json=body, headers={"authorization": f"Bearer {key or self.key}"}
        )
        return response

    async def data(self, method: str, path: str, body: Any = None, key: str | None = None) -> Any:
        response = await self.call(method, path, body, key)
        assert response.status_code == 200, response.text
        return response.json()["data"]


def log_row(org: str, rid: str, minute: int, **fields: Any) -> LogRow:
    values: dict[str, Any] = {
        "request_id": rid,
        "organization_id": org,
        # Microseconds, as the gateway records them: news must not round them away.
        "request_created_at": T0 + dt.timedelta(minutes=minute, microseconds=123_456),
        "status": 200,
        "provider": "ANTHROPIC",
        "model": "claude-3-5-haiku",
        "latency": 100 * (minute + 1),
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "total_tokens": 15,
        "cost": 2_000_000 * (minute + 1),
        "is_stream": True,
        "reasoning_tokens": 3,
        "request_body": json.dumps({"messages": [{"role": "user", "content": rid}]}),
        "response_body": json.dumps({"content": [{"type": "text", "text": "ok"}]}),
    }
    values.update(fields)
    return LogRow(**values)


def sessioned(sid: str, name: str, path: str) -> dict[str, str]:
    return {
        "Helicone-Session-Id": sid,
        "Helicone-Session-Name": name,
        "Helicone-Session-Path": path,
    }


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def api(shared_helioscope: Running) -> AsyncIterator[Api]:
    """Two organizations' rows on the module's shared Helioscope (one app per engine).

    The tests only read them: the one that writes (an experiment and a key, in its
    organization) writes nothing another test reads. An app of its own cost each test a store
    and, on ClickHouse, its first batch's heal (~0.13 s of CPU).
    """
    async with shared_helioscope.http() as http:
        client = Api(http, shared_helioscope.services)
        store = shared_helioscope.services.store
        # Organizations are made by name: these are the module's own.
        client.org, client.key = await shared_helioscope.add_org(f"acme-{uuid.uuid4().hex}")
        other, client.other_key = await shared_helioscope.add_org(f"rival-{uuid.uuid4().hex}")
        org = client.org
        rows = [
            log_row(org, "a-root", 0, properties=sessioned("s-a", "Agent", "/")),
            log_row(
                org,
                "a-step",
                1,
                properties=sessioned("s-a", "Agent", "/step"),
                status=500,
                error="boom",
            ),
            log_row(
                org,
                "b-root",
                5,
                properties=sessioned("s-b", "Batch", "/"),
                cost=90_000_000,
                user_id="u-1",
            ),
            log_row(org, "plain", 9),
            log_row(other, "secret", 3, properties=sessioned("s-x", "Theirs", "/")),
        ]
        await store.log.write_batch(rows)
        yield client


async def test_request_page_has_every_field_and_the_count(api: Api) -> None:
    page = await api.data(
        "POST",
        "/v1/helioscope/requests/query",
        {"filter": "all", "limit": 2, "sort": {"latency": "asc"}, "count": True},
    )
    assert page["total"] == 4
    assert [r["request_id"] for r in page["requests"]] == ["a-root", "a-step"]
    first = page["requests"][0]
    # Fields Helicone's shape does not declare are here, in the units the UI shows.
    assert first["cost"] == pytest.approx(0.002)
    assert (first["is_stream"], first["reasoning_tokens"], first["cache_enabled"]) == (
        True,
        3,
        False,
    )
    assert page["requests"][1]["error"] == "boom"
    assert first["request_body"]["messages"][0]["content"] == "a-root"
    uncounted = await api.data("POST", "/v1/helioscope/requests/query", {"includeBodies": False})
    assert uncounted["total"] is None and uncounted["requests"][0]["request_body"] is None


async def test_one_request_and_by_ids_stay_in_the_organization(api: Api) -> None:
    one = await api.data("GET", "/v1/helioscope/requests/b-root")
    assert (one["cost"], one["request_user_id"]) == (pytest.approx(0.09), "u-1")
    missing = await api.call("GET", "/v1/helioscope/requests/secret")
    assert missing.status_code == 404
    assert missing.json() == {"data": None, "error": "request secret not found"}
    found = await api.data(
        "POST", "/v1/helioscope/requests/by-ids", {"requestIds": ["plain", "secret", "a-root"]}
    )
    assert sorted(r["request_id"] for r in found) == ["a-root", "plain"]


async def test_news_counts_what_arrived_after_a_moment(api: Api) -> None:
    since = (T0 + dt.timedelta(minutes=1, microseconds=123_456)).isoformat()
    news = await api.data("POST", "/v1/helioscope/requests/news", {"since": since})
    assert news == {"count": 2, "capped": False, "latest": "2026-03-01T12:09:00.123456+00:00"}
    # The latest is exact: asking again from it finds nothing new.
    again = await api.data("POST", "/v1/helioscope/requests/news", {"since": news["latest"]})
    assert again["count"] == 0
    sessions_only = {
        "request_response_rmt": {"properties": {"Helicone-Session-Id": {"equals": "s-b"}}}
    }
    news = await api.data(
        "POST", "/v1/helioscope/requests/news", {"since": since, "filter": sessions_only}
    )
    assert news["count"] == 1
    later = (T0 + dt.timedelta(hours=1)).isoformat()
    assert (await api.data("POST", "/v1/helioscope/requests/news", {"since": later}))[
        "latest"
    ] is None
    # Each organization counts its own rows only: ours at minutes 0, 1, 5, 9; theirs at 3.
    ours = await api.data("POST", "/v1/helioscope/requests/news", {"since": T0.isoformat()})
    theirs = await api.data(
        "POST", "/v1/helioscope/requests/news", {"since": T0.isoformat()}, key=api.other_key
    )
    assert (ours["count"], theirs["count"]) == (4, 1)


async def test_sessions_sort_by_totals_with_error_counts(api: Api) -> None:
    page = await api.data("POST", "/v1/helioscope/sessions/query", {"sort": {"total_cost": "desc"}})
    assert page["total"] == 2
    batch, agent = page["sessions"]
    assert (batch["session_id"], batch["total_cost"], batch["user_ids"]) == ("s-b", 0.09, ["u-1"])
    assert (agent["total_requests"], agent["error_count"], agent["avg_latency"]) == (2, 1, 150)
    by_name = await api.data(
        "POST", "/v1/helioscope/sessions/query", {"sort": {"session_name": "asc"}, "limit": 1}
    )
    assert [s["session_name"] for s in by_name["sessions"]] == ["Agent"] and by_name["total"] == 2
    searched = await api.data("POST", "/v1/helioscope/sessions/query", {"search": "batc"})
    assert [s["session_id"] for s in searched["sessions"]] == ["s-b"]
    # Overlapping the window is enough: s-a (minutes 0-1) overlaps [1, 2].
    window = {
        "start": (T0 + dt.timedelta(minutes=1)).isoformat(),
        "end": (T0 + dt.timedelta(minutes=2)).isoformat(),
    }
    windowed = await api.data("POST", "/v1/helioscope/sessions/query", window)
    assert [s["session_id"] for s in windowed["sessions"]] == ["s-a"]


async def test_session_trace_in_time_order(api: Api) -> None:
    trace = await api.data("GET", "/v1/helioscope/sessions/s-a")
    assert trace["session_names"] == ["Agent"] and trace["truncated"] is False
    assert [r["request_id"] for r in trace["requests"]] == ["a-root", "a-step"]
    assert trace["requests"][1]["error"] == "boom"
    assert (await api.call("GET", "/v1/helioscope/sessions/s-x")).status_code == 404


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/v1/helioscope/requests/query", {"limit": 0}, "limit"),
        ("/v1/helioscope/requests/query", {"sort": {"nope": "asc"}}, "sort.nope"),
        ("/v1/helioscope/requests/query", {"filter": {"request_response_rmt": {"x": 1}}}, "x"),
        ("/v1/helioscope/requests/news", {}, "since"),
        ("/v1/helioscope/requests/news", {"since": "2026-03-01T12:00:00"}, "since"),
        ("/v1/helioscope/requests/by-ids", {"requestIds": "a"}, "requestIds"),
        ("/v1/helioscope/sessions/query", {"sort": {"cost": "desc"}}, "sort"),
        ("/v1/helioscope/sessions/query", {"sort": {"total_cost": "up"}}, "sort"),
        ("/v1/helioscope/sessions/query", {"limit": 501}, "limit"),
        (
            "/v1/helioscope/sessions/query",
            {"start": "2026-03-02T00:00:00Z", "end": "2026-03-01T00:00:00Z"},
            "start is after end",
        ),
    ],
)
async def test_bad_input_is_a_400_naming_the_field(
    api: Api, path: str, body: Any, message: str
) -> None:
    response = await api.call("POST", path, body)
    assert response.status_code == 400, response.text
    payload = response.json()
    assert payload["data"] is None and message in payload["error"]


async def test_rename_an_experiment_needs_write_scope(api: Api) -> None:
    store = api.services.store
    created = await api.data("POST", "/v2/experiment/create/empty")
    experiment_id = created["experimentId"]
    await api.data("PATCH", f"/v1/helioscope/experiments/{experiment_id}", {"name": "  Tone  "})
    found = await store.org(api.org).read(experiments.get_experiment, experiment_id)
    assert found["name"] == "Tone"
    reader = await store.org(api.org).write(keys.create_api_key, "reader", "r")
    refused = await api.call(
        "PATCH", f"/v1/helioscope/experiments/{experiment_id}", {"name": "x"}, key=reader.key
    )
    assert refused.status_code == 403
    blank = await api.call("PATCH", f"/v1/helioscope/experiments/{experiment_id}", {"name": " "})
    assert blank.status_code == 400
    theirs = await api.call(
        "PATCH", f"/v1/helioscope/experiments/{experiment_id}", {"name": "x"}, key=api.other_key
    )
    assert theirs.status_code == 404
