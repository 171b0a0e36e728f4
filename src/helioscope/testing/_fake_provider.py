"""A fake LLM provider on loopback that speaks each provider's wire format for real.

OpenAI chat completions (JSON and SSE, tool calls), completions, embeddings and the Responses
API (function calls streamed too); Anthropic Messages (JSON and SSE, ``tool_use``); Google
Gemini ``generateContent`` and ``streamGenerateContent`` (several candidates, JSON answers:
``_wire_gemini``). It answers deterministically, so tests can assert exact tokens and
bodies, and refuses malformed Anthropic and Gemini bodies as those providers do (``_checks``).
Any OpenAI-compatible provider is the same fake under another URL (Azure OpenAI's deployment
paths included).

Each request may steer it with headers (which a gateway forwards like any other header):

- ``x-fake-status: 429``: answer with that status and the provider's error body;
- ``x-fake-first-token-delay-ms`` / ``x-fake-chunk-delay-ms``: slow the first byte / each chunk;
- ``x-fake-cache-read-tokens: N``: report N prompt tokens as read from the prompt cache;
- ``x-fake-gzip: 1``: gzip a non-streamed JSON body.

Tests may also queue failures for the next calls, optionally only for one path: an error status
with ``Retry-After`` (``fail_next``), a stall before answering (``stall_next``, for timeouts) or
a connection closed unanswered (``reset_next``). They choose the words its moderation endpoint
flags (``flagged_words``) or the status it answers (``moderation_status``).

A call that forces a tool gets a tool call back (see ``_tools``). A chat call whose model is
``fake-error-<status>`` answers that status, and ``fake-delay-<ms>`` answers after that long,
for callers that cannot set headers. ``peak_chat_calls`` is the most chat calls it has had in
flight at once. ``calls`` records every request as received: path, headers and body.
"""

from __future__ import annotations

import asyncio
import base64
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from helioscope.testing import _wire as wire
from helioscope.testing import _wire_gemini as gemini
from helioscope.testing import _wire_tool_use as tool_use
from helioscope.testing._checks import anthropic_problem, gemini_problem
from helioscope.testing._failures import Failure, Failures, reset
from helioscope.testing._knobs import Knobs, json_response, sse
from helioscope.testing._server import serve
from helioscope.testing._tools import (
    chosen_anthropic_tool,
    chosen_function,
    chosen_responses_function,
    openai_tool_call,
    openai_tool_stream,
)

_FAILURE = "helioscope.fake.failure"  # scope key: the queued failure a call takes


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


