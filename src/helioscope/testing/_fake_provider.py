"""A fake LLM provider on loopback: OpenAI and Anthropic wire formats, streaming included.

It answers deterministically, so tests can assert exact tokens and bodies. Each request may steer
it with headers (which a gateway forwards like any other header):

- ``x-fake-status: 429``: answer with that status and the provider's error body;
- ``x-fake-first-token-delay-ms`` / ``x-fake-chunk-delay-ms``: slow the first byte / each chunk;
- ``x-fake-cache-read-tokens: N``: report N prompt tokens as read from the prompt cache;
- ``x-fake-gzip: 1``: gzip a non-streamed JSON body.

A chat call that forces a tool (``tool_choice``) gets a tool call back (see ``_tools``). A
call whose model is ``fake-error-<status>`` answers that status, and ``fake-delay-<ms>`` answers
after that long, for callers that cannot set headers. ``peak_chat_calls`` is the most chat
calls it has had in flight at once.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import struct
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from helioscope.testing import _wire as wire
from helioscope.testing._server import serve
from helioscope.testing._tools import chosen_function, openai_tool_call


@dataclass(slots=True)
class ReceivedCall:
    """A request as the fake provider received it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return orjson.loads(self.body)


def _sse(events: Sequence[tuple[str | None, Any]]) -> list[bytes]:
    out = []
    for name, data in events:
        payload = data if isinstance(data, str) else orjson.dumps(data).decode()
        prefix = f"event: {name}\n" if name else ""
        out.append(f"{prefix}data: {payload}\n\n".encode())
    return out


