"""The upstream client: keep-alive connection pools per origin, and the response as relayed.

Why not a general HTTP client: a proxy needs a narrow slice of one (send these exact headers
and bytes, hand back the status, the raw headers and the body as it arrives), and each call
through a general client paid ~100 µs of CPU on request objects, header multidicts, cookie
and redirect machinery and tracing hooks the gateway never uses. This slice costs a fraction
of that; see bench/gateway.py.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass

from helioscope.egress import AddrInfo, EgressPolicy
from helioscope.gateway.upstream._connection import Connection, StaleConnection, UpstreamError
from helioscope.gateway.upstream._headers import FRAMING, Header

# Sent again on a new connection when a reused one was closed before any answer. Not POST:
# the upstream may have taken the call up before it went away, and a second one is billed
# twice; the 502 lets the caller decide (the OpenAI and Anthropic SDKs retry it).
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_MAX_ORIGINS = 1024  # parsed origins remembered (Helicone-Target-URL is the caller's choice)
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a URL's requests go: the pool key and what the request line needs."""

    scheme: str
    host: str
    port: int
    host_header: str
    name: str = ""  # "scheme://authority", as a pool is named (see PoolKey)
    host_line: bytes = b""  # "host: authority", as the request head has it

    @property
    def tls(self) -> bool:
        return self.scheme == "https"


# Connections are pooled per origin and per trust: a connection opened for a vetted origin (an
# organization's own provider address) is never handed to a call naming that origin itself.
# The origin is named by its ``scheme://authority`` text (which determines it): a string's
# hash is kept, where an ``Origin``'s (a dataclass's) is a Python call each time.
PoolKey = tuple[str, bool]


def split_url(url: str) -> tuple[str, str]:
    """``(origin, target)``: ``http://h:1/v1/x?q`` -> ``("http://h:1", "/v1/x?q")``."""
    scheme_end = url.find("://")
    path_start = url.find("/", scheme_end + 3) if scheme_end > 0 else -1
    if path_start < 0:
        query = url.find("?", scheme_end + 3) if scheme_end > 0 else -1
        if query < 0:
            return url, "/"
        return url[:query], "/" + url[query:]
    return url[:path_start], url[path_start:]


def parse_origin(origin: str) -> Origin:
    """Parse ``scheme://host[:port]``; anything else is an :class:`UpstreamError`."""
    scheme, sep, authority = origin.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in ("http", "https") or not authority or "@" in authority:
        raise UpstreamError(f"not an http(s) origin: {origin!r}")
    default = 443 if scheme == "https" else 80
    if authority.startswith("["):  # an IPv6 literal
        end = authority.find("]")
        if end < 0:
            raise UpstreamError(f"not a valid host in {origin!r}")
        host, rest = authority[1:end], authority[end + 1 :]
        port_text = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port_text = authority.partition(":")
    try:
        port = int(port_text) if port_text else default
    except ValueError:
        raise UpstreamError(f"not a valid port in {origin!r}") from None
    if not host or not 0 < port < 65536:
        raise UpstreamError(f"not a valid host and port in {origin!r}")
    # (A fallback's URL is the caller's text: its Host line must not smuggle one more.)
    if "\r" in authority or "\n" in authority or "\0" in authority:
        raise UpstreamError(f"a line break or NUL in the host of {origin!r}")
    host_line = _latin1(f"host: {authority}", "the host")
    return Origin(scheme, host, port, authority, f"{scheme}://{authority}", host_line)


def request_head(
    method: str, target: str, host: bytes, headers: Sequence[Header], body_length: int
) -> bytes:
    """The request line and header block, framed by the client (Host, Content-Length).

    ``host`` is the ``Host`` line, checked when its origin was parsed. The client's headers
    (``ParsedHeader``) are written as they are; the others are text from JSON options and
    stored keys, where a line break would smuggle a header or a second request: they are
    checked, as is the request target (a fallback's URL is the caller's text too).
    """
    line = f"{method} {target} HTTP/1.1"
    if "\r" in line or "\n" in line or "\0" in line:
        raise UpstreamError("the request target holds a line break or NUL")
    lines = [_latin1(line, "the request target"), host]
    for header in headers:
        if isinstance(header[0], bytes):
            lines.append(b": ".join(header))
            continue
        name, value = header
        if name.lower() in FRAMING:
            continue
        text = f"{name}: {value}"
        if "\r" in text or "\n" in text or "\0" in text:
            raise UpstreamError("a header name or value holds a line break or NUL")
        lines.append(_latin1(text, "a header value"))
    if body_length or method in _BODY_METHODS:
        lines.append(b"content-length: %d" % body_length)
    lines.append(b"\r\n")  # (joined: the last line's CR LF, then the blank line's)
    return b"\r\n".join(lines)


