"""A leaner request-response cycle for the gateway's provider routes (uvicorn's, trimmed).

uvicorn's (0.55) cycle serves any ASGI app, and a proxied call pays for generality it does not
use: a coroutine per ``send``, and per ``receive`` a coroutine and an ``asyncio.Event`` wait
even when the body is already in. This cycle keeps every behaviour the protocol relies on
(keep-alive, flow control, ``Expect: 100-continue``, ``http.disconnect``, the checks on what
the app sends: anything unusual goes to uvicorn's own code) in fewer steps; and when the app
says that the whole body follows at once (``BODY_FOLLOWS``), the head waits for it and both go
out in one write, with no end-of-turn flush to schedule (``_head_cork``).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from uvicorn.protocols.http.httptools_impl import HEADER_RE, STATUS_LINE, RequestResponseCycle

from helioscope._asgi import BODY_FOLLOWS, PARSED_HEADERS


class GatewayCycle(RequestResponseCycle):
    """uvicorn's cycle for the provider routes: the same bytes out, in fewer steps."""

    _head: bytes | None = None

    async def receive(self) -> Any:
        """The request body, at once when all of it is in (else uvicorn's wait)."""
        if self.more_body or not self.body or self.disconnected or self.response_complete:
            return await super().receive()  # waits for the body, or says the client is gone
        if self.waiting_for_100_continue and not self.transport.is_closing():
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.waiting_for_100_continue = False
        self.flow.resume_reading()
        self.message_event.clear()
        body, self.body = bytes(self.body), bytearray()
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(self, message: Any) -> None:
        """Send an ASGI message to the client."""
        if self.flow.write_paused or self.disconnected or self.access_log:
            await self._uvicorn(message)  # waits to drain, drops it, or logs the response
            return
        kind = message["type"]
        if not self.response_started:
            if kind != "http.response.start":
                await self._uvicorn(message)  # (uvicorn says what is wrong)
                return
            self.response_started = True
            self.waiting_for_100_continue = False
            made = self._make_head(
                message["status"], message.get("headers", ()), message.get(PARSED_HEADERS, 0)
            )
            if message.get(BODY_FOLLOWS):
                self._head = made
            else:
                self.transport.write(made)
            return
        body = message.get("body", b"")
        if (
            self.response_complete
            or kind != "http.response.body"
            or message.get("more_body", False)
            or self.chunked_encoding
            or self.scope["method"] == "HEAD"
            or len(body) != self.expected_content_length
        ):
            await self._uvicorn(message)  # streams, and every misuse uvicorn reports
            return
        # The last (or only) message of a body of known length.
        self.expected_content_length = 0
        head, self._head = self._head, None
        if head is not None:
            self.transport.writelines((head, body))
        elif body:
            self.transport.write(body)
        self.response_complete = True
        self.message_event.set()
        if not self.keep_alive:
            self.transport.close()
        self.on_response()

    def _uvicorn(self, message: Any) -> Awaitable[None]:
        head, self._head = self._head, None
        if head is not None and not self.disconnected:  # kept for a body that came otherwise
            self.transport.write(head)
        return super().send(message)

    def _make_head(self, status: int, headers: Any, parsed: int) -> bytes:
        """The head uvicorn would write, after the same checks, in fewer steps.

        uvicorn searches each name and each value with a regular expression (~1.2 us of the
        ~3 us a head took). Here a name is checked once per process (names repeat: the
        provider's, ours) and kept lower-cased, and the values in one pass over the finished
        head (``_check_values``), but for the ``parsed`` leading ``headers``: llhttp parsed
        them (an upstream's answer), and it refuses what the check looks for.
        """
        content = [STATUS_LINE[status]]
        closes = False
        names = _NAMES
        for name, value in (*self.default_headers, *headers) if self.default_headers else headers:
            lowered = names.get(name) or _check_name(name)
            if lowered in _FRAMING:
                closes = self._framing(lowered, value) or closes
            content += (lowered, b": ", value, b"\r\n")
        parts = len(content) - 1  # four a header
        if not self.keep_alive and not closes:
            content.append(b"connection: close\r\n")
        if (
            self.chunked_encoding is None
            and self.scope["method"] != "HEAD"
            and status not in (204, 304)
        ):
            self.chunked_encoding = True
            content.append(b"transfer-encoding: chunked\r\n")
        content.append(b"\r\n")
        head = b"".join(content)
        if not parsed or self.default_headers:
            _check_values(head, parts // 4 + len(content) - parts)  # a CR LF a line
        elif 4 * parsed < parts:  # the headers after the parsed ones (the lines around: ours)
            _check_values(b"".join(content[1 + 4 * parsed : 1 + parts]), parts // 4 - parsed)
        return head

    def _framing(self, name: bytes, value: bytes) -> bool:
        """Note what a framing header says (as uvicorn does); True for ``connection: close``."""
        if name == b"content-length":
            if self.chunked_encoding is None:
                self.expected_content_length = int(value.decode())
                self.chunked_encoding = False
        elif name == b"transfer-encoding":
            if value.lower() == b"chunked":
                self.expected_content_length = 0
                self.chunked_encoding = True
        elif b"close" in [token.lower().strip() for token in value.split(b",")]:
            self.keep_alive = False
            return True
        return False


# Header names seen, each as sent (the key) and lower-cased (the value). Bounded: cleared when
# full, so a flood of distinct names (an upstream's) cannot grow it.
_NAMES: dict[bytes, bytes] = {}
_MAX_NAMES = 1024
# The header names whose value decides the response's framing.
_FRAMING = frozenset({b"content-length", b"transfer-encoding", b"connection"})
# Control characters: none may be in a value but the tab (CR LF end each line of a head).
_CONTROL = bytes([*range(0x09), *range(0x0A, 0x20), 0x7F])


def _check_name(name: bytes) -> bytes:
    """``name`` lower-cased, once uvicorn's check has passed it; remembered."""
    if HEADER_RE.search(name):
        raise RuntimeError("Invalid HTTP header name.")
    if len(_NAMES) >= _MAX_NAMES:
        _NAMES.clear()
    lowered = _NAMES[name] = name.lower()
    return lowered


def _check_values(head: bytes, lines: int) -> None:
    """The check uvicorn makes of every value, on the whole head at once, in C.

    No control character but the tab a value may hold, and no CR or LF but the ``lines``
    CR LFs that end the head's lines (one in a value would end its header early: the rest
    would be read as another header, or a body). Deleting every control character, CR and
    LF included, must then delete exactly those CR LFs.
    """
    if len(head) - len(head.translate(None, _CONTROL)) != 2 * lines:
        raise RuntimeError("Invalid HTTP header value.")