class FakeProvider:
    """Serve with ``async with FakeProvider().run() as url``; inspect ``calls`` afterwards."""

    def __init__(self) -> None:
        self.calls: list[ReceivedCall] = []
        self.record = True  # benchmarks turn this off so memory stays flat
        self.peak_chat_calls = 0
        self._chat_calls = 0
        self.url = ""
        self.app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/v1/completions", self._completions, methods=["POST"]),
                Route("/v1/embeddings", self._embeddings, methods=["POST"]),
                Route("/v1/responses", self._responses, methods=["POST"]),
                Route("/v1/messages", self._messages, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
            ]
        )

    @asynccontextmanager
    async def run(self) -> AsyncIterator[str]:
        """Serve on loopback; yields the base URL."""
        async with serve(self.app) as url:
            self.url = url
            yield url

    @property
    def last(self) -> ReceivedCall:
        """The most recent request."""
        return self.calls[-1]

    async def _receive(self, request: Request) -> tuple[dict[str, Any], _Knobs]:
        body = await request.body()
        if self.record:
            self.calls.append(
                ReceivedCall(
                    request.method, request.url.path, request.url.query, dict(request.headers), body
                )
            )
        data = orjson.loads(body) if body else {}
        return data, _Knobs.from_request(request)

    async def _chat(self, request: Request) -> Response:
        self._chat_calls += 1
        self.peak_chat_calls = max(self.peak_chat_calls, self._chat_calls)
        try:
            return await self._answer_chat(request)
        finally:
            self._chat_calls -= 1

    async def _answer_chat(self, request: Request) -> Response:
        data, knobs = await self._receive(request)
        if knobs.status >= 400:
            return _json(wire.openai_error(knobs.status), knobs.status)
        model = str(data.get("model", "gpt-4o-mini"))
        if model.startswith("fake-error-") and model[11:].isdigit():
            return _json(wire.openai_error(int(model[11:])), int(model[11:]))
        if model.startswith("fake-delay-") and model[11:].isdigit():
            await asyncio.sleep(int(model[11:]) / 1000)
        prompt = wire.count_words(data.get("messages"))
        function = chosen_function(data)
        if function is not None and not data.get("stream"):
            override = request.headers.get("x-fake-tool-arguments")
            return await knobs.json(openai_tool_call(model, prompt, function, override))
        if data.get("stream"):
            include_usage = bool((data.get("stream_options") or {}).get("include_usage"))
            events = wire.openai_chat_stream(model, prompt, knobs.cache_read, include_usage)
            return knobs.stream(_sse([(None, e) for e in events]))
        return await knobs.json(wire.openai_chat(model, prompt, knobs.cache_read))

    async def _completions(self, request: Request) -> Response:
        data, knobs = await self._receive(request)
        if knobs.status >= 400:
            return _json(wire.openai_error(knobs.status), knobs.status)
        model = str(data.get("model", "gpt-3.5-turbo-instruct"))
        prompt = wire.count_words(data.get("prompt"))
        if data.get("stream"):
            include_usage = bool((data.get("stream_options") or {}).get("include_usage"))
            events = wire.openai_completion_stream(model, prompt, include_usage)
            return knobs.stream(_sse([(None, e) for e in events]))
        return await knobs.json(wire.openai_completion(model, prompt))

    async def _embeddings(self, request: Request) -> Response:
        data, knobs = await self._receive(request)
        if knobs.status >= 400:
            return _json(wire.openai_error(knobs.status), knobs.status)
        inputs = data.get("input")
        items = inputs if isinstance(inputs, list) else [inputs]
        vector = [0.1, 0.2, 0.3, 0.4]
        encoded: Any = vector
        if data.get("encoding_format") == "base64":
            encoded = base64.b64encode(struct.pack("<4f", *vector)).decode()
        tokens = wire.count_words(items)
        return await knobs.json(
            {
                "object": "list",
                "data": [
                    {"object": "embedding", "index": i, "embedding": encoded}
                    for i in range(len(items))
                ],
                "model": data.get("model", "text-embedding-3-small"),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    async def _responses(self, request: Request) -> Response:
        data, knobs = await self._receive(request)
        if knobs.status >= 400:
            return _json(wire.openai_error(knobs.status), knobs.status)
        model = str(data.get("model", "gpt-4o-mini"))
        prompt = wire.count_words(data.get("input"))
        if data.get("stream"):
            return knobs.stream(_sse(wire.responses_stream(model, prompt, knobs.cache_read)))
        return await knobs.json(wire.responses_body(model, prompt, knobs.cache_read))

    async def _messages(self, request: Request) -> Response:
        data, knobs = await self._receive(request)
        if knobs.status >= 400:
            return _json(wire.anthropic_error(knobs.status), knobs.status)
        model = str(data.get("model", "claude-3-5-sonnet-20241022"))
        prompt = wire.count_words(data.get("messages")) + wire.count_words(data.get("system"))
        if data.get("stream"):
            return knobs.stream(_sse(wire.anthropic_stream(model, prompt, knobs.cache_read)))
        return await knobs.json(wire.anthropic_message(model, prompt, knobs.cache_read))

    async def _models(self, request: Request) -> Response:
        await self._receive(request)
        return _json({"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model"}]})


def _json(payload: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json")


@dataclass(slots=True)
class _Knobs:
    status: int
    first_delay: float
    chunk_delay: float
    cache_read: int
    gzip: bool

    @classmethod
    def from_request(cls, request: Request) -> _Knobs:
        h = request.headers
        return cls(
            status=int(h.get("x-fake-status", "200")),
            first_delay=int(h.get("x-fake-first-token-delay-ms", "0")) / 1000,
            chunk_delay=int(h.get("x-fake-chunk-delay-ms", "0")) / 1000,
            cache_read=int(h.get("x-fake-cache-read-tokens", "0")),
            gzip=h.get("x-fake-gzip") == "1",
        )

    async def json(self, payload: Any) -> Response:
        if self.first_delay:
            await asyncio.sleep(self.first_delay)
        body = orjson.dumps(payload)
        if self.gzip:
            return Response(
                gzip.compress(body),
                media_type="application/json",
                headers={"content-encoding": "gzip"},
            )
        return Response(body, media_type="application/json")

    def stream(self, chunks: list[bytes]) -> Response:
        async def body() -> AsyncIterator[bytes]:
            if self.first_delay:
                await asyncio.sleep(self.first_delay)
            for index, chunk in enumerate(chunks):
                if index and self.chunk_delay:
                    await asyncio.sleep(self.chunk_delay)
                yield chunk

        return StreamingResponse(
            body(),
            media_type="text/event-stream",
            headers={"cache-control": "no-cache", "x-fake-started": str(time.time())},
        )
