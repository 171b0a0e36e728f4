"""Deterministic log rows for the insights tests, written through the store like the writer's."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import Any

import httpx

from helioscope.store import LogRow
from tests.conftest import Running

T0 = dt.datetime(2026, 11, 2, 0, 0, tzinfo=dt.UTC)  # a Monday
MODELS = [("gpt-4o-mini", "OPENAI"), ("gpt-4o", "OPENAI"), ("claude-3-5-haiku", "ANTHROPIC")]
NANO = 1_000_000_000


def make_rows(org_id: str, n: int = 60, seed: int = 7, span_hours: int = 72) -> list[LogRow]:
    """``n`` varied rows of ``org_id`` spread over ``span_hours`` from ``T0``."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        model, provider = MODELS[i % len(MODELS)]
        status = rng.choice([200, 200, 200, 200, 429, 500])
        streamed = rng.random() < 0.5
        user = rng.choice(["alice", "bob", "carol", None])
        properties = {"team": rng.choice(["search", "ads", "Search-Labs"])}
        if rng.random() < 0.3:
            properties["env"] = rng.choice(["prod", "dev"])
        if user == "bob" and rng.random() < 0.5:
            # Helicone's gateway writes the second; its user metrics counted only the first.
            properties["Helicone-Rate-Limit-Status"] = ("rate_limited", "bucket_rate_limited")[
                i % 2
            ]
        prompt, completion = rng.randint(1, 500), rng.randint(0, 300)
        created = T0 + dt.timedelta(minutes=rng.randint(0, span_hours * 60 - 1))
        rows.append(
            LogRow(
                request_id=str(uuid.uuid4()),
                organization_id=org_id,
                request_created_at=created,
                response_created_at=created + dt.timedelta(seconds=1),
                status=status,
                provider=provider,
                model=model,
                latency=rng.randint(50, 5000),
                time_to_first_token=rng.randint(10, 900) if streamed else None,
                user_id=user,
                prompt_tokens=prompt,
                completion_tokens=completion,
                total_tokens=prompt + completion,
                reasoning_tokens=rng.randint(0, 20),
                prompt_cache_read_tokens=rng.randint(0, 10),
                prompt_cache_write_tokens=rng.randint(0, 10),
                cost=rng.randint(0, 5_000_000) if rng.random() < 0.9 else None,
                threat=rng.random() < 0.1,
                country_code=rng.choice(["US", "FR", "DE", None]),
                properties=properties,
                scores={"accuracy": rng.randint(0, 10)} if rng.random() < 0.3 else {},
                request_body='{"messages": []}',
                response_body='{"choices": []}',
            )
        )
    return rows


async def seed(hs: Running, rows: list[LogRow]) -> None:
    """Write rows as the log writer does."""
    await hs.services.store.log.write_batch(rows)


def window(start: dt.datetime = T0, hours: int = 72) -> dict[str, str]:
    """A Helicone ``timeFilter`` covering ``hours`` from ``start``."""
    return {"start": start.isoformat(), "end": (start + dt.timedelta(hours=hours)).isoformat()}


async def post(hs: Running, path: str, body: Any, key: str | None = None) -> httpx.Response:
    """POST as the test organization (or with ``key``)."""
    async with hs.http() as http:
        return await http.post(
            path, json=body, headers={"authorization": f"Bearer {key or hs.key}"}
        )


async def call(
    hs: Running, method: str, path: str, body: Any = None, key: str | None = None
) -> httpx.Response:
    """Any method as the test organization (or with ``key``)."""
    async with hs.http() as http:
        return await http.request(
            method, path, json=body, headers={"authorization": f"Bearer {key or hs.key}"}
        )


def data(response: httpx.Response) -> Any:
    """The envelope's data, after checking it is a success."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["error"] is None, body
    return body["data"]


def nearest_rank(values: list[float], p: int) -> float:
    """The smallest value with at least p% of the values at or below it."""
    ordered = sorted(values)
    rank = -(-p * len(ordered) // 100)  # ceil(p * n / 100)
    return ordered[max(rank, 1) - 1]