def _latin1(text: str, what: str) -> bytes:
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        raise UpstreamError(f"{what} holds characters outside Latin-1") from None


class UpstreamResponse:
    """A response whose headers have arrived; the body is read with ``read`` or ``next_chunk``.

    ``raw_headers`` are the upstream's, in order, with names lower-cased.

    ``release`` must be called when done: it returns the connection to its pool when the
    exchange completed, and drops it otherwise.
    """

    __slots__ = ("_client", "_conn", "_origin", "_released", "index", "raw_headers", "status")

    def __init__(self, conn: Connection, origin: PoolKey, client: UpstreamClient) -> None:
        self._conn = conn
        self._origin = origin
        self._client = client
        self._released = False
        self.status = conn.status
        self.raw_headers = conn.headers
        # ``raw_headers`` by name, the first value of a repeated name (read by the relay).
        self.index = conn.index

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        value = self.index.get(name.lower().encode("latin-1"))
        return None if value is None else value.decode("latin-1")

    @property
    def content_type(self) -> str:
        """The media type, lower-cased and without parameters (``""`` when absent)."""
        value = self.index.get(b"content-type")
        return value.partition(b";")[0].strip().lower().decode("latin-1") if value else ""

    @property
    def content_length(self) -> int | None:
        """The body's length, when the response says it (and says it right)."""
        value = self.index.get(b"content-length")
        return int(value) if value is not None and value.strip().isdigit() else None

    async def read(self) -> bytes:
        """The whole (remaining) body."""
        whole = self._conn.rest()
        if whole is not None:
            return whole
        parts = []
        while (chunk := await self._conn.next_chunk()) is not None:
            parts.append(chunk)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    async def next_chunk(self) -> bytes | None:
        """The body as it arrives: all bytes received since the last call, or None at the end.

        (A method, not an async generator: a relay cancelled mid-stream leaves no generator
        to finalise.)
        """
        return await self._conn.next_chunk()

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        if self._conn.finish():
            self._client._park(self._conn, self._origin)


# How long an idle connection is kept for reuse: less than the 5 s after which uvicorn and
# Node servers (self-hosted models, proxies) close an idle keep-alive connection. Reused
# nearer that edge, a POST met the upstream's close with not a byte of answer: it is not
# sent twice (the upstream may have taken it up), so the caller got a 502.
IDLE_SECONDS = 4.0


