"""Gateway-control tests run on both backends: embedded (store + in-process buckets) and Redis.

Redis runs when ``HELIOSCOPE_TEST_REDIS_URL`` is set (``.ci/run`` sets it); otherwise the Redis
cases are skipped with a message. Each test gets its own key prefix, deleted afterwards, so runs
sharing one Redis never see each other's keys.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from helioscope import Settings
from tests.conftest import Running

REDIS_ENV = "HELIOSCOPE_TEST_REDIS_URL"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not os.environ.get(REDIS_ENV):
        terminalreporter.write_line(
            f"NOTE: Redis gateway-control tests were SKIPPED: set {REDIS_ENV}="
            "redis://host:6379/0 to run them.",
            yellow=True,
            bold=True,
        )


@pytest.fixture(params=["embedded", "redis"])
def backend(request: pytest.FixtureRequest) -> str:
    """Which backend the controls use."""
    return str(request.param)


@pytest.fixture
async def redis_prefix(backend: str) -> AsyncIterator[str | None]:
    """A fresh key prefix on the test Redis (None on the embedded backend); cleaned up after."""
    if backend != "redis":
        yield None
        return
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.skip(f"Redis tests skipped: {REDIS_ENV} is not set")
    prefix = f"helioscope-test:{uuid.uuid4().hex}:"
    yield prefix
    import redis.asyncio as aioredis

    client: Any = aioredis.Redis.from_url(url)
    keys = [k async for k in client.scan_iter(match=prefix + "*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest.fixture
def settings(settings: Settings, redis_prefix: str | None) -> Settings:
    """The base settings, pointed at Redis on the Redis backend."""
    if redis_prefix is None:
        return settings
    return settings.model_copy(
        update={"redis_url": os.environ[REDIS_ENV], "redis_key_prefix": redis_prefix}
    )


async def settle(hs: Running) -> None:
    """Wait until the calls so far are stored and background cache writes and cents charges are
    done (the serving process charges cents itself: the writer's flush is for the tests that
    read the stored rows)."""
    controls = hs.services.started.gateway.controls
    assert controls is not None
    await hs.flush()
    await controls.settle()
