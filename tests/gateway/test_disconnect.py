"""The disconnect watcher leaves nothing for the garbage collector once a call is over."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from helioscope._asgi import Message
from helioscope.gateway import _disconnect
from helioscope.gateway._disconnect import DisconnectWatcher

# The gateway in front of the store: its assertions hold on any engine (tests/conftest.py).
pytestmark = pytest.mark.one_engine


class Capture:
    """Stands for the call's capture, which the watcher's ``on_last`` refers to."""


@contextmanager
def collector_off() -> Iterator[None]:
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


async def watched_call(sent: list[Message]) -> weakref.ref[Capture]:
    """A call that outlives the watcher's grace, so that its watch task runs and is cancelled."""
    capture = Capture()

    async def receive() -> Message:
        await asyncio.Event().wait()  # the client says nothing until the call is over
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        sent.append(message)

    def on_last(subject: Capture) -> None:
        assert subject is capture  # the capture, referred to as the gateway's is

    watcher = DisconnectWatcher(receive, send, on_last, capture, _disconnect.Grace())
    try:
        await asyncio.sleep(_disconnect._GRACE_SECONDS * 2)  # the upstream is slow
        await watcher.send({"type": "http.response.body", "body": b"{}", "more_body": False})
    finally:
        watcher.stop()
    return weakref.ref(capture)


async def test_a_watched_call_is_freed_without_a_collection() -> None:
    sent: list[Message] = []
    with collector_off():
        gc.collect()
        capture = await asyncio.create_task(watched_call(sent))
        for _ in range(5):  # the watch task's cancellation runs, then the task is let go
            await asyncio.sleep(0)
        assert sent and capture() is None
