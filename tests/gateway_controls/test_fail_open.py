from __future__ import annotations

import pytest

from helioscope import Settings
from helioscope.testing import FakeProvider
from tests.conftest import Running
from tests.gateway.clients import PROVIDER_KEY, stored
from tests.gateway_controls.conftest import settle

# The gateway in front of the store: its assertions hold on any engine (tests/conftest.py).
pytestmark = pytest.mark.one_engine


@pytest.fixture
def backend() -> str:
    return "embedded"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Nothing listens on port 1: every Redis command fails. An unreachable Redis is not an
    # internal error (the guard, which re-raises under tests, must not see it).
    return settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})


async def test_calls_go_through_when_redis_is_down(helioscope: Running, fake: FakeProvider) -> None:
    statuses = []
    async with helioscope.http() as http:
        for n in range(3):
            response = await http.post(
                "/oai/v1/chat/completions",
                json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"hi {n}"}]},
                headers={
                    "authorization": f"Bearer {PROVIDER_KEY}",
                    "helicone-auth": f"Bearer {helioscope.key}",
                    "helicone-cache-enabled": "true",
                    "helicone-ratelimit-policy": "1;w=60",
                },
            )
            await settle(helioscope)
            # The cache reads as a miss; the rate limit holds in an in-process bucket.
            statuses.append(response.status_code)
            assert response.headers["helicone-ratelimit-remaining"] == "0"
            if response.status_code == 200:
                assert response.headers["helicone-cache"] == "MISS"
    assert statuses == [200, 429, 429]
    assert len(fake.calls) == 1
    assert helioscope.services.guard.count == 0
    await stored(helioscope, response.headers["helicone-id"])
