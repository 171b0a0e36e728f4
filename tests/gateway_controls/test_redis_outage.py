"""A Redis that goes away mid-run: rate limits still hold (in-process), and the log says so twice.

The test runs its own throwaway ``redis-server`` on a free port, kills it, and starts it again,
so the shared test Redis is never touched.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from helioscope import Settings
from helioscope.gateway.controls._redis import RETRY_SECONDS
from helioscope.testing import FakeProvider
from tests.conftest import Running
from tests.gateway_controls.test_ratelimit import call

pytestmark = [
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
    # The gateway in front of the store: its assertions hold on any engine (tests/conftest.py).
    pytest.mark.one_engine,
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ThrowawayRedis:
    """A ``redis-server`` of our own that can be killed and started again on the same port."""

    def __init__(self, directory: Path) -> None:
        self.port = _free_port()
        self._dir = directory
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            cwd=self._dir,
            stdout=subprocess.DEVNULL,
        )
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.1).close()
                return
            except OSError:
                subprocess.run(["sleep", "0.02"], check=True)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[ThrowawayRedis]:
    server = ThrowawayRedis(tmp_path)
    server.start()
    yield server
    server.kill()


@pytest.fixture
def backend() -> str:
    return "embedded"


@pytest.fixture
def settings(settings: Settings, redis_server: ThrowawayRedis) -> Settings:
    return settings.model_copy(
        update={"redis_url": f"redis://127.0.0.1:{redis_server.port}/0", "redis_key_prefix": "t:"}
    )


async def test_rate_limits_hold_while_redis_is_down_and_the_outage_is_logged_once(
    helioscope: Running,
    fake: FakeProvider,
    redis_server: ThrowawayRedis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    first = await call(helioscope, "3;w=60", **{"helicone-user-id": "up"})
    assert (first.status_code, first.headers["helicone-ratelimit-remaining"]) == (200, "2")

    redis_server.kill()
    statuses = [(await call(helioscope, "3;w=60")).status_code for _ in range(10)]
    # The in-process buckets enforce the quota (they fail closed on the 4th call, not open).
    assert statuses == [200] * 3 + [429] * 7
    assert len(fake.calls) == 1 + 3

    redis_server.start()
    await asyncio.sleep(RETRY_SECONDS + 0.1)
    back = await call(helioscope, "3;w=60", **{"helicone-user-id": "back"})
    assert back.status_code == 200

    outage = [r for r in caplog.records if "Redis is unreachable" in r.getMessage()]
    recovered = [r for r in caplog.records if "Redis is reachable again" in r.getMessage()]
    assert (len(outage), len(recovered)) == (1, 1)
    # No traceback per call: the internal-error guard (which re-raises under tests) never fired.
    assert helioscope.services.guard.count == 0
    assert not [r for r in caplog.records if r.exc_info]
