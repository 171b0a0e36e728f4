"""No loss window: a call's record is in the journal before its answer's last byte is handed to
the server, so a process killed once the client has the complete answer cannot lose it.

The app is called as ASGI with a ``send`` that, at the response's last message (the moment the
server would write the final bytes to the client), reads the journal files from disk.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from helioscope.ingest._journal import read_frames
from helioscope.ingest._records import JournalCapture, decode
from helioscope.testing import FakeProvider
from tests.conftest import Running
from tests.gateway.clients import PROVIDER_KEY


def journalled(root: Path, request_id: str) -> JournalCapture | None:
    """The capture of ``request_id`` as the journal files on disk hold it, if they do."""
    for path in sorted(root.glob("*/*.journal")):
        read = read_frames(path, 0, max_bytes=1 << 30, max_count=1 << 30)
        for payload in read.payloads:
            record = decode(payload)
            if isinstance(record, JournalCapture) and record.request_id == request_id:
                return record
    return None


async def call_asgi(hs: Running, body: dict[str, Any]) -> tuple[int, bytes, JournalCapture | None]:
    """Call the chat route as a server would; the journal's record as the last message left."""
    assert hs.app is not None
    root = hs.services.journal_dir()
    raw = orjson.dumps(body)
    headers = [
        (b"host", b"helioscope.test"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(raw)).encode()),
        (b"authorization", f"Bearer {PROVIDER_KEY}".encode()),
        (b"helicone-auth", f"Bearer {hs.key}".encode()),
    ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/oai/v1/chat/completions",
        "raw_path": b"/oai/v1/chat/completions",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("helioscope.test", 80),
    }
    sent_request = False

    async def receive() -> dict[str, Any]:
        nonlocal sent_request
        if not sent_request:
            sent_request = True
            return {"type": "http.request", "body": raw, "more_body": False}
        await hs.services.started.writer.flush()  # never: a call does not wait for this
        return {"type": "http.disconnect"}

    status, chunks, at_last = 0, [], None
    request_id = ""

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, request_id, at_last
        if message["type"] == "http.response.start":
            status = message["status"]
            request_id = dict(message["headers"])[b"helicone-id"].decode()
            return
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            at_last = journalled(root, request_id)

    await hs.app(scope, receive, send)  # type: ignore[arg-type]
    return status, b"".join(chunks), at_last


async def test_a_json_answer_is_journalled_before_its_body_is_sent(helioscope: Running) -> None:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "window"}]}
    status, answer, record = await call_asgi(helioscope, body)
    assert status == 200
    assert record is not None, "the record was not in the journal when the body went out"
    # The record carries the whole answer (usage, model) and its final latency.
    assert b"".join(record.chunks) == answer
    assert record.ended is not None and record.status == 200


async def test_a_stream_is_journalled_before_its_last_message(helioscope: Running) -> None:
    body = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "window"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    status, answer, record = await call_asgi(helioscope, body)
    assert status == 200 and answer.rstrip().endswith(b"data: [DONE]")
    assert record is not None, "the record was not in the journal before the stream ended"
    assert record.is_stream and b"".join(record.chunks) == answer
    assert b'"usage"' in b"".join(record.chunks)
    assert record.first_chunk is not None and record.ended is not None


@pytest.mark.parametrize("failure", ["reset", "status"])
async def test_an_error_answer_is_journalled_before_it_is_sent(
    helioscope: Running, fake: FakeProvider, failure: str
) -> None:
    if failure == "reset":
        fake.reset_next()  # the gateway answers 502 itself
    else:
        fake.fail_next(500)  # the provider's 500, relayed
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "window"}]}
    status, _, record = await call_asgi(helioscope, body)
    assert status in (500, 502)
    assert record is not None and record.status == status
