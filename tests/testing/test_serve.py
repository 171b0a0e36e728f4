"""``helioscope.testing.serve``: an app whose startup fails is the caller's exception."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from helioscope.testing._server import serve


async def _refusing_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An ASGI app whose lifespan startup fails (as a journal directory in use makes ours)."""
    assert scope["type"] == "lifespan"
    await receive()
    await send({"type": "lifespan.startup.failed", "message": "journal in use"})


async def test_a_server_whose_startup_fails_raises_in_the_caller_not_the_loop() -> None:
    with pytest.raises(RuntimeError, match=r"could not start \(exit status 3\)"):
        async with serve(_refusing_app):
            pass
    # The loop carries on (uvicorn's SystemExit used to leave it, and the test runner's with it).
    await asyncio.sleep(0)
