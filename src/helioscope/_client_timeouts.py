"""Timeouts for clients that connect and then dawdle (slowloris): uvicorn's HTTP protocol, timed.

uvicorn (0.55) times out a keep-alive connection between requests (``timeout_keep_alive``),
but not a connection that never finishes its request: one that sends nothing, or a header
byte every few seconds, or half a body, holds its descriptor for good. 2,000 such connections
were never closed, and at a 1,024-descriptor limit they locked every client out, with no key
needed (issue 16). This protocol gives a request's headers a deadline from its first byte (or
from the connection, before any), and its body a longest pause between reads, and closes the
connection past either. (An ASGI app cannot do this: it is called once the headers are in.)

One timer per connection, rarely re-armed: it fires at the earliest time a deadline can pass,
and the check re-arms it for what is left, so a request costs attribute writes, not timers.
The same timer enforces uvicorn's keep-alive timeout between requests: uvicorn would arm a
timer of its own after every response and cancel it when the next request came (a timer made
and cancelled per call, ~1.5 us). It is armed at most the shortest limit ahead (``_step``), so a
phase with a shorter limit than the one it was armed in is still checked in time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httptools
from uvicorn._types import ASGI3Application
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from helioscope._head_cork import HeadCork
from helioscope._server_cycle import GatewayCycle

# The app has the request and has not answered it (no deadline on the client); the client is
# sending its headers, or its body; it is between requests (uvicorn's keep-alive timeout).
_IDLE, _HEADERS, _BODY, _KEEP_ALIVE = 0, 1, 2, 3


class TimedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header deadline and a body idle timeout."""

    header_timeout: float = 15.0
    body_timeout: float = 60.0

    def __init__(self, config: Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        # The provider routes' app, called past uvicorn's middleware (``HelioscopeApp``).
        self._direct: Callable[[str], ASGI3Application | None] | None = getattr(
            config.app, "direct_app", None
        )
        self._path = ""  # the last request's path, and the app it goes to directly, if any
        self._path_app: ASGI3Application | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        # Each response's head goes out with its body, in one write (see ``_head_cork``).
        self._cork = HeadCork(transport, self.loop)
        super().connection_made(self._cork)
        self._phase = _HEADERS
        self._since = self.loop.time()
        self._step = max(
            0.001, min(self.header_timeout, self.body_timeout, self.timeout_keep_alive)
        )
        self._timer: asyncio.TimerHandle | None = self.loop.call_later(self._step, self._check)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._phase, self._since = _HEADERS, self.loop.time()
        if self._timer is None:
            self._timer = self.loop.call_later(self._step, self._check)

    def on_headers_complete(self) -> None:
        self._cork.hold()  # before the app can answer (it may not wait to be scheduled)
        self._phase, self._since = _BODY, self.loop.time()
        parser = self.parser
        url = httptools.parse_url(self.url)
        path = self.root_path + url.path.decode("ascii")
        if path != self._path:  # (a client calls one path again and again: asked once for it)
            self._path = path
            self._path_app = (
                self._direct(path) if self._direct is not None and "%" not in path else None
            )
        direct = self._path_app
        if direct is None or parser.should_upgrade() or self.limit_concurrency is not None:
            super().on_headers_complete()  # the API, the UI, an upgrade, a capped server
            return
        # A provider route: its app is called directly, past uvicorn's ProxyHeadersMiddleware
        # (which rewrites the scope's client and scheme) and HelioscopeApp's dispatch (the
        # gateway reads neither), with a leaner request-response cycle (``GatewayCycle``).
        scope = self.scope
        version = parser.get_http_version()
        scope["method"] = parser.get_method().decode("ascii")
        if version != "1.1":
            scope["http_version"] = version
        scope["path"] = path
        scope["raw_path"] = path.encode("ascii")
        scope["query_string"] = url.query or b""
        earlier = self.cycle
        # Arguments by position (a class called with keywords builds a dict of them first,
        # ~0.4 us here), in the order uvicorn's RequestResponseCycle declares them.
        self.cycle = GatewayCycle(
            scope,
            self.transport,
            self.flow,
            self.logger,
            self.access_logger,
            self.access_log,
            self.server_state.default_headers,
            asyncio.Event(),
            self.expect_100_continue,
            version != "1.0" and parser.should_keep_alive(),
            self.on_response_complete,
        )
        if earlier is None or earlier.response_complete:
            self._start_asgi_task(self.cycle, direct)
        else:  # a pipelined request waits for the response before it
            self.flow.pause_reading()
            self.pipeline.appendleft((self.cycle, direct))

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        self._since = self.loop.time()  # the body's timeout is a pause, not a total

    def on_message_complete(self) -> None:
        super().on_message_complete()
        cycle = self.cycle
        if cycle is not None and cycle.response_complete:  # answered before its body was read
            self._keep_alive()
        else:
            self._phase = _IDLE

    def on_response_complete(self) -> None:
        # uvicorn's (0.55), but for its keep-alive timer: this connection's timer checks that.
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self.flow.resume_reading()
        if self.pipeline:  # a pipelined request waits for this response: start it
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
        elif self._phase == _IDLE:  # (else the next request, or this one's body, is arriving)
            self._keep_alive()

    def _keep_alive(self) -> None:
        self._phase, self._since = _KEEP_ALIVE, self.loop.time()
        if self._timer is None:
            self._timer = self.loop.call_later(self._step, self._check)

    def _check(self) -> None:
        self._timer = None
        if self._phase == _IDLE or self.transport.is_closing():
            return
        limit = (
            self.header_timeout
            if self._phase == _HEADERS
            else self.body_timeout
            if self._phase == _BODY
            else self.timeout_keep_alive
        )
        left = self._since + limit - self.loop.time()
        if left > 0:
            self._timer = self.loop.call_later(min(left, self._step), self._check)
        elif self._phase != _KEEP_ALIVE and self._waiting_on_us():
            self._since = self.loop.time()  # the client's time starts when we read again
            self._timer = self.loop.call_later(self._step, self._check)
        else:
            self.transport.close()  # the app, if called, gets http.disconnect

    def _waiting_on_us(self) -> bool:
        """True when the client is not the slow one.

        We stopped reading (the app has not taken the body yet), or a pipelined request waits
        for the response before it.
        """
        if self._phase == _BODY:
            return bool(self.flow.read_paused)
        cycle = self.cycle
        return cycle is not None and not cycle.response_complete


def timed_protocol(header_timeout: float, body_timeout: float) -> type[TimedHttpProtocol]:
    """The protocol class for uvicorn's ``http`` option, with these timeouts."""
    attributes: dict[str, Any] = {
        "header_timeout": header_timeout,
        "body_timeout": body_timeout,
    }
    return type("TimedHttpProtocol", (TimedHttpProtocol,), attributes)
