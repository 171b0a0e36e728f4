"""/health and /health/ready: no key, JSON; ready says when the store is unreachable and how far
behind the writer is; the REST API answers 503 in Helicone's envelope while the store is down,
and the outage is logged once, not once per call."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from helioscope.testing import FakeProvider
from tests.conftest import Running, settings_for
from tests.gateway.clients import openai_client
from tests.running import running
from tests.throwaway_postgres import throwaway_postgres


async def test_liveness_and_readiness_need_no_key(helioscope: Running) -> None:
    live = await helioscope.client.get("/health")
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    async with openai_client(helioscope) as client:
        await client.chat.completions.create(model="gpt-4o-mini", messages=[])
    await helioscope.flush()
    ready = await helioscope.client.get("/health/ready")
    body = ready.json()
    assert ready.status_code == 200 and body["status"] == "ready"
    assert body["store"] == {"reachable": True, "error": None}
    writer = body["writer"]
    assert writer["running"] and writer["lag_records"] == 0 and writer["lag_seconds"] == 0
    assert writer["stored"] >= 1 and writer["journal_bytes"] > 0
    assert writer["bodies_dropped"] == 0 and not writer["failing"]
    assert helioscope.key not in ready.text


async def test_store_outage_is_503_logged_once_and_seen_in_ready(
    fake: FakeProvider, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with throwaway_postgres() as cluster:
        settings = settings_for(cluster.url, fake, tmp_path).model_copy(
            update={"shutdown_drain_seconds": 0.5}
        )
        async with running(settings) as hs:
            async with openai_client(hs) as client:
                await client.chat.completions.create(model="gpt-4o-mini", messages=[])
                await hs.flush()
                caplog.clear()
                cluster.stop()
                for _ in range(5):  # proxied calls go on (cached key), and are journalled
                    await client.chat.completions.create(model="gpt-4o-mini", messages=[])
                for _ in range(5):
                    api = await hs.client.post(
                        "/v1/request/query", json={"filter": "all"}, headers=hs.auth()
                    )
                    assert api.status_code == 503, api.text
                    assert api.json() == {
                        "data": None,
                        "error": "the store is unavailable; retry shortly",
                    }
                ready = await hs.client.get("/health/ready")
                assert ready.status_code == 503
                body = ready.json()
                assert body["store"]["reachable"] is False and body["store"]["error"]
                assert body["writer"]["lag_records"] == 5
                cluster.start()
                await asyncio.wait_for(hs.flush(), timeout=30)
                ready = await hs.client.get("/health/ready")
                assert ready.status_code == 200 and ready.json()["writer"]["lag_records"] == 0
    outage = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert sum("store unreachable" in m for m in outage) == 1, outage
    assert sum("store reachable again" in m for m in outage) == 1, outage
