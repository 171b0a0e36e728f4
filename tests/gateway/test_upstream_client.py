"""The gateway's HTTP/1.1 upstream client against a scripted server on a real loopback socket.

Each case runs on both event loops the gateway meets: asyncio's (tests, embedding) and uvloop
(``helioscope serve``). The server answers with exact bytes, so framing the SDK-level tests
never produce (chunked pieces, close-delimited bodies, 1xx answers, idle closes) is covered.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import trustme
import uvloop

from helioscope.gateway.upstream import Header, ParsedHeader, UpstreamClient, UpstreamError

# The gateway in front of the store: its assertions hold on any engine (tests/conftest.py).
pytestmark = pytest.mark.one_engine

# What the server does for one request: bytes to write, a pause (seconds), or CLOSE.
CLOSE = object()
Script = list[Any]


@dataclass
class Received:
    head: bytes
    body: bytes

    @property
    def lines(self) -> list[bytes]:
        return self.head.split(b"\r\n")


@dataclass
class ScriptedUpstream:
    """Answers the n-th request with ``answer(n)``; records requests and connections."""

    answer: Callable[[int], Script]
    requests: list[Received] = field(default_factory=list)
    connections: int = 0
    ended: int = 0  # connections closed, by either side
    url: str = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    return
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await reader.readexactly(length)
                self.requests.append(Received(head, body))
                for step in self.answer(len(self.requests) - 1):
                    if step is CLOSE:
                        writer.close()
                        return
                    if isinstance(step, float):
                        await asyncio.sleep(step)
                    else:
                        writer.write(step)
                        await writer.drain()
        finally:
            self.ended += 1
            writer.close()


Scenario = Callable[[UpstreamClient, ScriptedUpstream], Awaitable[None]]


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request: pytest.FixtureRequest) -> Callable[..., None]:
    """Run a scenario against a scripted upstream, on one event loop."""

    def runner(
        answer: Callable[[int], Script],
        scenario: Scenario,
        *,
        timeout: float = 5.0,
        server_ssl: ssl.SSLContext | None = None,
        client_ssl: ssl.SSLContext | None = None,
    ) -> None:
        async def main() -> None:
            upstream = ScriptedUpstream(answer)
            server = await asyncio.start_server(upstream.handle, "127.0.0.1", 0, ssl=server_ssl)
            port = server.sockets[0].getsockname()[1]
            upstream.url = f"{'https' if server_ssl else 'http'}://localhost:{port}"
            client = UpstreamClient(timeout=timeout, ssl_context=client_ssl)
            try:
                await scenario(client, upstream)
            finally:
                await client.close()
                server.close()

        if request.param == "uvloop":
            uvloop.run(main())
        else:
            asyncio.run(main())

    return runner


def ok(body: bytes, *headers: bytes) -> bytes:
    extra = b"".join(h + b"\r\n" for h in headers)
    return b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n%s\r\n%s" % (len(body), extra, body)


def always(*steps: Any) -> Callable[[int], Script]:
    return lambda _: list(steps)


def test_a_request_is_framed_by_the_client_and_relayed_byte_for_byte(run: Any) -> None:
    async def scenario(client: UpstreamClient, upstream: ScriptedUpstream) -> None:
        headers = [
            ("content-type", "application/json"),
            ("Host", "evil.example"),  # framing headers from the caller are not sent
            ("content-length", "999"),
            ("x-custom", "a b"),
        ]
        url = upstream.url + "/v1/chat/completions?api-version=2024"
        response = await client.request("POST", url, headers, b'{"a":1}')
        assert response.status == 200
        assert await response.read() == b"hi"
        response.release()
        sent = upstream.requests[0]
        port = upstream.url.rsplit(":", 1)[1]
        assert sent.lines[0] == b"POST /v1/chat/completions?api-version=2024 HTTP/1.1"
        assert sent.lines[1:6] == [
            f"host: localhost:{port}".encode(),
            b"content-type: application/json",
            b"x-custom: a b",
            b"content-length: 7",
            b"",
        ]
        assert sent.body == b'{"a":1}'

    run(always(ok(b"hi")), scenario)


def test_keep_alive_connections_are_reused(run: Any) -> None:
    async def scenario(client: UpstreamClient, upstream: ScriptedUpstream) -> None:
        for n in range(5):
            response = await client.request("GET", upstream.url + "/", [], None)
            assert (response.status, await response.read()) == (200, b"x%d" % n)
            assert response.header("X-Seq") == str(n)
            response.release()
        assert upstream.connections == 1
        assert b"content-length" not in upstream.requests[0].head  # a GET without a body

    run(lambda n: [ok(b"x%d" % n, b"x-seq: %d" % n)], scenario)


def test_a_connection_idle_past_the_keep_alive_time_is_not_reused(run: Any) -> None:
    # Servers close idle connections after a few seconds (uvicorn and Node after 5): one idle
    # longer than the client keeps it is closed by the client, and the call goes on a new one.
    assert UpstreamClient(timeout=1).keepalive_seconds < 5

    async def scenario(client: UpstreamClient, upstream: ScriptedUpstream) -> None:
        client.keepalive_seconds = 0.1
        for pause in (0.0, 0.02, 0.2):
            await asyncio.sleep(pause)
            response = await client.request("POST", upstream.url + "/", [], b"x")
            assert await response.read() == b"x"
            response.release()
        assert upstream.connections == 2  # the first reused once, then a new one

    run(always(ok(b"x")), scenario)


def test_idle_connections_past_the_cap_are_closed(run: Any) -> None:
    async def scenario(client: UpstreamClient, upstream: ScriptedUpstream) -> None:
        client.max_idle_per_origin = 2
        burst = [client.request("GET", upstream.url + "/", [], None) for _ in range(5)]
        responses = await asyncio.gather(*burst)
        for response in responses:
            await response.read()
            response.release()
        assert upstream.connections == 5
        again = await asyncio.gather(
            *[client.request("GET", upstream.url + "/", [], None) for _ in range(3)]
        )
        for response in again:
            response.release()
        assert upstream.connections == 6  # two kept from the burst, one new

    run(always(ok(b"x")), scenario)


def test_chunked_bodies_arrive_piece_by_piece(run: Any) -> None:
    def answer(_: int) -> Script:
        return [
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
            b"transfer-encoding: chunked\r\n\r\n",
            b"7\r\ndata: 1\r\n",
            0.2,
            b"7\r\ndata: 2\r\n0\r\n\r\n",
        ]

    async def scenario(client: UpstreamClient, upstream: ScriptedUpstream) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        response = await client.request("POST", upstream.url + "/s", [], b"{}")
        assert response.content_type == "text/event-stream"
        assert response.content_length is None
        assert await response.next_chunk() == b"data: 1"
        assert loop.time() - started < 0.15  # before the upstream's pause: not buffered
        assert await response.next_chunk() == b"data: 2"
        # After the pause: uvloop's clock counts whole milliseconds and its timers may fire
        # within one of their deadline, so 0.2 s can read as 0.199 (CI saw it).
        assert loop.time() - started >= 0.19
        assert await response.next_chunk() is None
        response.release()
        again = await client.request("POST", upstream.url + "/s", [], b"{}")
        assert await again.read() == b"data: 1data: 2"
        again.release()
        assert upstream.connections == 1

    run(answer, scenario)


def test_a_body_delimited_by_close_is_complete_and_the_connection_is_not_reused(run: Any) -> None:
    answer = always(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n", b"all of ", b"it", CLOSE)

    async def scenario(client: UpstreamClient, upstream: ScriptedUpstream) -> None:
        for _ in range(2):
            response = await client.request("GET", upstream.url + "/", [], None)
            assert await response.read() == b"all of it"
            response.release()
        assert upstream.connections == 2

    run(answer, scenario)


def test_an_idle_connection_closed_by_the_upstream_is_skipped(run: Any) -> None:
    # The upstream answers and closes; the close is seen while the connection sits in the pool.
    async def scenario(client: UpstreamClient, upstream: ScriptedUpstream) -> None:
        for body in (b"1", b"2"):
            response = await client.request("POST", upstream.url + "/a", [], body)
            assert await response.read() == b"one"
            response.release()
            await asyncio.sleep(0.05)
        assert [r.body for r in upstream.requests] == [b"1", b"2"]
        assert upstream.connections == 2

    run(always(ok(b"one"), CLOSE), scenario)


@pytest.mark.parametrize(("method", "resent"), [("GET", True), ("POST", False)])
def test_a_request_on_a_connection_the_upstream_closed_meanwhile(
    run: Any, method: str, resent: bool
) -> None:
    # The upstream drops the kept-alive connection as the second request arrives on it, with
    # not a byte of answer. A GET goes out again on a new connection; a POST is not sent twice
    # (the upstream may have taken it up): the caller gets the error (a 502 from the gateway).
    async def scenario(client: UpstreamClient, upstream: ScriptedUpstream) -> None:
        first = await client.request(method, upstream.url + "/a", [], b"1")
        assert await first.read() == b"one"
        first.release()
        if resent:
            second = await client.request(method, upstream.url + "/a", [], b"2")
            assert await second.read() == b"one"
            second.release()
            assert [r.body for r in upstream.requests] == [b"1", b"2", b"2"]
        else:
            with pytest.raises(UpstreamError, match="idle keep-alive"):
                await client.request(method, upstream.url + "/a", [], b"2")
            assert [r.body for r in upstream.requests] == [b"1", b"2"]
            third = await client.request(method, upstream.url + "/a", [], b"3")
            assert await third.read() == b"one"  # and the next call goes on a new connection
            third.release()
        assert upstream.connections == 2

    run(lambda n: [CLOSE] if n == 1 else [ok(b"one")], scenario)


def test_a_response_cut_off_mid_body_is_an_error(run: Any) -> None:
    answer = always(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n", b"only ten b", CLOSE)

    async def scenario(client: UpstreamClient, upstream: ScriptedUpstream) -> None:
        response = await client.request("GET", upstream.url + "/", [], None)
        assert await response.next_chunk() == b"only ten b"
        with pytest.raises(UpstreamError, match="closed the connection mid-response"):
            await response.next_chunk()
        response.release()

    run(answer, scenario)


def test_informational_answers_are_skipped(run: Any) -> None:
    answer = always(b"HTTP/1.1 100 Continue\r\n\r\n", ok(b"final"))

    async def scenario(client: UpstreamClient, upstream: ScriptedUpstream) -> None:
        response = await client.request("POST", upstream.url + "/", [], b"x")
        assert (response.status, await response.read()) == (200, b"final")
        response.release()

    run(answer, scenario)


def test_an_upstream_that_never_answers_times_out(run: Any) -> None:
    async def scenario(client: UpstreamClient, upstream: ScriptedUpstream) -> None:
        with pytest.raises(TimeoutError):
            await client.request("POST", upstream.url + "/", [], b"x")

    run(always(10.0), scenario, timeout=0.2)


def test_a_stream_that_stalls_times_out_mid_body(run: Any) -> None:
    answer = always(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n", b"1\r\na\r\n", 10.0)

    async def scenario(client: UpstreamClient, upstream: ScriptedUpstream) -> None:
        response = await client.request("POST", upstream.url + "/", [], b"x")
        assert await response.next_chunk() == b"a"
        with pytest.raises(TimeoutError):
            await response.next_chunk()
        response.release()

    run(answer, scenario, timeout=0.3)


def test_garbage_from_the_upstream_is_an_error(run: Any) -> None:
    async def scenario(client: UpstreamClient, upstream: ScriptedUpstream) -> None:
        with pytest.raises(UpstreamError, match="invalid HTTP response"):
            await client.request("GET", upstream.url + "/", [], None)

    run(always(b"SSH-2.0-OpenSSH_9.6\r\n\r\n", CLOSE), scenario)


def test_an_unreachable_upstream_raises_oserror(run: Any) -> None:
    async def scenario(client: UpstreamClient, upstream: ScriptedUpstream) -> None:
        with pytest.raises(OSError):
            await client.request("GET", "http://127.0.0.1:1/", [], None)

    run(always(), scenario)


def test_parsed_headers_are_written_as_they_are_and_text_ones_encoded(run: Any) -> None:
    async def scenario(client: UpstreamClient, upstream: ScriptedUpstream) -> None:
        headers: list[Header] = [
            ParsedHeader((b"x-note", b"caf\xe9 \xff")),  # as the server's parser read it
            ("x-text", "caf\xe9"),  # text (an option's): encoded as Latin-1
        ]
        response = await client.request("POST", upstream.url + "/v1", headers, b"x")
        response.release()
        assert upstream.requests[0].lines[2:5] == [
            b"x-note: caf\xe9 \xff",
            b"x-text: caf\xe9",
            b"content-length: 1",
        ]

    run(always(ok(b"")), scenario)


@pytest.mark.parametrize("url", ["/v1\r\nx-injected: 1", "/v1?q=\n", "/v1\0", "/v1/\u2603"])
def test_request_targets_that_would_break_the_framing_are_refused(run: Any, url: str) -> None:
    async def scenario(client: UpstreamClient, upstream: ScriptedUpstream) -> None:
        with pytest.raises(UpstreamError, match="request target"):
            await client.request("POST", upstream.url + url, [], b"x")
        assert upstream.requests == []

    run(always(ok(b"")), scenario)


@pytest.mark.parametrize(
    "header",
    [
        ("x-a", "v\r\nx-injected: 1"),
        ("x-a\r\nx-b", "v"),
        ("x-a", "nul\0"),
        ("x-a", "snow ☃"),
        ("x-a", "lone\rcr"),
        ("x-a", "lone\nlf"),
    ],
)
def test_header_values_that_would_break_the_framing_are_refused(
    run: Any, header: tuple[str, str]
) -> None:
    async def scenario(client: UpstreamClient, upstream: ScriptedUpstream) -> None:
        with pytest.raises(UpstreamError, match="header"):
            await client.request("POST", upstream.url + "/", [header], b"x")
        assert upstream.requests == []

    run(always(ok(b"")), scenario)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://host/x",
        "http:///x",
        "http://h:99999/",
        "//h/x",
        "http://[::1/x",
        "http://h\r\nx-injected:1/x",  # a fallback's URL is the caller's text
        "http://h\0:1/x",
    ],
)
def test_urls_that_are_not_http_origins_are_refused(run: Any, url: str) -> None:
    async def scenario(client: UpstreamClient, upstream: ScriptedUpstream) -> None:
        with pytest.raises(UpstreamError):
            await client.request("GET", url, [], None)

    run(always(), scenario)


def test_a_response_released_before_its_end_drops_the_connection(run: Any) -> None:
    big = b"y" * 3_000_000  # past the read-pause threshold as well

    async def scenario(client: UpstreamClient, upstream: ScriptedUpstream) -> None:
        response = await client.request("GET", upstream.url + "/", [], None)
        await response.next_chunk()
        response.release()
        whole = await client.request("GET", upstream.url + "/", [], None)
        assert await whole.read() == big
        whole.release()
        assert upstream.connections == 2

    run(always(ok(big)), scenario)


def test_a_large_answer_released_unread_leaves_a_working_connection(run: Any) -> None:
    # Reading pauses once 1 MiB waits unread; the answer may end in that same read, and its
    # connection then goes back to the pool: the next call must find it reading again.
    big = b"z" * (1 << 20) + b"tail"

    async def scenario(client: UpstreamClient, upstream: ScriptedUpstream) -> None:
        response = await client.request("GET", upstream.url + "/big", [], None)
        await asyncio.sleep(0.2)  # the whole answer arrives and waits, unread
        response.release()
        again = await client.request("GET", upstream.url + "/small", [], None)
        assert await again.read() == b"small"
        again.release()

    run(lambda n: [ok(big)] if n == 0 else [ok(b"small")], scenario, timeout=2.0)


def test_a_close_delimited_answer_cut_by_the_timeout_is_not_complete(run: Any) -> None:
    answer = always(b"HTTP/1.1 200 OK\r\n\r\n", b"piece", 10.0)

    async def scenario(client: UpstreamClient, upstream: ScriptedUpstream) -> None:
        response = await client.request("GET", upstream.url + "/", [], None)
        assert await response.next_chunk() == b"piece"
        await asyncio.sleep(0.4)  # the deadline passes while the reader is busy elsewhere
        with pytest.raises(TimeoutError):
            await response.next_chunk()
        response.release()

    run(answer, scenario, timeout=0.2)


@pytest.mark.parametrize("pause", [None, 0.05], ids=["same-read", "later"])
def test_bytes_after_the_answer_are_not_relayed_and_the_connection_is_dropped(
    run: Any, pause: float | None
) -> None:
    stray = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 7\r\n\r\ntimeout"
    steps: Script = [ok(b"ok") + stray] if pause is None else [ok(b"ok"), pause, stray]

    async def scenario(client: UpstreamClient, upstream: ScriptedUpstream) -> None:
        response = await client.request("GET", upstream.url + "/", [], None)
        assert (response.status, await response.read()) == (200, b"ok")
        await asyncio.sleep(0.1)
        assert [name for name, _ in response.raw_headers] == [b"content-length"]
        response.release()
        again = await client.request("GET", upstream.url + "/", [], None)
        assert await again.read() == b"ok"
        again.release()
        assert upstream.connections == 2

    run(lambda n: steps if n == 0 else [ok(b"ok")], scenario)


def test_head_answers_have_no_body_whatever_their_length_says(run: Any) -> None:
    async def scenario(client: UpstreamClient, upstream: ScriptedUpstream) -> None:
        for _ in range(2):
            response = await client.request("HEAD", upstream.url + "/", [], None)
            assert (response.status, response.content_length) == (200, 5)
            assert await response.read() == b""
            response.release()
        assert upstream.connections == 2  # not reused: its framing is not trusted

    run(always(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n"), scenario)


def test_bodiless_statuses_keep_the_connection(run: Any) -> None:
    answers = [
        b"HTTP/1.1 204 No Content\r\n\r\n",
        b"HTTP/1.1 304 Not Modified\r\ncontent-length: 10\r\n\r\n",
        b"HTTP/1.1 103 Early Hints\r\nlink: </a>; rel=preload\r\n\r\n" + ok(b"done"),
    ]

    async def scenario(client: UpstreamClient, upstream: ScriptedUpstream) -> None:
        seen = []
        for _ in answers:
            response = await client.request("GET", upstream.url + "/", [], None)
            seen.append((response.status, await response.read(), response.header("link")))
            response.release()
        assert seen == [(204, b"", None), (304, b"", None), (200, b"done", None)]
        assert upstream.connections == 1

    run(lambda n: [answers[n]], scenario)


def test_trailers_are_not_taken_for_headers(run: Any) -> None:
    answer = always(
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nx-trailer: t\r\n\r\n"
    )

    async def scenario(client: UpstreamClient, upstream: ScriptedUpstream) -> None:
        response = await client.request("GET", upstream.url + "/", [], None)
        assert await response.read() == b"hi"
        assert response.header("x-trailer") is None
        response.release()

    run(answer, scenario)


def test_a_response_released_after_the_client_closed_closes_its_connection(run: Any) -> None:
    async def scenario(client: UpstreamClient, upstream: ScriptedUpstream) -> None:
        response = await client.request("GET", upstream.url + "/", [], None)
        await client.close()
        assert await response.read() == b"x"
        response.release()
        await asyncio.sleep(0.05)
        assert upstream.ended == 1

    run(always(ok(b"x")), scenario)


@pytest.fixture(scope="module")
def tls() -> Iterator[tuple[ssl.SSLContext, ssl.SSLContext]]:
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    yield server, client


def test_https_upstreams_are_verified_and_reused(run: Any, tls: Any) -> None:
    server_ctx, client_ctx = tls

    async def scenario(client: UpstreamClient, upstream: ScriptedUpstream) -> None:
        for _ in range(2):
            response = await client.request("POST", upstream.url + "/v1/x", [], b"{}")
            assert await response.read() == b"secure"
            response.release()
        assert upstream.connections == 1

    run(always(ok(b"secure")), scenario, server_ssl=server_ctx, client_ssl=client_ctx)


def test_an_untrusted_certificate_is_refused(run: Any, tls: Any) -> None:
    server_ctx, _ = tls

    async def scenario(client: UpstreamClient, upstream: ScriptedUpstream) -> None:
        with pytest.raises(ssl.SSLCertVerificationError):
            await client.request("POST", upstream.url + "/v1/x", [], b"{}")

    run(always(ok(b"")), scenario, server_ssl=server_ctx, client_ssl=ssl.create_default_context())
