"""One fake-provider socket for the whole session, served from its own thread.

Starting and stopping a uvicorn server costs a test about 0.1 s (uvicorn's shutdown waits a
fixed tick), and nearly every test needs the fake provider. So one server runs for the session
and forwards each request to the current test's ``FakeProvider``: every test still gets a fresh
provider (its recorded ``calls``, queued ``failures`` and knobs), at the same URL.

The server has its own thread and event loop because pytest-asyncio gives each test its own
loop: a server on a session-wide loop would not run while a test's loop does.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from starlette.types import Receive, Scope, Send

from helioscope.testing import FakeProvider
from helioscope.testing._server import loopback_socket, serve


class ProviderHost:
    """An ASGI app that hands every request to ``provider``, the current test's fake."""

    def __init__(self) -> None:
        self.provider: FakeProvider | None = None
        self.url = ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Forward to the current provider; 503 between tests."""
        provider = self.provider
        if provider is None:
            await send({"type": "http.response.start", "status": 503, "headers": []})
            await send({"type": "http.response.body", "body": b"no test is running"})
            return
        await provider.app(scope, receive, send)

    @contextmanager
    def running(self) -> Iterator[str]:
        """Serve from a thread until the block exits; yields the base URL."""
        sock = loopback_socket()
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        started = threading.Event()
        stopping: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
        failure: list[BaseException] = []

        async def main() -> None:
            stop = asyncio.Event()
            stopping.append((asyncio.get_running_loop(), stop))
            async with serve(self, lifespan="off", sock=sock):
                started.set()
                await stop.wait()

        def thread_main() -> None:
            try:
                asyncio.run(main())
            except BaseException as error:  # handed to the main thread below
                failure.append(error)
                started.set()

        thread = threading.Thread(target=thread_main, name="fake-provider", daemon=True)
        thread.start()
        started.wait()
        if failure:
            raise failure[0]
        try:
            yield self.url
        finally:
            loop, stop = stopping[0]
            loop.call_soon_threadsafe(stop.set)
            thread.join()
            if failure:
                raise failure[0]

    def serving(self, provider: FakeProvider) -> FakeProvider:
        """Make ``provider`` the one answering, at this host's URL."""
        provider.url = self.url
        self.provider = provider
        return provider
