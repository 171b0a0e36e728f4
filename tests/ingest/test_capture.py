"""build_log_row on an answer the provider compressed."""

from __future__ import annotations

import datetime as dt
import gzip

import brotli
import orjson
import pytest

from helioscope.ingest import CallCapture, HeliconeHeaders
from helioscope.ingest.capture import build_log_row
from helioscope.providers.registry import BY_NAME

ANSWER = orjson.dumps(
    {"model": "gpt-4o-mini", "usage": {"prompt_tokens": 7, "completion_tokens": 2}}
)


def _capture(body: bytes, encoding: str | None) -> CallCapture:
    return CallCapture(
        "req-1",
        "org-1",
        BY_NAME["OPENAI"],
        "http://upstream/v1/chat/completions",
        "/v1/chat/completions",
        HeliconeHeaders(),
        b'{"model": "gpt-4o-mini"}',
        dt.datetime(2026, 12, 7, tzinfo=dt.UTC),
        0.0,
        status=200,
        ended=0.25,
        content_encoding=encoding,
        chunks=[body],
    )


@pytest.mark.parametrize(
    ("body", "encoding"),
    # mtime=0 and ids: gzip stamps the time, and a test id that differs between xdist's
    # workers (collected in different seconds) fails the whole run.
    [(ANSWER, None), (gzip.compress(ANSWER, mtime=0), "gzip"), (brotli.compress(ANSWER), "br")],
    ids=["plain", "gzip", "br"],
)
def test_the_answer_is_decoded_before_it_is_read_and_stored(
    body: bytes, encoding: str | None
) -> None:
    row = build_log_row(_capture(body, encoding))
    assert row.response_body == ANSWER.decode()
    assert (row.prompt_tokens, row.completion_tokens, row.response_body_size) == (7, 2, len(ANSWER))
    assert row.latency == 250
    assert row.response_created_at == dt.datetime(2026, 12, 7, 0, 0, 0, 250_000, tzinfo=dt.UTC)
