"""The log writer catches up within about a second of its store's return, however long its
back-off had grown, and logs the outage with its true length."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from pathlib import Path

import pytest

from helioscope.testing import FakeProvider
from tests.conftest import settings_for
from tests.gateway.clients import openai_client
from tests.running import running
from tests.throwaway_postgres import throwaway_postgres


async def test_the_writer_resumes_when_the_store_is_back_not_when_its_back_off_ends(
    fake: FakeProvider, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "helioscope.ingest")
    with throwaway_postgres() as cluster:
        settings = settings_for(cluster.url, fake, tmp_path).model_copy(
            update={"log_retry_seconds": 0.1, "shutdown_drain_seconds": 0.5}
        )
        async with running(settings) as hs:
            async with openai_client(hs) as client:
                await client.chat.completions.create(model="gpt-4o-mini", messages=[])
                await hs.flush()
                cluster.stop()
                down = time.monotonic()
                for _ in range(3):
                    await client.chat.completions.create(model="gpt-4o-mini", messages=[])
                # Retries after 0.1, 0.2, ... 3.2 s: by now the writer sleeps 6.4 s more.
                await asyncio.sleep(7)
                cluster.start()
                back = time.monotonic()
                await asyncio.wait_for(hs.flush(), timeout=30)
                assert time.monotonic() - back < 2.5, "slept on after the store was back"
    recovered = [r.getMessage() for r in caplog.records if "recovered after" in r.getMessage()]
    assert len(recovered) == 1, recovered
    length = float(re.findall(r"over ([\d.]+)s", recovered[0])[0])
    assert length <= back - down + 2.5, recovered
