"""One keep-alive HTTP/1.1 connection to an upstream, parsing responses as the bytes arrive.

The protocol object is the whole state of an exchange: httptools calls back into it as the
response is parsed, and the coroutine waiting on the exchange is woken with a bare future whose
result carries nothing (results and errors live on the connection), so no exception is ever
left unretrieved on a future nobody awaits.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import cast

import httptools

# Body bytes held for a slow reader before the socket stops being read (back-pressure).
_HIGH_WATER = 1 << 20


class UpstreamError(Exception):
    """The upstream could not be reached, or broke the HTTP/1.1 exchange off."""


class StaleConnection(UpstreamError):
    """A reused keep-alive connection was closed before any byte of the response came back.

    The upstream closed it as idle, most likely before reading the request; an idempotent
    request is sent again on a new connection (see ``UpstreamClient.request``).
    """


class Connection(asyncio.Protocol):
    """An upstream connection; one exchange at a time, reused while both sides keep it alive."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._aborted = False
        self.reused = False
        self.idle_since = 0.0
        self._parser = httptools.HttpResponseParser(self)
        # One timer per connection, rarely re-armed (as in ``_client_timeouts``): it fires at
        # the earliest time the exchange's deadline can pass, and the check re-arms it for what
        # is left. A timer made and cancelled per exchange cost ~1.8 us of every call.
        self._timer: asyncio.TimerHandle | None = None
        self._deadline = 0.0
        self._reset()

    def _reset(self) -> None:
        self.active = False
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        # The headers by name, the first value of a repeated name (made with ``headers_done``).
        self.index: dict[bytes, bytes] = {}
        self.headers_done = False
        self.complete = False
        self.keep_alive = False
        self.error: BaseException | None = None
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._paused = False
        self._received = False
        self._dirty = False  # bytes came after the answer: the connection is not reused
        self._informational = False
        self._eof_body = False
        self._head_only = False
        self._waiter: asyncio.Future[None] | None = None

    # -- the exchange, driven by the client ----------------------------------------------------

    async def exchange(self, head: bytes, body: bytes, deadline: float, head_only: bool) -> None:
        """Send one request and wait for the response's status line and headers."""
        self._reset()
        self.active = True
        self._head_only = head_only
        transport = self.transport
        assert transport is not None
        try:
            if body:
                transport.writelines((head, body))
            else:
                transport.write(head)
        except (RuntimeError, OSError) as exc:  # uvloop raises RuntimeError on a dead handle
            self.abort()
            raise UpstreamError(f"could not send the request: {exc}") from exc
        self._deadline = deadline
        timer = self._timer
        if timer is None or timer.when() > deadline:
            if timer is not None:
                timer.cancel()
            self._timer = self.loop.call_at(deadline, self._check_deadline)
        try:
            while not self.headers_done and self.error is None:
                # (The wait written out here and in next_chunk, not a method: a coroutine
                # layer less to make, and to pass through when the answer wakes the call.)
                waiter = self._waiter = self.loop.create_future()
                try:
                    await waiter
                finally:
                    self._waiter = None
        except BaseException:
            self.abort()
            raise
        if self.error is not None:
            raise self.error

    async def next_chunk(self) -> bytes | None:
        """The body bytes received since the last call (at least one), or None at the end."""
        while True:
            chunks = self._chunks
            if chunks:
                data = chunks.popleft() if len(chunks) == 1 else b"".join(chunks)
                chunks.clear()
                self._buffered = 0
                if self._paused and self.transport is not None:
                    self._paused = False
                    self.transport.resume_reading()
                return data
            if self.error is not None:
                raise self.error
            if self.complete:
                return None
            waiter = self._waiter = self.loop.create_future()
            try:
                await waiter
            finally:
                self._waiter = None

    def rest(self) -> bytes | None:
        """The rest of the body when all of it is in (most answers, by their headers' turn).

        None when more is to come: ``next_chunk`` waits for it. (No coroutine, no wait: the
        relay of a whole answer takes it at once.)
        """
        if not self.complete or self.error is not None:
            return None
        chunks = self._chunks
        data = chunks.popleft() if len(chunks) == 1 else b"".join(chunks)
        chunks.clear()
        self._buffered = 0
        return data

    def finish(self) -> bool:
        """End the exchange; True when the connection can carry another one."""
        reusable = (
            self.complete
            and self.keep_alive
            and not self._dirty
            and not self.closed
            and self.error is None
        )
        self.active = False
        if not reusable:
            self.abort()
        elif self._paused and self.transport is not None:
            # Reading paused on a full buffer as the answer ended: the next exchange reads.
            self._paused = False
            self.transport.resume_reading()
        return reusable

    def abort(self) -> None:
        """Drop the connection at once (mid-exchange, or no longer wanted)."""
        self.closed = self._aborted = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.transport is not None:
            self.transport.abort()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _fail(self, error: BaseException) -> None:
        if self.error is None and not self.complete:
            self.error = error
        self._wake()

    def _check_deadline(self) -> None:
        self._timer = None
        if not self.active or self.complete or self.closed:
            return  # between exchanges (the next one arms it again), or its answer is in
        # (Timers may fire up to a millisecond early: uvloop counts them in whole ms.)
        if self._deadline - self.loop.time() > 0.001:
            self._timer = self.loop.call_at(self._deadline, self._check_deadline)
            return
        self._fail(TimeoutError("the upstream did not answer in time"))
        self.abort()

    # -- asyncio.Protocol ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if not self.active or self.complete:
            # Bytes nobody asked for (an idle-timeout 408, say): the answer already in hand
            # stands, and the connection is not trusted again.
            self._dirty = True
            self.abort()
            return
        self._received = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(UpstreamError("the upstream switched protocols, which is not relayed"))
            self.abort()
            return
        except httptools.HttpParserError as exc:
            self._fail(UpstreamError(f"the upstream sent an invalid HTTP response: {exc}"))
            self.abort()
            return
        self._wake()

    def eof_received(self) -> bool | None:
        return None  # close our side too; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self.active or self.complete:
            return
        ended_by_peer = exc is None and not self._aborted and self.error is None
        if self.headers_done and self._eof_body and ended_by_peer:
            self.complete = True  # a body delimited by the end of the connection
        elif self.reused and not self._received:
            self._fail(StaleConnection("the upstream closed an idle keep-alive connection"))
        else:
            reason = f": {exc}" if exc is not None else ""
            self._fail(UpstreamError(f"the upstream closed the connection mid-response{reason}"))
        self._wake()

    # -- httptools callbacks -------------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self.complete:  # a second message in the bytes that ended the first
            self._dirty = True

    def on_header(self, name: bytes, value: bytes | None) -> None:
        if self.headers_done or self._dirty:
            return  # trailers (after a chunked body) or a stray message: not relayed
        # Lower-cased once here (names are case-insensitive; HTTP/2 sends them so anyway).
        self.headers.append((name.lower(), value or b""))

    def on_headers_complete(self) -> None:
        if self._dirty:
            return
        status = self._parser.get_status_code()
        if 100 <= status < 200:  # informational (100 Continue, 103 Early Hints): the answer follows
            self._informational = True
            self.headers = []
            return
        self.status = status
        self.headers_done = True
        # One C-level pass: the relay looks several headers up by name (the first value of a
        # repeated name wins), and framing is mostly a length, found without a Python loop.
        index = self.index = dict(reversed(self.headers))
        if self._head_only:
            # No body follows a HEAD answer whatever its headers say; rather than teach the
            # parser that, end here and do not reuse the connection.
            self.complete = True
            self.keep_alive = False
            return
        # llhttp's framing: a length, or a transfer coding that ends in chunked.
        framed = b"content-length" in index or (
            b"transfer-encoding" in index
            and any(
                name == b"transfer-encoding" and value.lower().rstrip().endswith(b"chunked")
                for name, value in self.headers
            )
        )
        self._eof_body = not framed and status not in (204, 304)

    def on_body(self, body: bytes) -> None:
        if self._dirty:
            return
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > _HIGH_WATER and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()

    def on_message_complete(self) -> None:
        if self._dirty:
            return
        if self._informational:
            self._informational = False
            return
        self.complete = True
        self.keep_alive = self._parser.should_keep_alive()