class UpstreamClient:
    """Sends requests to upstream origins over pooled keep-alive HTTP/1.1 connections."""

    def __init__(
        self,
        *,
        timeout: float,
        connect_timeout: float = 30.0,
        keepalive_seconds: float = IDLE_SECONDS,
        max_idle_per_origin: int = 256,
        ssl_context: ssl.SSLContext | None = None,
        policy: EgressPolicy | None = None,
    ) -> None:
        self.timeout = timeout
        self.policy = policy
        self.max_idle_per_origin = max_idle_per_origin
        self.connect_timeout = connect_timeout
        self.keepalive_seconds = keepalive_seconds
        self._ssl = ssl_context
        self._origins: dict[str, Origin] = {}
        self._idle: dict[PoolKey, list[Connection]] = {}
        self._swept = time.monotonic()
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.create_default_context()
        return self._ssl

    async def request(
        self,
        method: str,
        url: str,
        headers: Sequence[Header],
        body: bytes | None,
        *,
        vetted: bool = False,
    ) -> UpstreamResponse:
        """Send a request and return once the response's headers are in.

        ``vetted``: the origin was configured, not named by the caller; otherwise a new
        connection goes only to an address the egress policy allows.

        Raises :class:`UpstreamError` or ``OSError`` when the upstream cannot be reached or
        breaks off, ``TimeoutError`` past the client's timeout, ``RefusedTarget`` (a 403) when
        the policy refuses the destination.
        """
        if self._closed:
            raise UpstreamError("the upstream client is closed")
        origin_text, target = split_url(url)
        origin = self._origins.get(origin_text)
        if origin is None:
            if len(self._origins) >= _MAX_ORIGINS:
                self._origins.clear()
            origin = self._origins[origin_text] = parse_origin(origin_text)
        payload = body or b""
        head = request_head(method, target, origin.host_line, headers, len(payload))
        loop = self._loop
        if loop is None or not loop.is_running():  # (see Grace.loop: a getpid() per call)
            loop = self._loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        if time.monotonic() - self._swept > self.keepalive_seconds:
            self._sweep()
        key = (origin.name, vetted)
        pool = self._idle.setdefault(key, [])
        while True:
            conn = self._take(pool)
            if conn is None:
                conn = await self._connect(loop, origin, deadline, vetted)
            try:
                await conn.exchange(head, payload, deadline, method == "HEAD")
            except StaleConnection:
                # Closed as idle just as the request went out, and not a byte of answer: the
                # other idle connections are as old, so drop them; send again if that is safe.
                self._drop(pool)
                if method not in _IDEMPOTENT:
                    raise
                continue  # only reused connections go stale, so this ends on a new one
            return UpstreamResponse(conn, key, self)

    def _take(self, pool: list[Connection]) -> Connection | None:
        expired = time.monotonic() - self.keepalive_seconds
        while pool:
            conn = pool.pop()  # the most recently used is the likeliest to be alive
            transport = conn.transport
            if conn.closed or transport is None or transport.is_closing():
                continue
            if conn.idle_since < expired:
                conn.abort()
                continue
            conn.reused = True
            return conn
        return None

    async def _connect(
        self, loop: asyncio.AbstractEventLoop, origin: Origin, deadline: float, vetted: bool
    ) -> Connection:
        context = self._ssl_context() if origin.tls else None
        try:
            async with asyncio.timeout_at(min(deadline, loop.time() + self.connect_timeout)):
                if vetted or self.policy is None:
                    _, conn = await loop.create_connection(
                        lambda: Connection(loop),
                        origin.host,
                        origin.port,
                        ssl=context,
                        server_hostname=origin.host if context is not None else None,
                    )
                    return conn
                addresses = await self.policy.resolve(origin.host, origin.port)
                return await self._connect_checked(loop, origin, addresses, context)
        except TimeoutError:
            raise TimeoutError(f"connecting to {origin.host_header} timed out") from None

    @staticmethod
    async def _connect_checked(
        loop: asyncio.AbstractEventLoop,
        origin: Origin,
        addresses: list[AddrInfo],
        context: ssl.SSLContext | None,
    ) -> Connection:
        """Connect to the first of the checked ``addresses`` that answers.

        No second lookup (the name could resolve elsewhere by now); TLS checks the origin's name.
        """
        error: OSError = OSError(f"{origin.host} has no address")
        for family, proto, address, port in addresses:
            try:
                _, conn = await loop.create_connection(
                    lambda: Connection(loop),
                    address,
                    port,
                    family=family,
                    proto=proto,
                    ssl=context,
                    server_hostname=origin.host if context is not None else None,
                )
            except OSError as exc:
                error = exc
                continue
            return conn
        raise error

    def _park(self, conn: Connection, origin: PoolKey) -> None:
        """Keep a connection whose exchange ended cleanly for the next request."""
        pool = self._idle.setdefault(origin, [])
        if self._closed or len(pool) >= self.max_idle_per_origin:
            conn.abort()  # shut down, or a burst is over: keep what a steady load uses
            return
        conn.idle_since = time.monotonic()
        pool.append(conn)

    def _sweep(self) -> None:
        """Close connections idle past the keep-alive time, and forget origins left empty."""
        self._swept = now = time.monotonic()
        expired = now - self.keepalive_seconds
        for origin, pool in list(self._idle.items()):
            keep = []
            for conn in pool:
                if conn.closed or conn.idle_since < expired:
                    conn.abort()
                else:
                    keep.append(conn)
            if keep:
                pool[:] = keep
            else:
                del self._idle[origin]

    @staticmethod
    def _drop(pool: list[Connection]) -> None:
        for conn in pool:
            conn.abort()
        pool.clear()

    async def close(self) -> None:
        """Close every idle connection; in-flight exchanges close as they end."""
        self._closed = True
        for pool in self._idle.values():
            self._drop(pool)
