"""``Status``: error rates and latency per provider over the caller's log, in Helicone's shapes."""

from __future__ import annotations

import datetime as dt

import pytest

from helioscope.api.status import _status
from tests.api.families import check, log_row
from tests.running import Running

# These routes read the log: they run with it in ClickHouse too (tests/conftest.py).
pytestmark = pytest.mark.clickhouse


def _hour(at: dt.datetime) -> dt.datetime:
    return at.replace(minute=0, second=0, microsecond=0)


async def test_provider_status_counts_errors_and_latency(helioscope: Running) -> None:
    org, now = helioscope.org_id, dt.datetime.now(dt.UTC)
    other_org, _ = await helioscope.add_org("other")
    recent = now - dt.timedelta(seconds=1)
    rows = [
        # The last 24 hours: 4 OpenAI calls, 1 an error; latency 100..400, 10 output tokens each.
        log_row(org, recent, latency=100, completion_tokens=10),
        log_row(org, now - dt.timedelta(hours=3), latency=200, completion_tokens=10),
        log_row(org, now - dt.timedelta(hours=5), latency=300, completion_tokens=10, status=500),
        log_row(org, now - dt.timedelta(hours=20), latency=400, completion_tokens=10),
        # The previous 24 hours: 2 calls, both errors, latency 1000.
        log_row(org, now - dt.timedelta(hours=30), latency=1000, completion_tokens=0, status=429),
        log_row(org, now - dt.timedelta(hours=40), latency=1000, completion_tokens=0, status=500),
        # Anthropic, once; another organization's OpenAI traffic, which must not count.
        log_row(org, now - dt.timedelta(hours=2), provider="ANTHROPIC", model="claude-3-haiku"),
        *[log_row(other_org, recent, status=500, latency=9999) for _ in range(5)],
    ]
    await helioscope.services.store.log.write_batch(rows)
    client, auth = helioscope.client, helioscope.auth()

    response = await client.get("/v1/public/status/provider/openai", headers=auth)
    asked = _hour(dt.datetime.now(dt.UTC))
    assert response.status_code == 200, response.text
    check("Result_ProviderMetrics.string_", response.json())
    status = response.json()["data"]
    assert status["providerName"] == "OPENAI"
    m = status["metrics"]
    assert m["totalRequests"] == 4
    assert m["requestCountPrevious24h"] == 2
    assert m["requestVolumeChange"] == 100.0  # 4 against 2
    assert m["errorRate24h"] == 25.0
    assert m["errorRatePrevious24h"] == 100.0
    assert m["errorRateChange"] == -75.0
    assert m["averageLatency"] == 250.0
    assert m["averageLatencyPerToken"] == 25.0  # (10+20+30+40) / 4
    assert m["latencyChange"] == -75.0  # 250 against 1000
    assert m["latencyPerTokenChange"] == 0.0  # no per-token latency the day before
    assert m["recentRequestCount"] == (1 if _hour(recent) == asked else 0)
    assert m["recentErrorCount"] == 0
    series = m["timeSeriesData"]
    assert len(series) == 24  # hourly over 24 hours, empty hours filled
    assert sum(p["requestCount"] for p in series) == 4
    assert sum(p["errorCount"] for p in series) == 1
    assert series[-1]["timestamp"].startswith(asked.strftime("%Y-%m-%dT%H:00:00"))

    response = await client.get("/v1/public/status/provider?timeFrame=7d", headers=auth)
    check("Result_ProviderMetrics-Array.string_", response.json())
    every = response.json()["data"]
    assert [p["providerName"] for p in every] == ["OPENAI", "ANTHROPIC"]
    week = every[0]["metrics"]
    assert week["totalRequests"] == 6 and week["averageLatency"] == 500.0
    assert len(week["timeSeriesData"]) == 8  # daily, today and the 7 days before
    assert sum(p["requestCount"] for p in week["timeSeriesData"]) == 6


async def test_a_provider_never_called_has_zeros(helioscope: Running) -> None:
    response = await helioscope.client.get(
        "/v1/public/status/provider/mistral?timeFrame=30d", headers=helioscope.auth()
    )
    body = response.json()
    check("Result_ProviderMetrics.string_", body)
    assert body["data"]["providerName"] == "MISTRAL"
    assert body["data"]["metrics"]["totalRequests"] == 0
    assert len(body["data"]["metrics"]["timeSeriesData"]) == 31


@pytest.mark.parametrize("query", ["timeFrame=1y", "timeFrame="])
async def test_bad_time_frames_are_refused(helioscope: Running, query: str) -> None:
    for path in ("/v1/public/status/provider", "/v1/public/status/provider/openai"):
        response = await helioscope.client.get(f"{path}?{query}", headers=helioscope.auth())
        assert response.status_code == 400, response.text
        assert response.json()["data"] is None and "timeFrame" in response.json()["error"]


@pytest.mark.parametrize("hour", [0, 10, 23])
def test_daily_frames_show_today_and_the_days_before_at_any_hour(hour: int) -> None:
    # At 23:00 the 7-day frame's first hour is midnight six days ago: the series still starts
    # seven days ago (it lost a point at that hour of every day).
    now = dt.datetime(2026, 12, 6, hour, 30, tzinfo=dt.UTC)
    assert len(_status([], now, "24h").timeSeriesData) == 24
    assert len(_status([], now, "7d").timeSeriesData) == 8
    assert len(_status([], now, "30d").timeSeriesData) == 31
