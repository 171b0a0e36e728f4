"""The provider routes' cycle sends what uvicorn's would, byte for byte, and refuses the same."""

from __future__ import annotations

import asyncio
from typing import Any

import httptools
import pytest
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

from helioscope._asgi import BODY_FOLLOWS, PARSED_HEADERS
from helioscope._server_cycle import GatewayCycle

JSON = (b"content-type", b"application/json")


class Recorder(asyncio.Transport):
    """A client connection that records each write."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, bytes]] = []
        self.closed = False

    def write(self, data: Any) -> None:
        self.calls.append(("write", bytes(data)))

    def writelines(self, list_of_data: Any) -> None:
        self.calls.append(("writelines", b"".join(list_of_data)))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    @property
    def sent(self) -> bytes:
        return b"".join(data for _, data in self.calls)


def _cycle(
    kind: type[RequestResponseCycle],
    method: str = "POST",
    *,
    keep_alive: bool = True,
    default_headers: list[tuple[bytes, bytes]] | None = None,
    expect_100_continue: bool = False,
) -> tuple[RequestResponseCycle, Recorder, list[str]]:
    transport = Recorder()
    responses: list[str] = []
    cycle = kind(
        scope={"type": "http", "method": method},  # type: ignore[typeddict-item]
        transport=transport,
        flow=FlowControl(transport),
        logger=None,  # type: ignore[arg-type]
        access_logger=None,  # type: ignore[arg-type]
        access_log=False,
        default_headers=default_headers or [],
        message_event=asyncio.Event(),
        expect_100_continue=expect_100_continue,
        keep_alive=keep_alive,
        on_response=lambda: responses.append("done"),
    )
    return cycle, transport, responses


def _start(status: int, headers: list[tuple[bytes, bytes]], **more: Any) -> dict[str, Any]:
    return {"type": "http.response.start", "status": status, "headers": headers, **more}


def _body(body: bytes, more: bool = False) -> dict[str, Any]:
    return {"type": "http.response.body", "body": body, "more_body": more}


EXCHANGES: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {
    "a whole JSON body": (
        {},
        [_start(200, [JSON, (b"content-length", b"2")]), _body(b"{}")],
    ),
    "a stream (chunked)": (
        {},
        [_start(200, [(b"Content-Type", b"text/event-stream")]), _body(b"a", True), _body(b"")],
    ),
    "a HEAD": (
        {"method": "HEAD"},
        [_start(200, [JSON, (b"content-length", b"40")]), _body(b"")],
    ),
    "a 204": ({}, [_start(204, []), _body(b"")]),
    "a connection that closes": (
        {"keep_alive": False},
        [_start(200, [(b"content-length", b"1")]), _body(b"x")],
    ),
    "the app closes it": (
        {},
        [
            _start(200, [(b"Connection", b"keep-alive, Close"), (b"content-length", b"0")]),
            _body(b""),
        ],
    ),
    "server headers first": (
        {"default_headers": [(b"server", b"uvicorn")]},
        [_start(200, [(b"content-length", b"1")]), _body(b"x")],
    ),
    "a tab and Latin-1 in values": (
        {},
        [_start(200, [(b"x-a", b"a\tb"), (b"x-b", b"caf\xe9"), (b"content-length", b"0")])],
    ),
    "a value that breaks the line": (
        {},
        [_start(200, [(b"x-a", b"a\r\nset-cookie: x"), (b"content-length", b"0")])],
    ),
    "a lone LF in a value": ({}, [_start(200, [(b"x-a", b"a\nb")])]),
    "a lone CR in a value": ({}, [_start(200, [(b"x-a", b"a\rb"), (b"x-b", b"c")])]),
    "a control character in a value": ({}, [_start(200, [(b"x-a", b"a\x01b")])]),
    "a DEL in a value": ({}, [_start(200, [(b"x-a", b"a\x7f")])]),
    "a space in a name": ({}, [_start(200, [(b"x a", b"1")])]),
    "a colon in a name": ({}, [_start(200, [(b"x:a", b"1")])]),
    "a body shorter than its length": (
        {},
        [_start(200, [(b"content-length", b"5")]), _body(b"abc")],
    ),
    "a body longer than its length": (
        {},
        [_start(200, [(b"content-length", b"1")]), _body(b"abc")],
    ),
    "a body before the start": ({}, [_body(b"abc")]),
    "a second start": ({}, [_start(200, [(b"content-length", b"0")]), _start(200, [])]),
}


async def _run(kind: type[RequestResponseCycle], case: str, follows: bool) -> Any:
    options, messages = EXCHANGES[case]
    cycle, transport, responses = _cycle(kind, **options)
    error = None
    try:
        for index, message in enumerate(messages):
            # (Said only when a message does follow: the app keeps its word.)
            if follows and message["type"] == "http.response.start" and messages[index + 1 :]:
                message = {**message, BODY_FOLLOWS: True}
            await cycle.send(message)  # type: ignore[arg-type]
    except RuntimeError as exc:
        error = str(exc)
    return transport.sent, transport.closed, error, responses, cycle.response_complete


@pytest.mark.parametrize("follows", [False, True], ids=["", "body follows"])
@pytest.mark.parametrize("case", list(EXCHANGES))
async def test_the_same_bytes_and_errors_as_uvicorn(case: str, follows: bool) -> None:
    ours = await _run(GatewayCycle, case, follows)
    assert ours == await _run(RequestResponseCycle, case, follows)


async def test_a_head_said_to_be_followed_goes_out_with_its_body_in_one_write() -> None:
    cycle, transport, responses = _cycle(GatewayCycle)
    await cycle.send(_start(200, [JSON, (b"content-length", b"2")], **{BODY_FOLLOWS: True}))  # type: ignore[arg-type]
    assert transport.calls == []
    await cycle.send(_body(b"{}"))  # type: ignore[arg-type]
    assert [call for call, _ in transport.calls] == ["writelines"]
    assert transport.sent.endswith(b"\r\n\r\n{}") and responses == ["done"]


async def test_a_head_said_to_be_followed_by_a_stream_goes_out_before_it() -> None:
    cycle, transport, _ = _cycle(GatewayCycle)
    await cycle.send(_start(200, [], **{BODY_FOLLOWS: True}))  # type: ignore[arg-type]
    await cycle.send(_body(b"a", more=True))  # type: ignore[arg-type]
    assert transport.sent.startswith(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
    assert transport.sent.endswith(b"1\r\na\r\n")


@pytest.mark.parametrize("kind", [RequestResponseCycle, GatewayCycle])
async def test_receive_gives_the_body_and_then_a_disconnect(
    kind: type[RequestResponseCycle],
) -> None:
    cycle, transport, _ = _cycle(kind, expect_100_continue=True)
    cycle.body += b"{}"
    cycle.more_body = False
    cycle.message_event.set()
    assert await cycle.receive() == {"type": "http.request", "body": b"{}", "more_body": False}
    assert transport.sent == b"HTTP/1.1 100 Continue\r\n\r\n"
    await cycle.send(_start(200, [(b"content-length", b"0")]))  # type: ignore[arg-type]
    await cycle.send(_body(b""))  # type: ignore[arg-type]
    assert await cycle.receive() == {"type": "http.disconnect"}


async def test_receive_waits_for_a_body_still_coming() -> None:
    cycle, _, _ = _cycle(GatewayCycle)
    waiting = asyncio.ensure_future(cycle.receive())
    await asyncio.sleep(0)
    assert not waiting.done()
    cycle.body += b"{"
    cycle.message_event.set()
    assert await waiting == {"type": "http.request", "body": b"{", "more_body": True}


# What llhttp (the upstream client's parser) refuses in a header: the head check's job, which
# the cycle therefore skips for the headers it parsed (``PARSED_HEADERS``).
@pytest.mark.parametrize(
    "line",
    [
        b"x-a: a\x0bb",
        b"x-a: a\rb",
        b"x-a: a\nb",
        b"x-a: a\x00b",
        b"x-a: a\x01b",
        b"x-a: a\x7fb",
        b"x-a: a\r\n b",  # an obsolete line fold
        b"x a: b",
        b"x\ra: b",
        b"x\x00a: b",
    ],
)
def test_the_upstream_parser_refuses_what_the_head_check_would(line: bytes) -> None:
    class Headers:
        def __init__(self) -> None:
            self.got: list[tuple[bytes, bytes]] = []

        def on_header(self, name: bytes, value: bytes) -> None:
            self.got.append((name, value))

    parser = httptools.HttpResponseParser(Headers())
    answer = b"HTTP/1.1 200 OK\r\n" + line + b"\r\ncontent-length: 0\r\n\r\n"
    with pytest.raises(httptools.HttpParserError):
        parser.feed_data(answer)


@pytest.mark.parametrize("default", [[], [(b"server", b"uvicorn")]])
async def test_the_headers_after_the_parsed_ones_are_checked(
    default: list[tuple[bytes, bytes]],
) -> None:
    upstream = [(b"x-up", b"caf\xe9\tok"), (b"content-length", b"2")]
    ours = [(b"helicone-id", b"1"), (b"helicone-provider", b"a\r\nset-cookie: x")]
    cycle, transport, _ = _cycle(GatewayCycle, default_headers=default)
    with pytest.raises(RuntimeError, match="Invalid HTTP header value"):
        await cycle.send(_start(200, upstream + ours, **{PARSED_HEADERS: 2}))  # type: ignore[arg-type]
    assert transport.sent == b""


async def test_a_server_header_before_the_parsed_ones_is_checked() -> None:
    cycle, _, _ = _cycle(GatewayCycle, default_headers=[(b"server", b"a\nb")])
    with pytest.raises(RuntimeError, match="Invalid HTTP header value"):
        await cycle.send(_start(200, [(b"x-up", b"1")], **{PARSED_HEADERS: 1}))  # type: ignore[arg-type]


@pytest.mark.parametrize("parsed", [2, 3])
@pytest.mark.parametrize("keep_alive", [True, False])
async def test_parsed_headers_go_out_as_uvicorn_writes_them(keep_alive: bool, parsed: int) -> None:
    upstream = [(b"X-Up", b"caf\xe9\tok"), (b"content-length", b"2")]
    headers = [*upstream, (b"helicone-id", b"1")]
    sent = []
    for kind, more in ((RequestResponseCycle, {}), (GatewayCycle, {PARSED_HEADERS: parsed})):
        cycle, transport, _ = _cycle(kind, keep_alive=keep_alive)
        await cycle.send(_start(200, headers, **more))  # type: ignore[arg-type]
        await cycle.send(_body(b"{}"))  # type: ignore[arg-type]
        sent.append(transport.sent)
    assert sent[0] == sent[1]
