"""A lean load generator: keep-alive HTTP/1.1 connections that send prepared request bytes.

On a small machine the load generator shares the cores with the processes it measures. An
aiohttp client spends ~100 us of CPU per call, as much as the fake provider and more than half
of what the gateway spends: that contention, not the gateway, then decides much of the latency
measured both ways. This client spends ~25 us per call (uvloop, httptools, one write per call).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

import httptools

# Below uvicorn's keep-alive timeout (5 s): see _Connection.stale.
_MAX_IDLE_SECONDS = 3.0


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.done: asyncio.Future[int] | None = None
        self.body: list[bytes] = []
        self.first_body = 0.0  # when the first bytes of the body arrived (a stream's first chunk)
        self.closed = False
        self.idle_since = time.monotonic()  # when its last answer completed

    @property
    def stale(self) -> bool:
        """Closed, or idle so long that the server may be closing it as a request is sent.

        uvicorn closes a keep-alive connection idle for 5 s; a request written as it does so is
        answered with a reset. Such a connection is closed here first and another one opened.
        """
        if not self.closed and time.monotonic() - self.idle_since > _MAX_IDLE_SECONDS:
            assert self.transport is not None
            self.transport.close()
            self.closed = True
        return self.closed

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_body(self, body: bytes) -> None:
        if not self.body:
            self.first_body = time.perf_counter()
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.idle_since = time.monotonic()
        if self.done is not None and not self.done.done():
            self.done.set_result(self.parser.get_status_code())

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.done is not None and not self.done.done():
            self.done.set_exception(ConnectionError(f"the server closed the connection: {exc}"))

    async def call(self, request: bytes) -> tuple[int, bytes]:
        assert self.transport is not None
        self.body = []
        self.done = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        status = await self.done
        return status, b"".join(self.body)


def prepare(url: str, headers: Mapping[str, str], body: bytes) -> bytes:
    """The bytes of one POST of ``body`` to ``url``."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"POST {target} HTTP/1.1", f"host: {parts.netloc}", f"content-length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class LoadClient:
    """``concurrency`` connections per origin, each sending one request at a time."""

    def __init__(self, concurrency: int) -> None:
        self.concurrency = concurrency
        self._pools: dict[str, list[_Connection]] = {}
        self.first_chunk: list[float] = []  # ms to the first body bytes, per call of the last round
        # --rate: ms from each call's scheduled time to its request's write, in the last round
        # (the load generator's own lateness, which its latencies include).
        self.late: list[float] = []

    async def _pool(self, url: str) -> list[_Connection]:
        """The origin's connections, reopening any the server closed while they sat idle
        (uvicorn closes a keep-alive connection after 5 s; other targets' rounds take longer).
        """
        parts = urlsplit(url)
        pool = self._pools.setdefault(parts.netloc, [])
        pool[:] = [conn for conn in pool if not conn.stale]
        loop = asyncio.get_running_loop()
        while len(pool) < self.concurrency:
            _, conn = await loop.create_connection(
                _Connection, parts.hostname or "127.0.0.1", parts.port or 80
            )
            pool.append(conn)
        return pool

    async def run_round(
        self,
        url: str,
        headers: Mapping[str, str] | Callable[[], Mapping[str, str]],
        n: int,
        body: bytes,
        status: int | None,
    ) -> tuple[list[float], float]:
        """``n`` calls over the pool; their latencies in ms, and calls per second."""
        pool = await self._pool(url)
        fixed = None if callable(headers) else prepare(url, headers, body)
        latencies: list[float] = []
        self.first_chunk = first_chunk = []
        queue = iter(range(n))

        async def worker(conn: _Connection) -> None:
            for _ in queue:
                request = fixed or prepare(url, headers() if callable(headers) else headers, body)
                start = time.perf_counter()
                got, text = await conn.call(request)
                assert status in (None, got), text[:500]
                latencies.append((time.perf_counter() - start) * 1000)
                first_chunk.append((conn.first_body - start) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(worker(conn) for conn in pool))
        return latencies, n / (time.perf_counter() - started)

    async def run_rate(
        self,
        url: str,
        headers: Mapping[str, str] | Callable[[], Mapping[str, str]],
        n: int,
        body: bytes,
        status: int | None,
        rate: float,
    ) -> tuple[list[float], float]:
        """``n`` calls sent open-loop at ``rate`` calls/s; latencies in ms, and calls per second.

        Each call's latency runs from the time it was scheduled, not from when a connection was
        free to send it: a stall in the server then shows as the latency of every call that was
        due during it (no coordinated omission). A call due while every connection is busy opens
        another one, as a client population would.
        """
        pool = await self._pool(url)
        idle = list(pool)
        parts = urlsplit(url)
        loop = asyncio.get_running_loop()
        fixed = None if callable(headers) else prepare(url, headers, body)
        latencies: list[float] = []
        self.first_chunk = first_chunk = []
        self.late = late = []
        calls: list[asyncio.Task[None]] = []

        unexpected: dict[int, int] = {}

        async def one(conn: _Connection, request: bytes, due: float) -> None:
            late.append((time.perf_counter() - due) * 1000)
            got, _ = await conn.call(request)
            if status not in (None, got):  # e.g. 429 past the in-flight cap: the server fell behind
                unexpected[got] = unexpected.get(got, 0) + 1
            latencies.append((time.perf_counter() - due) * 1000)
            first_chunk.append((conn.first_body - due) * 1000)
            if not conn.closed:
                idle.append(conn)

        started = time.perf_counter() + 0.005
        for index in range(n):
            due = started + index / rate
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            while idle and idle[-1].stale:  # closed by the server while idle, or about to be
                idle.pop()
            if idle:
                conn = idle.pop()
            else:
                _, conn = await loop.create_connection(
                    _Connection, parts.hostname or "127.0.0.1", parts.port or 80
                )
                pool.append(conn)
            request = fixed or prepare(url, headers() if callable(headers) else headers, body)
            calls.append(asyncio.create_task(one(conn, request, due)))
        await asyncio.gather(*calls)
        if unexpected:
            print(f"{url}: {sum(unexpected.values())} of {n} answered {unexpected}, not {status}")
        return latencies, n / (time.perf_counter() - started)

    def close(self) -> None:
        for pool in self._pools.values():
            for conn in pool:
                if conn.transport is not None:
                    conn.transport.close()
