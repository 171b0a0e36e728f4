"""The store's outages: their end found by a probe, the writer's back-off cut short by the
store's return, and a server that waits for its store rather than failing to start."""

from __future__ import annotations

import asyncio
import logging
import re
import time

import pytest

from helioscope._outage import Outage, StoreBackOff, wait_until_reachable


class Store:
    """A probe's target that is down until ``back`` is set; counts the probes."""

    def __init__(self) -> None:
        self.back = False
        self.probes = 0

    async def probe(self) -> None:
        self.probes += 1
        if not self.back:
            raise ConnectionRefusedError(111, "Connect call failed")


async def test_an_outage_ends_when_the_store_answers_not_at_the_next_call(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "helioscope")
    store = Store()
    outage = Outage(store.probe, probe_seconds=0.05)
    outage.down("a test", ConnectionRefusedError(111, "Connect call failed"))
    try:
        await asyncio.sleep(0.5)
        store.back = True
        await asyncio.sleep(0.2)  # no call reaches the store meanwhile: the probe finds it back
        assert outage.since is None
        logged = [r.getMessage() for r in caplog.records]
        ended = [m for m in logged if "store reachable again" in m]
        assert len(ended) == 1, logged
        duration = float(re.findall(r"after ([\d.]+)s", ended[0])[0])
        assert 0.45 <= duration <= 0.65, ended  # the outage's length, not the next call's time
        probes = store.probes
        await asyncio.sleep(0.2)
        assert store.probes == probes  # probing stops with the outage
    finally:
        await outage.close()


async def test_the_back_off_ends_within_a_probe_of_the_store_coming_back() -> None:
    store = Store()
    back_off = StoreBackOff(store.probe, every=0.05)
    started = time.monotonic()
    waiting = asyncio.create_task(back_off.sleep(30))
    await asyncio.sleep(0.3)
    assert not waiting.done() and back_off.seen_down
    store.back = True
    await asyncio.wait_for(waiting, timeout=1)
    assert time.monotonic() - started < 0.6


async def test_a_store_that_answers_probes_is_not_back_from_anything() -> None:
    # Its reads work and its writes fail (say): the retries keep backing off.
    store = Store()
    store.back = True
    back_off = StoreBackOff(store.probe, every=0.05)
    started = time.monotonic()
    await back_off.sleep(0.4)
    assert time.monotonic() - started >= 0.4 and store.probes >= 3


async def test_a_server_waits_for_its_store_saying_so_twice() -> None:
    store = Store()
    said: list[str] = []
    waiting = asyncio.create_task(
        wait_until_reachable(
            store.probe,
            "PostgreSQL postgresql://helio:***@db/logs",
            said.append,
            first_seconds=0.01,
            max_seconds=0.05,
        )
    )
    await asyncio.sleep(0.5)
    assert not waiting.done() and store.probes > 5  # retried, bounded back-off
    assert said == [
        "store PostgreSQL postgresql://helio:***@db/logs unreachable (ConnectionRefusedError: "
        "[Errno 111] Connect call failed); waiting for it (retrying every 0.05 s at most)"
    ]
    store.back = True
    await asyncio.wait_for(waiting, timeout=1)
    assert len(said) == 2 and re.fullmatch(
        r"store PostgreSQL postgresql://helio:\*\*\*@db/logs reachable after 0\.\ds", said[1]
    )


async def test_an_error_that_waiting_cannot_mend_is_raised() -> None:
    async def refused() -> None:
        raise ValueError("not the store's")

    with pytest.raises(ValueError):
        await wait_until_reachable(refused, "here", print)
