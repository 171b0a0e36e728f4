"""build_log_row: an answer the provider compressed, and what it reads of the request body."""

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


@pytest.mark.parametrize(
    ("request_body", "model", "user"),
    [
        (b'{"model": "gpt-4o", "messages": [{"role": "user"}], "user": "u-9"}', "gpt-4o", "u-9"),
        (b'{"messages": [], "model": 7, "user": ["u"]}', None, None),  # not text: not read
        (b'{"model": "a", "model": "gpt-4o"}', "gpt-4o", None),  # the last one, as orjson
        (b'[{"model": "gpt-4o"}]', None, None),  # no JSON object
        (b'{"model": "gpt-4o"', None, None),  # no JSON
        (b"", None, None),
        # A byte that is not UTF-8 in a value the row does not read: the model and user are
        # read all the same (orjson refused the whole body: the row had neither).
        (b'{"model": "gpt-4o", "messages": [{"content": "\xff"}], "user": "u-9"}', "gpt-4o", "u-9"),
    ],
    ids=["object", "not-text", "repeated", "array", "cut", "empty", "not-utf8-elsewhere"],
)
def test_the_request_body_gives_the_row_its_model_and_user(
    request_body: bytes, model: str | None, user: str | None
) -> None:
    capture = _capture(ANSWER, None)
    capture.request_body = request_body
    row = build_log_row(capture)
    assert (row.request_model, row.user_id) == (model, user)
    # Parsed by the gateway (or rewritten by a prompt): read from that, the body left alone.
    capture.request_json = {"model": "gpt-4.1", "user": "u-1"}
    assert (build_log_row(capture).request_model, build_log_row(capture).user_id) == (
        "gpt-4.1",
        "u-1",
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent",
        "http://fake/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse",
        "https://x-aiplatform.googleapis.com/v1/projects/p/locations/l/publishers/google/models/"
        "gemini-2.0-flash:generateContent",
    ],
    ids=["gemini", "stream", "vertex"],
)
def test_a_gemini_call_has_the_model_its_url_names(url: str) -> None:
    """A Gemini body names no model; an error answer names none either: the URL does."""
    capture = _capture(b'{"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}}', None)
    capture.provider, capture.target_url, capture.status = BY_NAME["GOOGLE"], url, 429
    capture.request_body = b'{"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}'
    row = build_log_row(capture)
    assert (row.request_model, row.model) == ("gemini-2.0-flash", "gemini-2.0-flash")


def test_an_answer_is_read_for_its_model_and_usage_only() -> None:
    """A byte that is not UTF-8 in the answer's content does not cost the row its tokens.

    The whole parse (orjson) refused such an answer and the row had no model and no usage;
    the content is not read now, only stored (the byte replaced), as before.
    """
    answer = (
        b'{"model": "gpt-4o-mini", "choices": [{"message": {"content": "caf\xe9"}}],'
        b' "usage": {"prompt_tokens": 7, "completion_tokens": 2}}'
    )
    row = build_log_row(_capture(answer, None))
    assert (row.response_model, row.prompt_tokens, row.total_tokens) == ("gpt-4o-mini", 7, 9)
    assert row.response_body == answer.decode("utf-8", "replace")
    assert row.response_body_size == len(answer)
