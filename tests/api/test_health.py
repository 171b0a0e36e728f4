"""/health and /health/ready: no key, JSON; ready is 200 while calls are journalled (degraded while
the store is unreachable, saying how far behind the writer is) and 503 only when taking calls
would lose them or refuse them all; the REST API answers 503 in Helicone's envelope while the
store is down, and the outage is logged once, not once per call."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
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
    assert ready.status_code == 200 and body["status"] == "ready" and body["reasons"] == []
    assert body["store"] == {"reachable": True, "error": None}
    assert body["worker"] == {
        "id": helioscope.services.settings.worker_id,
        "bodies_dropped": 0,
        "journal_errors": 0,
        "journal_failing": False,
    }
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
                # Journal-first: calls go on, so a load balancer keeps this replica.
                ready = await hs.client.get("/health/ready")
                assert ready.status_code == 200
                body = ready.json()
                assert body["status"] == "degraded"
                assert "the store is unreachable" in body["reasons"]
                assert body["store"]["reachable"] is False and body["store"]["error"]
                assert body["writer"]["lag_records"] == 5
                # Had it never been reached since start, no key could be checked at all.
                hs.services.outage.reached = False
                ready = await hs.client.get("/health/ready")
                assert ready.status_code == 503 and ready.json()["status"] == "unavailable"
                cluster.start()
                await asyncio.wait_for(hs.flush(), timeout=30)
                ready = await hs.client.get("/health/ready")
                assert ready.status_code == 200 and ready.json()["writer"]["lag_records"] == 0
                assert ready.json()["status"] == "ready"
    outage = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert sum("store unreachable" in m for m in outage) == 1, outage
    assert sum("store reachable again" in m for m in outage) == 1, outage


async def test_a_failing_journal_takes_the_worker_out_of_rotation(helioscope: Running) -> None:
    """Records would be lost: 503, whatever the store's state."""
    helioscope.services.started.writer.health.journal_failing = True
    ready = await helioscope.client.get("/health/ready")
    body = ready.json()
    assert ready.status_code == 503 and body["status"] == "unavailable"
    assert body["reasons"] == ["this worker cannot journal (records are lost)"]
    assert body["worker"]["journal_failing"] is True and body["store"]["reachable"] is True


async def test_a_stopped_writer_is_degraded_not_out_of_rotation(helioscope: Running) -> None:
    """Calls are still journalled: the records wait for the writer (--writer-process restarts)."""
    writer = helioscope.services.started.writer
    assert writer._task is not None
    writer._task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await writer._task
    ready = await helioscope.client.get("/health/ready")
    assert ready.status_code == 200 and ready.json()["status"] == "degraded"
    assert ready.json()["reasons"] == ["the log writer is not running"]
    assert ready.json()["writer"]["running"] is False


async def test_shutting_down_is_503_from_the_signal_on(helioscope: Running) -> None:
    import uvicorn

    from helioscope.cli.serve import _server

    assert helioscope.app is not None
    server = _server(uvicorn.Config(helioscope.app), prices=False)
    server.handle_exit(signal.SIGTERM, None)
    assert server.should_exit
    ready = await helioscope.client.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "reasons": ["shutting down"]}
