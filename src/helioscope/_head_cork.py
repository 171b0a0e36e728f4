"""A response's head and its first body bytes in one write to the client, not two.

uvicorn (0.55) writes a response's status line and headers with one ``transport.write`` when
the app sends ``http.response.start``, and each body message with another: a JSON answer costs
two ``send()`` system calls and reaches the client as two TCP segments (with ``TCP_NODELAY``),
which the client's event loop also wakes for twice. The gateway sends the head and a whole
body back to back, in the same event-loop turn; so the connection's transport holds the first
write of each response (the head) until the next write, and sends both with one
``writelines`` (one ``writev()``). When nothing follows in the same turn (a stream waiting for
its first chunk), the head goes out at the end of the turn: a response never waits longer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any


class HeadCork(asyncio.Transport):
    """A client connection's transport that joins a response's head to what follows it.

    ``hold()`` is called as each request's headers are parsed: the next write (the response's
    head) is kept back until the following write, a close, or the end of the loop's turn.
    Everything else goes to the real transport.
    """

    __slots__ = ("_held", "_hold", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._transport = transport
        self._loop = loop
        self._hold = False
        self._held: bytes | None = None

    def hold(self) -> None:
        """Keep back the next write (a new response's head)."""
        self._hold = True

    def _flush(self) -> None:
        held, self._held = self._held, None
        if held is not None and not self._transport.is_closing():
            self._transport.write(held)

    def write(self, data: bytes | bytearray | memoryview[int]) -> None:
        """Write ``data`` after anything held, in one system call with it."""
        held = self._held
        if held is not None:
            self._held = None
            self._transport.writelines((held, data))
        elif self._hold:
            self._hold = False
            self._held = bytes(data)
            self._loop.call_soon(self._flush)
        else:
            self._transport.write(data)

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview[int]]) -> None:
        """Write every buffer, after anything held (a response's head and body, together)."""
        if self._held is not None:
            self._flush()
        self._hold = False
        self._transport.writelines(list_of_data)

    def close(self) -> None:
        """Send what is held, then close."""
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        """Drop the connection (and anything held)."""
        self._held = None
        self._transport.abort()

    def is_closing(self) -> bool:
        """Whether the connection is closing or closed."""
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """The real transport's extra information (socket, peer name, TLS)."""
        return self._transport.get_extra_info(name, default)

    def pause_reading(self) -> None:
        """Stop reading the client (flow control)."""
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        """Read the client again."""
        self._transport.resume_reading()

    def is_reading(self) -> bool:
        """Whether the client is being read."""
        return self._transport.is_reading()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        """Hand the connection to another protocol (an upgrade)."""
        self._flush()
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        """The connection's protocol."""
        return self._transport.get_protocol()

    def get_write_buffer_size(self) -> int:
        """Bytes waiting to be sent, held ones included."""
        held = len(self._held) if self._held is not None else 0
        return self._transport.get_write_buffer_size() + held

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        """Flow-control limits of the real transport."""
        self._transport.set_write_buffer_limits(high, low)

    def can_write_eof(self) -> bool:
        """Whether the write side can be closed alone."""
        return self._transport.can_write_eof()

    def write_eof(self) -> None:
        """Close the write side, after anything held."""
        self._flush()
        self._transport.write_eof()
