"""A raw socket upstream for the gateway's tests: it sees (and answers) exactly the bytes sent.

The fake provider speaks HTTP through a framework, which normalises what it reads and writes;
tests of the wire itself (the request head the gateway writes, the response head it relays,
an answer broken off) need the bytes as they are.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

Serve = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def read_request(reader: asyncio.StreamReader) -> bytes | None:
    """The next request's head (its body read past); None once the gateway closed."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    length = next(
        int(line.split(b":")[1])
        for line in head.lower().split(b"\r\n")
        if line.startswith(b"content-length:")
    )
    await reader.readexactly(length)
    return head


@asynccontextmanager
async def raw_upstream(serve: Serve) -> AsyncIterator[str]:
    """A loopback server that runs ``serve`` on each connection; yields its base URL."""
    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()
