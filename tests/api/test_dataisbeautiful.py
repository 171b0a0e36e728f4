"""``DataIsBeautiful``: the nine model and provider statistics routes over the caller's log."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import pytest_asyncio

from tests.api.families import check, log_row
from tests.running import Running

# These routes read the log: they run with it in ClickHouse too (tests/conftest.py).
# Each test reads only its own organization's rows: one app per engine (``own_org``).
pytestmark = [pytest.mark.clickhouse, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(loop_scope="module")
async def helioscope(own_org: Running) -> Running:
    return own_org


BASE = "/v1/public/dataisbeautiful"


@pytest_asyncio.fixture(loop_scope="module")
async def seeded(helioscope: Running) -> Running:
    org, now = helioscope.org_id, dt.datetime.now(dt.UTC)
    other_org, _ = await helioscope.add_org("other")
    today, two_days = now - dt.timedelta(minutes=1), now - dt.timedelta(days=2)
    rows = [
        # Today: 2 gpt-4o-mini (cost 1 + 1), 1 gpt-4o (cost 2), 1 claude-3-haiku (cost 4).
        log_row(
            org,
            today,
            model="gpt-4o-mini-2024-07-18",
            cost=10**9,
            prompt_tokens=1500,
            time_to_first_token=300,
            is_stream=True,
        ),
        log_row(
            org,
            today,
            model="gpt-4o-mini",
            cost=10**9,
            prompt_tokens=500,
            time_to_first_token=100,
            is_stream=True,
        ),
        log_row(
            org,
            today,
            model="gpt-4o",
            cost=2 * 10**9,
            prompt_tokens=700,
            time_to_first_token=210,
            is_stream=True,
        ),
        log_row(
            org,
            today,
            provider="ANTHROPIC",
            model="claude-3-haiku-20240307",
            cost=4 * 10**9,
            prompt_tokens=100,
            completion_tokens=50,
        ),
        # Two days ago: one gpt-4o; forty days ago (outside 7d and 1m, inside 3m): one gpt-4.
        log_row(org, two_days, model="gpt-4o", cost=10**9, prompt_tokens=20, completion_tokens=0),
        log_row(org, now - dt.timedelta(days=40), model="gpt-4", cost=10**9),
        # Another organization's calls never count.
        *[log_row(other_org, today, model="gpt-4o", cost=10**12) for _ in range(3)],
    ]
    await helioscope.services.store.log.write_batch(rows)
    return helioscope


async def _data(hs: Running, path: str, body: Any, schema: str) -> Any:
    response = await hs.client.post(BASE + path, json=body, headers=hs.auth())
    assert response.status_code == 200, response.text
    check(schema, response.json())
    return response.json()["data"]


async def test_totals_and_usage_series(seeded: Running) -> None:
    totals = await _data(seeded, "/total-values", None, "Result_TotalValuesForAllOfTime.string_")
    assert totals == {"total_cost": 10.0, "total_tokens": 2830 + 70, "total_requests": 6}
    today = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    models = await _data(
        seeded, "/model/usage/overtime", None, "Result_ModelUsageOverTime-Array.string_"
    )
    assert {"date": today, "model": "gpt-4o", "tokens": 705} in models
    assert len(models) == 5  # four models today, gpt-4o two days ago; gpt-4 is 40 days old
    providers = await _data(
        seeded, "/provider/usage/overtime", None, "Result_ProviderUsageOverTime-Array.string_"
    )
    assert {"date": today, "provider": "ANTHROPIC", "tokens": 150} in providers
    assert {"date": today, "provider": "OPENAI", "tokens": 1505 + 505 + 705} in providers
    assert len(providers) == 3


async def test_breakdowns_by_model_family_and_provider(seeded: Running) -> None:
    week = {"timespan": "7d"}
    count = await _data(seeded, "/total-requests", week, "Result_number.string_")
    assert count == 5
    assert await _data(seeded, "/total-requests", {"timespan": "3m"}, "Result_number.string_") == 6
    families = {"timespan": "7d", "models": ["gpt-4o", "gpt-4o-mini"]}
    assert await _data(seeded, "/total-requests", families, "Result_number.string_") == 4
    shares = await _data(
        seeded, "/model/percentage", families, "Result_ModelBreakdown-Array.string_"
    )
    # The longest family wins: both minis are gpt-4o-mini, the two others gpt-4o.
    assert shares == [
        {"matched_model": "gpt-4o", "percent": 50.0},
        {"matched_model": "gpt-4o-mini", "percent": 50.0},
    ]
    cost = await _data(seeded, "/model/cost", week, "Result_ModelCost-Array.string_")
    # Of 9 USD this week: claude 4, gpt-4o 2 + 1, each mini 1.
    assert [c["matched_model"] for c in cost] == [
        "claude-3-haiku-20240307",
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4o-mini-2024-07-18",
    ]
    assert [c["percent"] for c in cost] == pytest.approx([400 / 9, 300 / 9, 100 / 9, 100 / 9])
    providers = await _data(
        seeded, "/provider/percentage", week, "Result_ProviderBreakdown-Array.string_"
    )
    assert providers == [
        {"provider": "OPENAI", "percent": 80.0},
        {"provider": "ANTHROPIC", "percent": 20.0},
    ]
    anthropic = {"timespan": "7d", "provider": "ANTHROPIC"}
    assert await _data(seeded, "/total-requests", anthropic, "Result_number.string_") == 1
    over_time = await _data(
        seeded,
        "/model/percentage/overtime",
        {"timespan": "7d", "models": ["gpt-4o"]},
        "Result_ModelBreakdownOverTime-Array.string_",
    )
    today = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    assert over_time[-1] == {"date": today, "matched_model": "gpt-4o", "percent": 100.0}
    assert len(over_time) == 2


async def test_ttft_by_prompt_length(seeded: Running) -> None:
    bins = await _data(
        seeded,
        "/ttft-vs-prompt-length",
        {"timespan": "7d"},
        "Result_TTFTvsPromptLength-Array.string_",
    )
    # 500 and 700 prompt tokens fall in the first thousand, 1500 in the second.
    assert [b["prompt_length"] for b in bins] == [0, 1000]
    first = bins[0]
    assert (first["ttft"], first["ttft_p75"], first["ttft_p99"]) == (100, 210, 210)
    assert first["ttft_normalized"] == 200.0  # 100 ms over 500 tokens, per 1,000 tokens
    assert first["ttft_normalized_p99"] == 300.0  # 210 ms over 700 tokens
    assert bins[1]["ttft"] == 300 and bins[1]["ttft_normalized"] == 200.0


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/total-requests", {}),
        ("/model/percentage", {"timespan": "1y"}),
        ("/model/cost", {"timespan": "7d", "provider": "NOBODY"}),
        ("/provider/percentage", {"timespan": "7d", "models": ["not-a-model"]}),
        ("/ttft-vs-prompt-length", None),
        ("/model/percentage/overtime", []),
    ],
)
async def test_bad_bodies_are_refused(helioscope: Running, path: str, body: Any) -> None:
    response = await helioscope.client.post(BASE + path, json=body, headers=helioscope.auth())
    assert response.status_code == 400, response.text
    assert response.json()["data"] is None and response.json()["error"].startswith("invalid")
