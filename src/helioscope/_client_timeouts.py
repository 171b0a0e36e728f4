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
import urllib.parse
from collections.abc import Callable
from typing import Any

import httptools
from uvicorn._types import ASGI3Application
from uvicorn.config import Config
from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT, service_unavailable
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

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
        # uvicorn's (0.55), written out (a Python call less per request), and this protocol's.
        self.url = b""
        self.expect_100_continue = False
        self.headers = []
        self.scope = {  # type: ignore[typeddict-item]
            "type": "http",
            "asgi": {"version": self.asgi_version, "spec_version": "2.3"},
            "http_version": "1.1",
            "server": self.server,
            "client": self.client,
            "scheme": self.scheme,  # type: ignore[typeddict-item]
            "root_path": self.root_path,
            "headers": self.headers,
            "state": self.app_state.copy(),
        }
        self._phase, self._since = _HEADERS, self.loop.time()
        if self._timer is None:
            self._timer = self.loop.call_later(self._step, self._check)

    def on_headers_complete(self) -> None:
        self._cork.hold()  # before the app can answer (it may not wait to be scheduled)
        self._phase, self._since = _BODY, self.loop.time()
        # uvicorn's (0.55), but for the provider routes: their app is called directly (past
        # uvicorn's ProxyHeadersMiddleware, which rewrites the scope's client and scheme, and
        # HelioscopeApp's dispatch: the gateway reads neither), with a leaner cycle.
        parser = self.parser
        http_version = parser.get_http_version()
        scope = self.scope
        scope["method"] = parser.get_method().decode("ascii")
        if http_version != "1.1":
            scope["http_version"] = http_version
        if parser.should_upgrade() and self._should_upgrade():
            return
        parsed_url = httptools.parse_url(self.url)
        raw_path = parsed_url.path
        path = raw_path.decode("ascii")
        if "%" in path:
            path = urllib.parse.unquote(path)
        scope["path"] = path = self.root_path + path
        scope["raw_path"] = self.root_path.encode("ascii") + raw_path
        scope["query_string"] = parsed_url.query or b""
        direct = self._direct(path) if self._direct is not None else None
        app: ASGI3Application = self.app if direct is None else direct
        if self.limit_concurrency is not None and (
            len(self.connections) >= self.limit_concurrency
            or len(self.tasks) >= self.limit_concurrency
        ):
            app = service_unavailable
            self.logger.warning("Exceeded concurrency limit.")
        existing_cycle = self.cycle
        # (Its arguments by position, as uvicorn 0.55 declares them: a class called with
        # keywords builds a dict of them first, ~0.4 us here.)
        self.cycle = (RequestResponseCycle if direct is None else GatewayCycle)(
            scope,  # scope
            self.transport,  # transport
            self.flow,  # flow
            self.logger,  # logger
            self.access_logger,  # access_logger
            self.access_log,  # access_log
            self.server_state.default_headers,  # default_headers
            asyncio.Event(),  # message_event
            self.expect_100_continue,  # expect_100_continue
            http_version != "1.0" and parser.should_keep_alive(),  # keep_alive
            self.on_response_complete,  # on_response
        )
        if existing_cycle is None or existing_cycle.response_complete:
            self._start_asgi_task(self.cycle, app)
        else:  # a pipelined request waits for the response before it
            self.flow.pause_reading()
            self.pipeline.appendleft((self.cycle, app))

    # uvicorn's data_received, on_body and on_message_complete (0.55) are written out below, with
    # this protocol's part: a Python call less each, per request.

    def data_received(self, data: bytes) -> None:
        # (Not uvicorn's keep-alive timer to cancel first: this protocol never arms it.)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            msg = "Invalid HTTP request received."
            self.logger.warning(msg)
            self.send_400_response(msg)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()

    def on_body(self, body: bytes) -> None:
        if not (self.parser.should_upgrade() and self._should_upgrade()):
            cycle = self.cycle
            if not cycle.response_complete:
                cycle.body += body
                if len(cycle.body) > HIGH_WATER_LIMIT:
                    self.flow.pause_reading()
                cycle.message_event.set()
        self._since = self.loop.time()  # the body's timeout is a pause, not a total

    def on_message_complete(self) -> None:
        if not (self.parser.should_upgrade() and self._should_upgrade()):
            cycle = self.cycle
            if not cycle.response_complete:
                cycle.more_body = False
                cycle.message_event.set()
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
