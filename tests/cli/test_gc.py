"""``helioscope serve`` freezes what startup built, so that full collections skip it."""

from __future__ import annotations

import asyncio
import gc

import uvicorn

from helioscope._asgi import Receive, Scope, Send
from helioscope.cli.serve import _server


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    raise AssertionError("no request is made")


async def test_the_server_freezes_what_startup_built() -> None:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="warning")
    server = _server(config)
    gc.unfreeze()
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not serving.done()
            await asyncio.sleep(0.01)
        assert gc.get_freeze_count() > 0
    finally:
        server.should_exit = True
        await serving
        gc.unfreeze()  # the rest of the test session collects as usual
