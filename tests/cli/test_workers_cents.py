"""``serve --workers 2`` with Redis: a ``u=cents`` policy charges every call once, whichever worker
serves it (worker 1 has no log writer; worker 0 has one beside it, which must not charge again),
and refuses with Helicone's 429 once the quota is spent."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from helioscope.gateway.controls._ratelimit import RATE_LIMITED_MESSAGE
from tests.cli.test_workers import _ready
from tests.ingest.test_crash_drills import Server, _prepare, fake_provider, until_stored

REDIS_ENV = "HELIOSCOPE_TEST_REDIS_URL"
POLICY = "3;w=3600;u=cents"
# gpt-4 input costs $30 per million tokens: 400 words are 1.2 cents (and a few words of answer).
LONG = {"model": "gpt-4", "messages": [{"role": "user", "content": "word " * 400}]}
STREAM = {**LONG, "stream": True, "stream_options": {"include_usage": True}}


@asynccontextmanager
async def _on(server: Server, worker: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose one connection the given worker accepted (it answers ready with its id)."""
    deadline = time.monotonic() + 60
    while True:
        assert time.monotonic() < deadline, f"worker {worker} accepted no connection"
        client = httpx.AsyncClient(
            base_url=server.url, timeout=30, limits=httpx.Limits(max_connections=1)
        )
        ready = await client.get("/health/ready")
        if ready.status_code == 200 and ready.json()["worker"]["id"] == worker:
            break
        await client.aclose()
    try:
        yield client
    finally:
        await client.aclose()


async def _call(server: Server, worker: str, key: str, body: object) -> httpx.Response:
    headers = {
        "helicone-auth": f"Bearer {key}",
        "authorization": "Bearer sk-fake",
        "helicone-ratelimit-policy": POLICY,
    }
    async with _on(server, worker) as client:
        return await client.post("/oai/v1/chat/completions", json=body, headers=headers)


async def _tokens(redis: Any, prefix: str) -> float:
    """The cents left in the organization's one bucket (the quota before its first step)."""
    keys = [k async for k in redis.scan_iter(match=prefix + "tb:*")]
    if not keys:
        return 3.0
    (key,) = keys
    return float(await redis.hget(key, "tokens"))


async def _charged_below(redis: Any, prefix: str, level: float) -> float:
    """Wait until a charge has taken the bucket below ``level``; the cents left."""
    deadline = time.monotonic() + 30
    while (left := await _tokens(redis, prefix)) >= level:
        assert time.monotonic() < deadline, f"the call was never charged: {left} cents left"
        await asyncio.sleep(0.1)
    return left


@pytest.fixture
async def redis_prefix() -> AsyncIterator[tuple[Any, str]]:
    """A client of the test Redis and a key prefix of this test's own, deleted afterwards."""
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.skip(f"Redis tests skipped: {REDIS_ENV} is not set")
    import redis.asyncio as aioredis

    client: Any = aioredis.Redis.from_url(url)
    prefix = f"helioscope-test:{uuid.uuid4().hex}:"
    try:
        yield client, prefix
    finally:
        keys = [k async for k in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def test_every_worker_charges_the_shared_bucket_once_per_call(
    tmp_path: Path, redis_prefix: tuple[Any, str]
) -> None:
    redis, prefix = redis_prefix
    database_url = f"sqlite:///{tmp_path / 'cents.db'}"
    key = await _prepare(database_url)
    with fake_provider() as upstream:
        server = Server(database_url, upstream, tmp_path, "--workers", "2")
        server.env.update(
            HELIOSCOPE_REDIS_URL=os.environ[REDIS_ENV], HELIOSCOPE_REDIS_KEY_PREFIX=prefix
        )
        server.stderr = (tmp_path / "stderr").open("wb")
        server.start()
        try:
            await _ready(server)
            # Worker 0, beside the writer: charged once (the writer, storing it, charges nothing).
            first = await _call(server, "0", key, LONG)
            assert (first.status_code, first.headers["helicone-ratelimit-remaining"]) == (200, "3")
            await _charged_below(redis, prefix, 2.5)
            await until_stored(database_url, {first.headers["helicone-id"]}, 30)
            # Worker 1, no writer beside it: a stream, priced from the usage in its last event.
            second = await _call(server, "1", key, STREAM)
            assert second.status_code == 200, second.text
            assert second.headers["helicone-ratelimit-remaining"] == "1"  # 3 - 1.2: one charge
            await _charged_below(redis, prefix, 1.3)
            third = await _call(server, "1", key, LONG)
            assert third.status_code == 200  # 0.6 cents left: allowed, then charged below 0
            await _charged_below(redis, prefix, 0)
            # The quota is spent: both workers refuse, with Helicone's 429 and headers.
            for worker in ("1", "0"):
                refused = await _call(server, worker, key, LONG)
                assert refused.status_code == 429, refused.text
                assert refused.json() == {"message": RATE_LIMITED_MESSAGE}
                assert refused.headers["helicone-ratelimit-limit"] == "3"
                assert refused.headers["helicone-ratelimit-remaining"] == "0"
                assert refused.headers["helicone-ratelimit-policy"] == POLICY
                assert int(refused.headers["helicone-ratelimit-reset"]) > 0
            # Every call stored, and each of the three answered charged once: 3 - 3 x 1.2.
            answered = {r.headers["helicone-id"] for r in (first, second, third)}
            await until_stored(database_url, answered, 30)
            await asyncio.sleep(0.5)  # (a charge made as a row is stored would land by now)
            assert -0.8 < await _tokens(redis, prefix) < -0.5
        finally:
            server.stop()
            server.stderr.close()
    # Nothing to warn of at start: the buckets are shared and every worker charges its calls.
    assert "warning" not in (tmp_path / "stderr").read_text()