class FakeProvider:
    """Serve with ``async with FakeProvider().run() as url``; inspect ``calls`` afterwards."""

    def __init__(self) -> None:
        self.calls: list[ReceivedCall] = []
        self.record = True  # benchmarks turn this off so memory stays flat
        self.peak_chat_calls = 0
        self._chat_calls = 0
        self.url = ""
        self.failures = Failures()
        self.flagged_words: set[str] = {"forbidden"}
        self.moderation_status = 200
        self._routes = Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/v1/completions", self._completions, methods=["POST"]),
                Route("/v1/embeddings", self._embeddings, methods=["POST"]),
                Route("/v1/responses", self._responses, methods=["POST"]),
                Route("/v1/messages", self._messages, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
                Route("/v1/moderations", self._moderations, methods=["POST"]),
                Route("/v1beta/models/{target}", self._gemini, methods=["POST"]),
                # Azure OpenAI: the deployment in the path, the API version in the query.
                Route(
                    "/openai/deployments/{deployment}/chat/completions",
                    self._chat,
                    methods=["POST"],
                ),
            ]
        )

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            await self._serve(scope, receive, send)

        # A plain coroutine function: uvicorn takes a bound method for an ASGI 2 app.
        self.app = app

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A queued reset is served here, everything else by the routes."""
        if scope["type"] == "http" and self.failures:
            failure = self.failures.take(scope["path"])
            if failure is not None and failure.kind == "reset":
                body = b""
                while (message := await receive())["type"] == "http.request":
                    body += message.get("body", b"")
                    if not message.get("more_body"):
                        break
                self._record(scope["method"], scope["path"], scope, body)
                await reset(send)
                return
            scope = {**scope, _FAILURE: failure}
        await self._routes(scope, receive, send)

    @asynccontextmanager
    async def run(self) -> AsyncIterator[str]:
        """Serve on loopback; yields the base URL."""
        async with serve(self.app) as url:
            self.url = url
            yield url

    def fail_next(
        self,
        status: int,
        times: int = 1,
        retry_after: str | None = None,
        *,
        path: str | None = None,
    ) -> None:
        """Answer the next ``times`` calls (to ``path``) with ``status`` (and ``Retry-After``)."""
        self.failures.add(Failure("status", status, retry_after, path=path), times)

    def stall_next(self, seconds: float, times: int = 1, *, path: str | None = None) -> None:
        """Wait ``seconds`` before answering the next ``times`` calls (to ``path``)."""
        self.failures.add(Failure("stall", seconds=seconds, path=path), times)

    def reset_next(self, times: int = 1, *, path: str | None = None) -> None:
        """Close the connection of the next ``times`` calls (to ``path``) unanswered."""
        self.failures.add(Failure("reset", path=path), times)

    @property
    def last(self) -> ReceivedCall:
        """The most recent request."""
        return self.calls[-1]

    def _record(self, method: str, path: str, scope: Scope, body: bytes) -> None:
        if self.record:
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            query = scope.get("query_string", b"").decode("latin-1")
            self.calls.append(ReceivedCall(method, path, query, headers, body))

    async def _receive(self, request: Request) -> tuple[dict[str, Any], Knobs]:
        body = await request.body()
        self._record(request.method, request.url.path, request.scope, body)
        data = orjson.loads(body) if body else {}
        knobs = Knobs.from_request(request)
        failure: Failure | None = request.scope.get(_FAILURE)
        if failure is not None and failure.kind == "stall":
            await asyncio.sleep(failure.seconds)
        elif failure is not None:
            knobs.status, knobs.retry_after = failure.status, failure.retry_after
        return data, knobs

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
            return knobs.error(wire.openai_error(knobs.status))
        model = str(data.get("model", "gpt-4o-mini"))
        if model.startswith("fake-error-") and model[11:].isdigit():
            return json_response(wire.openai_error(int(model[11:])), int(model[11:]))
        if model.startswith("fake-delay-") and model[11:].isdigit():
            await asyncio.sleep(int(model[11:]) / 1000)
        prompt = wire.count_words(data.get("messages"))
        function = chosen_function(data)
        stream = bool(data.get("stream"))
        include_usage = bool((data.get("stream_options") or {}).get("include_usage"))
        override = request.headers.get("x-fake-tool-arguments")
        if function is not None and stream:
            events = openai_tool_stream(model, prompt, function, override, include_usage)
            return knobs.stream(sse([(None, e) for e in events]))
        if function is not None:
            return await knobs.json(openai_tool_call(model, prompt, function, override))
        if stream:
            events = wire.openai_chat_stream(model, prompt, knobs.cache_read, include_usage)
            return knobs.stream(sse([(None, e) for e in events]))
        return await knobs.json(wire.openai_chat(model, prompt, knobs.cache_read))

    async def _completions(self, request: Request) -> Response:
        data, knobs = await self._receive(request)
        if knobs.status >= 400:
            return knobs.error(wire.openai_error(knobs.status))
        model = str(data.get("model", "gpt-3.5-turbo-instruct"))
        prompt = wire.count_words(data.get("prompt"))
        if data.get("stream"):
            include_usage = bool((data.get("stream_options") or {}).get("include_usage"))
            events = wire.openai_completion_stream(model, prompt, include_usage)
            return knobs.stream(sse([(None, e) for e in events]))
        return await knobs.json(wire.openai_completion(model, prompt))

    async def _embeddings(self, request: Request) -> Response:
        data, knobs = await self._receive(request)
        if knobs.status >= 400:
            return knobs.error(wire.openai_error(knobs.status))
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
            return knobs.error(wire.openai_error(knobs.status))
        model = str(data.get("model", "gpt-4o-mini"))
        prompt = wire.count_words(data.get("input")) + wire.count_words(data.get("instructions"))
        function = chosen_responses_function(data)
        override = request.headers.get("x-fake-tool-arguments")
        if function is not None and data.get("stream"):
            events = tool_use.responses_function_call_stream(model, prompt, function, override)
            return knobs.stream(sse(events))
        if function is not None:
            return await knobs.json(
                tool_use.responses_function_call(model, prompt, function, override)
            )
        if data.get("stream"):
            return knobs.stream(sse(wire.responses_stream(model, prompt, knobs.cache_read)))
        return await knobs.json(wire.responses_body(model, prompt, knobs.cache_read))

    async def _messages(self, request: Request) -> Response:
        data, knobs = await self._receive(request)
        if knobs.status >= 400:
            return knobs.error(wire.anthropic_error(knobs.status))
        problem = anthropic_problem(data)
        if problem is not None:
            error = {"type": "invalid_request_error", "message": problem}
            return json_response({"type": "error", "error": error}, 400)
        model = str(data["model"])
        prompt = wire.count_words(data.get("messages")) + wire.count_words(data.get("system"))
        tool = chosen_anthropic_tool(data)
        override = request.headers.get("x-fake-tool-arguments")
        if tool is not None and data.get("stream"):
            return knobs.stream(sse(tool_use.anthropic_tool_stream(model, prompt, tool, override)))
        if tool is not None:
            return await knobs.json(tool_use.anthropic_tool_use(model, prompt, tool, override))
        if data.get("stream"):
            return knobs.stream(sse(wire.anthropic_stream(model, prompt, knobs.cache_read)))
        return await knobs.json(wire.anthropic_message(model, prompt, knobs.cache_read))

    async def _gemini(self, request: Request) -> Response:
        data, knobs = await self._receive(request)
        if knobs.status >= 400:
            return knobs.error(gemini.gemini_error(knobs.status))
        model, _, method = request.path_params["target"].partition(":")
        if method not in ("generateContent", "streamGenerateContent"):
            return json_response(gemini.gemini_error(404, f"unknown method {method!r}"), 404)
        problem = gemini_problem(data)
        if problem is not None:
            return json_response(gemini.gemini_error(400, problem), 400)
        system = (data.get("systemInstruction") or data.get("system_instruction") or {}).get(
            "parts"
        )
        prompt = sum(wire.count_words(c.get("parts")) for c in data["contents"]) + wire.count_words(
            system
        )
        override = request.headers.get("x-fake-tool-arguments")
        answer, chunks = gemini.gemini_answer(data, model, prompt, knobs.cache_read, override)
        if method == "streamGenerateContent":
            if request.query_params.get("alt") != "sse":  # without it Google streams a JSON array
                return json_response(
                    gemini.gemini_error(400, "the fake streams with alt=sse only"), 400
                )
            return knobs.stream(sse([(None, c) for c in chunks]))
        return await knobs.json(answer)

    async def _moderations(self, request: Request) -> Response:
        data, _ = await self._receive(request)
        if self.moderation_status >= 400:
            return json_response(wire.openai_error(self.moderation_status), self.moderation_status)
        inputs = data.get("input")
        texts = inputs if isinstance(inputs, list) else [inputs]
        results = []
        for text in texts:
            words = set(str(text).lower().split())
            flagged = bool(words & self.flagged_words)
            results.append(
                {
                    "flagged": flagged,
                    "categories": {"violence": flagged},
                    "category_scores": {"violence": 0.99 if flagged else 0.01},
                }
            )
        return json_response(
            {"id": "modr-fake", "model": "omni-moderation-latest", "results": results}
        )

    async def _models(self, request: Request) -> Response:
        await self._receive(request)
        return json_response({"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model"}]})
