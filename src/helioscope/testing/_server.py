"""Run an ASGI app under a real uvicorn on 127.0.0.1 and a port chosen by the OS."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, Literal

import uvicorn


class _Server(uvicorn.Server):
    """uvicorn without signal handling, stopping as soon as it is told to."""

    def __init__(self, config: uvicorn.Config) -> None:
        self._exit = asyncio.Event()
        super().__init__(config)

    # uvicorn sets ``should_exit`` and polls it every 0.1 s (uvicorn 0.30-0.55 ``main_loop``);
    # an event wakes the loop at once instead, which saves a tick on every test server's stop.
    @property
    def should_exit(self) -> bool:
        return self._exit.is_set()

    @should_exit.setter
    def should_exit(self, value: bool) -> None:
        if value:
            self._exit.set()
        else:
            self._exit.clear()

    async def main_loop(self) -> None:
        # uvicorn ticks every 0.1 s and refreshes the Date and Server headers every tenth tick;
        # this refreshes them every second too, but wakes as soon as it is told to exit.
        counter = 0
        while not await self.on_tick(counter):
            counter += 10
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1):
                    await self._exit.wait()

    # Tests and benchmarks own the process's signals; the server must not take them over.
    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def loopback_socket() -> socket.socket:
    """A TCP socket bound to 127.0.0.1 on a port the OS picks, already listening.

    Clients may connect before a server serves it: the kernel queues them until it does.
    """
    # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose proto
    # says TCP, and without it a response written in two parts waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)
    return sock


@asynccontextmanager
async def serve(
    app: Any,
    *,
    lifespan: Literal["auto", "on", "off"] = "on",
    sock: socket.socket | None = None,
    **options: Any,
) -> AsyncIterator[str]:
    """Serve ``app`` until the block exits; yields its base URL (``http://127.0.0.1:PORT``).

    ``sock`` is a listening socket to serve (``loopback_socket()``; closed on exit), for a
    caller that hands out the URL before the server runs. ``options`` go to ``uvicorn.Config``
    (Helioscope's app runs with ``app.server_options(settings)``).
    """
    sock = sock or loopback_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, lifespan=lifespan, log_level="warning", access_log=False, **options
    )
    server = _Server(config)

    async def serving() -> None:
        try:
            await server.serve(sockets=[sock])
        except SystemExit as exc:
            # uvicorn exits when the app's startup fails; a SystemExit raised in a task leaves
            # the event loop itself (asyncio re-raises it from run_forever), and with it the
            # test runner's loop: an exception here stays the caller's.
            raise RuntimeError(f"the server could not start (exit status {exc.code})") from exc

    task = asyncio.create_task(serving())
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("server stopped before it started")
            await asyncio.sleep(0.005)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        try:
            await task
        finally:
            sock.close()
