"""``helioscope serve`` freezes what startup built, so that full collections skip it."""

from __future__ import annotations

import asyncio
import gc
import sys

import uvicorn

from helioscope._asgi import Receive, Scope, Send
from helioscope.cli._gc import SWITCH_INTERVAL, THRESHOLDS
from helioscope.cli.serve import _server


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    raise AssertionError("no request is made")


async def test_the_server_freezes_what_startup_built() -> None:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="warning")
    server = _server(config, prices=True)
    gc.unfreeze()
    thresholds = gc.get_threshold()
    interval = sys.getswitchinterval()
    serving = asyncio.create_task(server.serve())
    deadline = asyncio.get_running_loop().time() + 30
    try:
        while not gc.get_freeze_count():  # frozen once started and the price table is loaded
            assert not serving.done()
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.01)
        assert server.started
        # Batches in flight are not promoted to the oldest generation (cli/_gc.py).
        assert gc.get_threshold() == THRESHOLDS
        # The event loop gets the GIL back sooner from the store's threads.
        assert sys.getswitchinterval() == SWITCH_INTERVAL
    finally:
        server.should_exit = True
        await serving
        gc.unfreeze()  # the rest of the test session collects as usual
        gc.set_threshold(*thresholds)
        sys.setswitchinterval(interval)
