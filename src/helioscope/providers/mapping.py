"""How one call's bodies are mapped between the client's API and the provider's wire format.

The client speaks OpenAI chat, OpenAI Responses, or Anthropic Messages (passed through
unchanged, Helicone's ``NO_MAPPING``); the provider speaks OpenAI's, Anthropic's or Gemini's
format. Where they agree the bodies pass untouched and a stream is relayed byte for byte;
otherwise the request is mapped before it is sent, and the answer as it arrives: a JSON body
whole, a stream event by event (``StreamMapper``), so the first token reaches the client as
soon as the provider sends it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson

from helioscope.providers import errors
from helioscope.providers.anthropic_chat import (
    AnthropicChunks,
    anthropic_to_chat,
    chat_to_anthropic,
)
from helioscope.providers.catalog import ProviderSpec, Wire
from helioscope.providers.chat_parts import ChatChunks, MappingError
from helioscope.providers.gemini_chat import GeminiChunks, chat_to_gemini, gemini_to_chat
from helioscope.providers.response_format import chat_response_format, json_tool_of
from helioscope.providers.responses_chat import chat_to_responses, responses_to_chat
from helioscope.providers.responses_stream import ResponsesEvents
from helioscope.providers.sse import SSE_DONE, SseDecoder, sse_data


class Api(StrEnum):
    """What the client speaks."""

    CHAT = "chat"  # POST /v1/chat/completions
    RESPONSES = "responses"  # POST /v1/responses
    MESSAGES = "messages"  # POST /v1/messages, passed through (NO_MAPPING)


@dataclass(frozen=True, slots=True)
class Mapping:
    """The mapping of one attempt: the client's API, the provider, and the client's request."""

    api: Api
    spec: ProviderSpec
    request: dict[str, Any]  # the client's body (model set to the provider's name for it)
    created: int  # ``created`` of the chat objects made here

    @property
    def native(self) -> bool:
        """True when the provider speaks the client's API: bodies pass through unchanged."""
        if self.api is Api.CHAT:
            return self.spec.wire is Wire.OPENAI
        if self.api is Api.RESPONSES:
            return self.spec.responses_path is not None
        return self.spec.wire is Wire.ANTHROPIC

    @property
    def stream(self) -> bool:
        """True when the client asked for a stream."""
        return self.request.get("stream") is True

    def path(self, model: str, config: dict[str, str]) -> str:
        """The provider path for this call."""
        if self.api is Api.RESPONSES and self.spec.responses_path is not None:
            return self.spec.responses_path
        return self.spec.upstream_path(model, self.stream, config)

    def provider_body(self) -> dict[str, Any]:
        """The body to send the provider; ``MappingError`` when it cannot be expressed."""
        if self.native:
            return self.request
        if self.api is Api.MESSAGES:
            raise MappingError(
                f"{self.spec.id} does not speak Anthropic's Messages format, and /v1/messages "
                "passes bodies through unchanged (NO_MAPPING): use /v1/chat/completions"
            )
        chat = self.request if self.api is Api.CHAT else responses_to_chat(self.request)
        if self.spec.wire is Wire.ANTHROPIC:
            return chat_to_anthropic(chat, str(self.request.get("model")))
        if self.spec.wire is Wire.GEMINI:
            return chat_to_gemini(chat)
        return chat

    def client_body(self, raw: bytes, status: int) -> bytes:
        """The provider's whole JSON answer in the client's API (errors in OpenAI's shape)."""
        if self.native:
            return raw
        try:
            body = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            return raw  # not JSON (a proxy's error page): nothing to map
        if status >= 400:
            return orjson.dumps(self._error(body, status))
        if self.spec.wire is Wire.ANTHROPIC:
            body = anthropic_to_chat(body, self.created, self._json_tool())
        elif self.spec.wire is Wire.GEMINI:
            body = gemini_to_chat(body, self.created)
        if self.api is Api.RESPONSES:
            body = chat_to_responses(body, self.request, self.created)
        return orjson.dumps(body)

    def _json_tool(self) -> str | None:
        """The tool Anthropic answers a ``response_format`` (Responses: ``text.format``) in."""
        if self.api is Api.CHAT:
            return json_tool_of(self.request)
        try:
            wanted = chat_response_format(self.request.get("text"))
        except MappingError:
            return None  # (such a request was refused before it was sent)
        return json_tool_of({"response_format": wanted}) if wanted is not None else None

    def _error(self, body: Any, status: int) -> dict[str, Any]:
        if self.spec.wire is Wire.ANTHROPIC:
            return errors.from_anthropic(body, status)
        if self.spec.wire is Wire.GEMINI:
            return errors.from_gemini(body, status)
        return body if isinstance(body, dict) else errors.openai_error(str(body), status)

    def stream_mapper(self) -> StreamMapper | None:
        """The mapper of the provider's stream, or None when it is relayed as is."""
        if self.native:
            return None
        if self.api is Api.RESPONSES:
            chunks = self._chunks(include_usage=True)
            return StreamMapper(chunks, ResponsesEvents(self.request, self.created))
        options = self.request.get("stream_options")
        include_usage = isinstance(options, dict) and options.get("include_usage") is True
        return StreamMapper(self._chunks(include_usage), None)

    def _chunks(self, include_usage: bool) -> ChatChunks | None:
        if self.spec.wire is Wire.ANTHROPIC:
            return AnthropicChunks(include_usage, self.created, self._json_tool())
        if self.spec.wire is Wire.GEMINI:
            return GeminiChunks(include_usage, self.created)
        return None  # the provider streams chat chunks already


class StreamMapper:
    """Maps a provider's SSE stream to the client's, one network chunk at a time."""

    __slots__ = ("_chunks", "_decoder", "_responses")

    def __init__(self, chunks: ChatChunks | None, responses: ResponsesEvents | None) -> None:
        self._decoder = SseDecoder()
        self._chunks = chunks
        self._responses = responses

    def feed(self, data: bytes) -> bytes:
        """The client's bytes for what the provider sent (maybe none: an event is incomplete)."""
        return b"".join(self._events(self._decoder.feed(data)))

    def _events(self, events: list[bytes]) -> list[bytes]:
        out: list[bytes] = []
        for event in events:
            if not event or event == b"[DONE]":
                continue
            try:
                payload = orjson.loads(event)
            except orjson.JSONDecodeError:
                continue  # keep-alive comments and the like
            if isinstance(payload, dict):
                out += self._emit(self._chunks.feed(payload) if self._chunks else [payload])
        return out

    def close(self) -> bytes:
        """What the client is owed once the provider's stream has ended."""
        out = self._events(self._decoder.close())
        if self._chunks is not None:
            out += self._emit(self._chunks.close())
        if self._responses is not None:
            out += [sse_data(data, name) for name, data in self._responses.close()]
        else:
            out.append(SSE_DONE)
        return b"".join(out)

    def _emit(self, chunks: list[dict[str, Any]]) -> list[bytes]:
        if self._responses is None:
            return [sse_data(chunk) for chunk in chunks]
        return [
            sse_data(data, name) for chunk in chunks for name, data in self._responses.feed(chunk)
        ]
