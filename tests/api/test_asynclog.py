"""Logging without the proxy: Helicone's async log API through the official helicone-helpers
client and raw bodies, and OpenTelemetry through the real OTLP exporters."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import time
import uuid
from typing import Any

import httpx
import orjson
import pytest
from helicone_helpers import HeliconeManualLogger
from opentelemetry.exporter.otlp.json.http.trace_exporter import (
    OTLPSpanExporter as JsonSpanExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as ProtoSpanExporter,
)
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter

from helioscope.ingest._journal import read_frames
from helioscope.store.log import requests
from tests.conftest import Running
from tests.gateway.clients import openai_client, stored

# These routes read the log: they run with it in ClickHouse too (tests/conftest.py).
pytestmark = pytest.mark.clickhouse

CHAT_REQUEST = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "two words"}]}
CHAT_RESPONSE = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "model": "gpt-4o-mini-2024-07-18",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi there"}}],
    "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15},
}


async def all_rows(hs: Running) -> list[dict[str, Any]]:
    await hs.flush()
    from helioscope.store import RequestQuery

    return await hs.services.store.log.org(hs.org_id).read(
        requests.query_requests, RequestQuery(limit=1000)
    )


async def test_helicone_helpers_manual_logger(helioscope: Running) -> None:
    logger = HeliconeManualLogger(
        api_key=helioscope.key,
        headers={"Helicone-Property-App": "billing"},
        logging_endpoint=helioscope.url,
    )

    def call() -> str:
        def operation(recorder: Any) -> str:
            recorder.append_results(CHAT_RESPONSE)
            return "done"

        return str(
            logger.log_request(
                CHAT_REQUEST,
                operation,
                additional_headers={"Helicone-User-Id": "carol", "Helicone-Session-Id": "s-9"},
                provider="openai",
            )
        )

    assert await asyncio.to_thread(call) == "done"
    [row] = await all_rows(helioscope)
    assert row["provider"] == "OPENAI"
    assert row["model"] == "gpt-4o-mini-2024-07-18"
    assert (row["prompt_tokens"], row["completion_tokens"]) == (12, 3)
    assert row["cost"] is not None and row["cost"] > 0
    assert row["user_id"] == "carol"
    assert row["properties"] == {"app": "billing", "Helicone-Session-Id": "s-9"}
    assert row["session_id"] == "s-9"
    assert orjson.loads(row["request_body"])["messages"] == CHAT_REQUEST["messages"]


async def test_helicone_helpers_stream_builder_and_tool_logs(helioscope: Running) -> None:
    logger = HeliconeManualLogger(api_key=helioscope.key, logging_endpoint=helioscope.url)

    def stream() -> None:
        builder = logger.log_builder(CHAT_REQUEST, {"Helicone-Property-Kind": "stream"})
        for piece in ("Hel", "lo"):
            builder.add_chunk(
                {
                    "object": "chat.completion.chunk",
                    "model": "gpt-4o-mini",
                    "choices": [{"index": 0, "delta": {"content": piece}}],
                }
            )
        builder.add_chunk(
            {
                "object": "chat.completion.chunk",
                "model": "gpt-4o-mini",
                "choices": [],
                "usage": {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6},
            }
        )
        asyncio.run(builder.send_log())

    def tool() -> None:
        logger.log_request(
            {"_type": "tool", "toolName": "weather", "input": {"city": "Oslo"}},
            lambda recorder: recorder.append_results({"temperature": -3}),
        )

    await asyncio.to_thread(stream)
    await asyncio.to_thread(tool)
    rows = {r["properties"].get("kind", "tool"): r for r in await all_rows(helioscope)}
    streamed = rows["stream"]
    assert streamed["is_stream"] is True
    assert (streamed["prompt_tokens"], streamed["completion_tokens"]) == (4, 2)
    assert orjson.loads(streamed["response_body"])["choices"][0]["message"]["content"] == "Hello"
    assert streamed["time_to_first_token"] is not None
    assert rows["tool"]["model"] == "tool:weather"
    assert rows["tool"]["provider"] == "CUSTOM"


async def post(hs: Running, path: str, body: Any, **headers: str) -> httpx.Response:
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    async with hs.http() as http:
        return await http.post(
            path,
            content=content,
            headers={
                "authorization": f"Bearer {hs.key}",
                "content-type": "application/json",
                **headers,
            },
        )


def log_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "providerRequest": {
            "url": "https://api.anthropic.com/v1/messages",
            "json": {
                "model": "claude-3-5-sonnet-20241022",
                "messages": [{"role": "user", "content": "hi"}],
            },
            "meta": {},
        },
        "providerResponse": {
            "status": 200,
            "headers": {},
            "json": {
                "id": "msg_1",
                "type": "message",
                "model": "claude-3-5-sonnet-20241022",
                "content": [{"type": "text", "text": "hello"}],
                "usage": {"input_tokens": 9, "output_tokens": 4},
            },
        },
        "timing": {
            "startTime": {"seconds": 1_764_000_000, "milliseconds": 250},
            "endTime": {"seconds": 1_764_000_001, "milliseconds": 750},
        },
    }
    body.update(overrides)
    return body


async def test_raw_log_with_meta_headers_and_time_forms(helioscope: Running) -> None:
    chosen = str(uuid.uuid4())
    body = log_body()
    body["providerRequest"]["meta"] = {
        "Helicone-Request-Id": chosen,
        "Helicone-User-Id": "dave",
        "Helicone-Property-Team": "ops",
    }
    response = await post(
        helioscope, "/anthropic/v1/log", body, **{"Helicone-Property-Region": "eu"}
    )
    assert response.status_code == 200 and response.text == "ok"
    assert response.headers["helicone-id"] == chosen
    row = await stored(helioscope, chosen)
    assert row["provider"] == "ANTHROPIC"
    assert row["latency"] == 1500
    assert row["request_created_at"] == dt.datetime(2025, 11, 24, 16, 0, 0, 250000, tzinfo=dt.UTC)
    assert row["properties"] == {"team": "ops", "region": "eu"}
    assert row["user_id"] == "dave"
    assert (row["prompt_tokens"], row["completion_tokens"]) == (9, 4)

    for start, end in (
        ("1764000000", "1764000002"),
        ("1764000000000", "1764000002000"),
        ("2025-11-24T16:00:00Z", "2025-11-24T16:00:02.000Z"),
        (1764000000, 1764000002),
    ):
        response = await post(
            helioscope, "/custom/v1/log", log_body(timing={"startTime": start, "endTime": end})
        )
        assert response.status_code == 200, (start, response.text)
        row = await stored(helioscope, response.headers["helicone-id"])
        assert row["latency"] == 2000, start


async def test_streamed_data_and_trace_route_without_timing(helioscope: Running) -> None:
    chunks = [
        {
            "object": "chat.completion.chunk",
            "model": "gpt-4o",
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": "A"}}],
        },
        {
            "object": "chat.completion.chunk",
            "model": "gpt-4o",
            "choices": [{"index": 0, "delta": {"content": "B"}}],
        },
        {
            "object": "chat.completion.chunk",
            "model": "gpt-4o",
            "choices": [],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2},
        },
    ]
    body = {
        "providerRequest": {
            "url": "https://api.openai.com/v1/chat/completions",
            "json": {"model": "gpt-4o", "stream": True},
        },
        "providerResponse": {"status": 200, "json": {"streamed_data": chunks}},
        "provider": "OPENAI",
    }
    response = await post(helioscope, "/v1/trace/custom/log", body)
    assert response.status_code == 204
    row = await stored(helioscope, response.headers["helicone-id"])
    assert row["is_stream"] is True
    assert orjson.loads(row["response_body"])["choices"][0]["message"]["content"] == "AB"
    assert (row["prompt_tokens"], row["completion_tokens"]) == (3, 2)


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"{not json", 400, "body: malformed JSON"),
        (
            log_body(timing={"startTime": -5, "endTime": 10}),
            400,
            "timing.startTime: must not be negative",
        ),
        (
            log_body(timing={"startTime": 20, "endTime": 10}),
            400,
            "timing: startTime is after endTime",
        ),
        (log_body(provider="NOT-A-PROVIDER"), 400, "provider: unknown provider"),
        (log_body(timing=None), 400, "timing: must be an object"),
        (log_body(providerRequest="x"), 400, "providerRequest: must be an object"),
        (
            log_body(timing={"startTime": "soon", "endTime": 1}),
            400,
            "timing.startTime: is not a time",
        ),
    ],
)
@pytest.mark.asyncio(loop_scope="module")
async def test_bad_logs_are_400_naming_the_field(
    own_org: Running, body: Any, status: int, message: str
) -> None:
    # Refusals: on the module's shared app, in an organization of the test's own, which must
    # still hold nothing afterwards (an app per case cost 21 cases a store each).
    response = await post(own_org, "/oai/v1/log", body)
    assert response.status_code == status
    assert message in response.json()["error"]
    assert await all_rows(own_org) == []  # nothing half-written


async def test_typed_route_reports_every_error(helioscope: Running) -> None:
    bad = log_body(timing={"startTime": -1, "endTime": "later"}, provider=7)
    response = await post(helioscope, "/v1/trace/custom/log/typed", bad)
    assert response.status_code == 400
    body = response.json()
    assert body["isValid"] is False
    assert {e["field"] for e in body["errors"]} == {
        "provider",
        "timing.startTime",
        "timing.endTime",
    }
    good = await post(helioscope, "/v1/trace/custom/log/typed", log_body())
    assert good.json() == {"isValid": True, "errors": []}


async def test_body_over_the_limit_is_413(helioscope: Running) -> None:
    helioscope.services.settings.max_request_body_bytes = 2_000
    body = log_body()
    body["providerRequest"]["json"]["pad"] = "x" * 5_000
    response = await post(helioscope, "/custom/v1/log", body)
    assert response.status_code == 413
    assert response.json()["error"].startswith("body is larger than the limit")


def genai_span(exporter: SpanExporter, *, trace_name: str = "openai.chat") -> None:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span(trace_name) as span:
        span.set_attributes(
            {
                "gen_ai.system": "OpenAI",
                "gen_ai.request.model": "gpt-4o-mini",
                "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                "gen_ai.prompt.0.role": "user",
                "gen_ai.prompt.0.content": "What is OTel?",
                "gen_ai.completion.0.role": "assistant",
                "gen_ai.completion.0.content": "Telemetry.",
                "gen_ai.completion.0.finish_reason": "stop",
                "gen_ai.usage.prompt_tokens": 11,
                "gen_ai.usage.completion_tokens": 2,
                "llm.usage.total_tokens": 13,
                "traceloop.association.properties.Helicone-User-Id": "erin",
                "traceloop.association.properties.Helicone-Session-Id": "otel-session",
                "traceloop.association.properties.Helicone-Property-Feature": "faq",
            }
        )
        time.sleep(0.01)
    with tracer.start_as_current_span("GET /health"):  # not an LLM call: not logged
        pass
    provider.shutdown()


@pytest.mark.parametrize("encoding", ["protobuf", "json"])
async def test_opentelemetry_exporters(helioscope: Running, encoding: str) -> None:
    headers = {"Authorization": f"Bearer {helioscope.key}"}
    exporter: SpanExporter
    if encoding == "protobuf":
        exporter = ProtoSpanExporter(endpoint=f"{helioscope.url}/v1/traces", headers=headers)
    else:
        exporter = JsonSpanExporter(endpoint=f"{helioscope.url}/v1/traces", headers=headers)
    await asyncio.to_thread(genai_span, exporter)
    [row] = await all_rows(helioscope)
    assert row["provider"] == "OPENAI"
    assert row["model"] == "gpt-4o-mini-2024-07-18"
    assert (row["prompt_tokens"], row["completion_tokens"], row["total_tokens"]) == (11, 2, 13)
    assert row["user_id"] == "erin"
    assert row["session_id"] == "otel-session"
    assert row["properties"] == {"Helicone-Session-Id": "otel-session", "Feature": "faq"}
    assert row["latency"] >= 10
    assert orjson.loads(row["request_body"])["messages"] == [
        {"role": "user", "content": "What is OTel?"}
    ]
    assert orjson.loads(row["response_body"])["choices"][0]["message"]["content"] == "Telemetry."


async def test_otlp_json_route_is_idempotent_per_span(helioscope: Running) -> None:
    span = {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "name": "chat",
        "startTimeUnixNano": "1764000000000000000",
        "endTimeUnixNano": "1764000000500000000",
        "attributes": [
            {"key": "gen_ai.system", "value": {"stringValue": "anthropic"}},
            {"key": "gen_ai.request.model", "value": {"stringValue": "claude-3-5-haiku-latest"}},
            {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "100"}},
            {"key": "gen_ai.usage.output_tokens", "value": {"intValue": 20}},
        ],
        "status": {"code": 2},
    }
    payload = {"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}
    for _ in range(2):
        assert (await post(helioscope, "/v1/trace/log", payload)).status_code == 204
    [row] = await all_rows(helioscope)
    assert row["provider"] == "ANTHROPIC"
    assert row["status"] == 500
    assert row["latency"] == 500
    assert (row["prompt_tokens"], row["completion_tokens"]) == (100, 20)
    bad = await post(
        helioscope,
        "/v1/trace/log-python",
        b"\x00garbage",
        **{"content-type": "application/x-protobuf"},
    )
    assert bad.status_code == 400
    assert (await post(helioscope, "/v1/traces", {"resourceSpans": 5})).status_code == 400


def _llm_span_with(attribute: dict[str, Any]) -> dict[str, Any]:
    return {
        "traceId": "5b8efff798038103d269b633813fc60d",
        "spanId": "eee19b7ec3c1b175",
        "name": "chat",
        "attributes": [
            {"key": "gen_ai.system", "value": {"stringValue": "openai"}},
            {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o-mini"}},
            attribute,
        ],
    }


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"resourceSpans": [5]}, "resourceSpans[0]: expected an object"),
        ({"resourceSpans": [{"scopeSpans": 5}]}, "resourceSpans[0].scopeSpans: expected a list"),
        ({"resourceSpans": [{"scopeSpans": ["x"]}]}, "resourceSpans[0].scopeSpans[0]: expected"),
        (
            _llm_span_with({"key": "gen_ai.usage.input_tokens", "value": {"intValue": "many"}}),
            "resourceSpans[0].scopeSpans[0].spans[1]: not a valid OTLP span",
        ),
        (
            _llm_span_with({"key": "gen_ai.prompt", "value": {"arrayValue": None}}),
            "resourceSpans[0].scopeSpans[0].spans[1]: not a valid OTLP span",
        ),
    ],
)
async def test_a_malformed_otlp_export_is_a_400_naming_the_place_and_stores_nothing(
    helioscope: Running, body: dict[str, Any], named: str
) -> None:
    if "traceId" in body:  # a span: second in an export whose first span is fine
        fine = _llm_span_with({"key": "gen_ai.usage.input_tokens", "value": {"intValue": 3}})
        fine["spanId"] = "eee19b7ec3c1b176"
        body = {"resourceSpans": [{"scopeSpans": [{"spans": [fine, body]}]}]}
    for path in ("/v1/traces", "/v1/trace/log"):
        answer = await post(helioscope, path, body)
        assert answer.status_code == 400, answer.text
        assert answer.json()["data"] is None
        assert answer.json()["error"].startswith(named), answer.json()
    await helioscope.flush()
    assert await all_rows(helioscope) == []


async def test_an_otlp_export_is_one_journal_record(helioscope: Running) -> None:
    """Its spans are journalled together (one frame, one decode) and each becomes a row."""
    writer = helioscope.services.started.writer
    segment, offset = writer.journal.end()
    spans = [
        {
            "traceId": "6b8efff798038103d269b633813fc60c",
            "spanId": f"{n + 1:016x}",
            "startTimeUnixNano": "1764000000000000000",
            "endTimeUnixNano": "1764000000250000000",
            "attributes": [
                {"key": "gen_ai.system", "value": {"stringValue": "openai"}},
                {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o-mini"}},
                {"key": "gen_ai.usage.prompt_tokens", "value": {"intValue": str(n)}},
            ],
        }
        for n in range(5)
    ]
    payload = {"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}
    assert (await post(helioscope, "/v1/traces", payload)).status_code == 200
    path = writer.journal.directory / segment
    frames = read_frames(path, offset, max_bytes=1 << 30, max_count=100)
    assert len(frames.payloads) == 1
    rows = await all_rows(helioscope)
    assert sorted(row["prompt_tokens"] for row in rows) == [0, 1, 2, 3, 4]
    assert {row["latency"] for row in rows} == {250}


async def test_an_otlp_export_is_converted_with_the_collector_paused(
    helioscope: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing an export parses into is garbage in a cycle: no collection traverses it."""
    from helioscope.api.log import trace
    from helioscope.ingest.otel import trace_rows as convert

    seen: list[bool] = []

    async def trace_rows(*args: Any) -> Any:
        seen.append(gc.isenabled())
        return await convert(*args)

    monkeypatch.setattr(trace, "trace_rows", trace_rows)
    await helioscope.flush()  # the writer pauses it too, while it stores a batch
    enabled = gc.isenabled()
    span = {
        "traceId": "7b8efff798038103d269b633813fc60c",
        "spanId": "0000000000000001",
        "attributes": [{"key": "gen_ai.system", "value": {"stringValue": "openai"}}],
    }
    payload = {"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}
    assert (await post(helioscope, "/v1/traces", payload)).status_code == 200
    assert seen == [False]
    await helioscope.flush()
    assert gc.isenabled() == enabled


async def test_feedback_on_gateway_routes(helioscope: Running) -> None:
    async with openai_client(helioscope) as client:
        raw = await client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=[]
        )
    request_id = raw.headers["helicone-id"]
    response = await post(
        helioscope, "/oai/v1/feedback", {"rating": False}, **{"helicone-id": request_id}
    )
    assert response.status_code == 200, response.text
    row = await stored(helioscope, request_id)
    assert row["feedback_rating"] is False
    missing = await post(
        helioscope, "/v1/feedback", {"rating": True, "helicone-id": str(uuid.uuid4())}
    )
    assert missing.status_code == 404
    assert (await post(helioscope, "/v1/feedback", {"rating": "yes"})).status_code == 400
