"""``Comparison``: models side by side over the caller's log, in Helicone's ``Model`` shape."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from helioscope.store.log import requests
from tests.api.families import check, check_array, log_row
from tests.running import Running

# These routes read the log: they run with it in ClickHouse too (tests/conftest.py).
pytestmark = pytest.mark.clickhouse

PATH = "/v1/public/compare/models"


async def test_models_compared_from_the_log(helioscope: Running) -> None:
    org, now = helioscope.org_id, dt.datetime.now(dt.UTC)
    other_org, _ = await helioscope.add_org("other")
    day = now - dt.timedelta(minutes=1)
    rows = [
        log_row(
            org,
            day,
            model="gpt-4o-mini",
            latency=latency,
            time_to_first_token=ttft,
            completion_tokens=tokens,
            country_code=country,
            status=status,
        )
        for latency, ttft, tokens, country, status in [
            (100, 10, 100, "US", 200),
            (200, 20, 100, "US", 200),
            (300, None, 50, "FR", 200),
            (400, 40, 0, "FR", 500),
        ]
    ]
    rows.append(log_row(org, now - dt.timedelta(days=3), model="GPT-4o-mini", latency=1000))
    rows.append(log_row(org, now - dt.timedelta(days=45), model="gpt-4o-mini", latency=9))  # old
    rows.append(log_row(org, day, model="gpt-4o", latency=5))  # not compared
    rows += [log_row(other_org, day, model="gpt-4o-mini", latency=99999) for _ in range(3)]
    await helioscope.services.store.log.write_batch(rows)
    log = helioscope.services.store.log.org(org)
    await log.write(requests.set_feedback, rows[0].request_id, True)
    await log.write(requests.set_feedback, rows[1].request_id, True)
    await log.write(requests.set_feedback, rows[3].request_id, False)

    body = [
        {"provider": "openai", "names": ["gpt-4o-mini"], "parent": "GPT-4o mini"},
        {"provider": "ANTHROPIC", "names": ["claude-3-haiku-20240307"], "parent": "Haiku"},
    ]
    response = await helioscope.client.post(PATH, json=body, headers=helioscope.auth())
    assert response.status_code == 200, response.text
    check("Result_Model-Array.string_", response.json())
    mini, haiku = response.json()["data"]

    assert (mini["model"], mini["provider"]) == ("GPT-4o mini", "openai")
    latency = mini["latency"]
    # Five calls in 30 days: 100, 200, 300, 400, 1000 ms.
    assert (latency["min"], latency["max"], latency["median"], latency["average"]) == (
        100,
        1000,
        300,
        400,
    )
    assert (latency["p90"], latency["p95"], latency["p99"]) == (1000, 1000, 1000)
    # Per 1,000 output tokens: 1000, 2000, 6000 and 200000 (1000 ms over 5 tokens).
    assert latency["medianPer1000Tokens"] == 2000
    assert (mini["ttft"]["min"], mini["ttft"]["median"], mini["ttft"]["max"]) == (10, 20, 40)
    assert mini["requestStatus"] == {"errorRate": 20.0, "successRate": 80.0}
    assert mini["feedback"]["positivePercentage"] == pytest.approx(200 / 3)
    assert mini["feedback"]["negativePercentage"] == pytest.approx(100 / 3)
    assert mini["geographicLatency"] == [
        {"countryCode": "FR", "median": 300},
        {"countryCode": "US", "median": 100},
    ]
    assert mini["geographicTtft"] == [
        {"countryCode": "FR", "median": 40},
        {"countryCode": "US", "median": 10},
    ]
    series = mini["timeSeriesData"]
    assert [len(series[k]) for k in ("errorRate", "successRate", "ttft", "latency")] == [2] * 4
    assert series["errorRate"][-1]["value"] == 25.0 and series["latency"][0]["value"] == 1000
    # gpt-4o-mini's list prices: 0.15 USD per million input tokens, 0.60 per million output.
    assert mini["costs"] == {"prompt_token": 0.15, "completion_token": 0.6}

    # No calls: zeros, still in the shape.
    assert haiku["requestStatus"] == {"errorRate": 0, "successRate": 0}
    assert haiku["latency"]["median"] == 0 and haiku["timeSeriesData"]["latency"] == []
    check_array("Model", [haiku])


@pytest.mark.parametrize(
    "body",
    [
        None,
        {"provider": "openai", "names": ["x"], "parent": "x"},
        [{"provider": "openai", "names": [], "parent": "x"}],
        [{"provider": "openai", "parent": "x"}],
        [{"provider": "openai", "names": ["x"], "parent": "x"}] * 21,
    ],
)
async def test_bad_bodies_are_refused(helioscope: Running, body: Any) -> None:
    response = await helioscope.client.post(PATH, json=body, headers=helioscope.auth())
    assert response.status_code == 400, response.text
    assert response.json()["data"] is None and response.json()["error"]
