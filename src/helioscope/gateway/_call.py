"""One call through the gateway: what the controls, the upstream attempts and the relay share.

A ``Call`` is made once the request is accepted (key, body, control headers read). Its
``plan`` gives the upstream attempts, in order: one for a plain proxied call, one per
``Helicone-Fallbacks`` entry, one per provider of an AI Gateway model chain. The plan is made
after the controls have run, because they may change the body (token limits).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from helioscope._asgi import Send, send_json, send_json_body
from helioscope.gateway.upstream import Header
from helioscope.ingest import CallCapture
from helioscope.providers import ProviderFormat
from helioscope.providers.errors import anthropic_error, openai_error
from helioscope.providers.mapping import Mapping

if TYPE_CHECKING:  # the controls import this module
    from helioscope.gateway.controls._options import Controls

Headers = list[tuple[bytes, bytes]]


def _never(status: int) -> bool:
    return False


def retryable(status: int) -> bool:
    """A status that may go away on another try or another provider: 429 and 5xx."""
    return status == 429 or status >= 500


@dataclass(slots=True)
class Attempt:
    """One upstream request to make, and how its answer reaches the client."""

    method: str
    url: str
    headers: Sequence[Header]  # the client's, as parsed, and the gateway's text ones
    body: bytes
    provider: ProviderFormat  # reads the answer for the log (usage, model, cost)
    moves_on: Callable[[int], bool] = _never  # this status sends the call to the next attempt
    mapping: Mapping | None = None  # AI Gateway: maps the answer to the client's API
    # ``body`` parsed, when the gateway made it; for a mapped AI Gateway attempt, only what the
    # log reads of the client's request (model and user: the provider's body may lack them).
    request_json: Any = None
    label: str = ""  # how response headers name the attempt (AI Gateway: the provider)
    # The URL's origin was configured (a provider route's base URL, the AI Gateway's catalog or
    # an organization's provider key), not named by the caller: the egress policy lets it be.
    vetted: bool = False


class ErrorStyle:
    """How the gateway writes its own errors: Helicone's envelope, or a provider API's shape."""

    def body(self, status: int, message: str) -> Any:
        """The error body."""
        return {"data": None, "error": message}

    async def send(self, send: Send, status: int, message: str, headers: Headers) -> None:
        """Answer with an error (before a call was accepted: ``Call.fail`` logs one after)."""
        await send_json(send, status, self.body(status, message), headers)


class OpenAiErrors(ErrorStyle):
    """OpenAI's ``{"error": {"message", "type", "param", "code"}}`` (AI Gateway routes)."""

    def body(self, status: int, message: str) -> Any:
        """The error body."""
        return openai_error(message, status)


class AnthropicErrors(OpenAiErrors):
    """Anthropic's ``{"type": "error", "error": {"type", "message"}}`` (``/v1/messages``)."""

    def body(self, status: int, message: str) -> Any:
        """The error body."""
        return anthropic_error(message, status)


HELICONE_ERRORS = ErrorStyle()


@dataclass(slots=True)
class Call:
    """A call accepted by the gateway, from its controls to its log record."""

    method: str
    capture: CallCapture
    plan: Callable[[], list[Attempt]]
    controls: Controls | None = None
    errors: ErrorStyle = HELICONE_ERRORS
    # The URL in the cache key. For the proxy routes, the upstream URL (replicas reached under
    # other host names share one cache); for the AI Gateway, its own path.
    cache_url: str = ""
    # Where moderation calls go (origin, headers with an OpenAI key), when they can.
    moderation: tuple[str, Sequence[Header]] | None = None
    screenable: bool = False  # an OpenAI chat body: LLM security and moderation apply
    extra: Headers = field(default_factory=list)  # response headers the gateway adds
    # How many of ``extra``, leading, hold only what needs no check for a response head: the
    # Helicone-Id (ours, or a client's id that passed as a UUID). The server checks the rest.
    checked_extra: int = 0
    # Set by the controls before the call, read by them after it.
    # (Empty tuples, not lists, as defaults: a plain call builds no list it will not use.)
    free_cache_keys: Sequence[str] = ()
    bucket: str | None = None  # the rate-limit bucket the call drew from
    stored_headers: Sequence[tuple[str, str]] = ()  # for the cache entry
    client_chunks: list[bytes] | None = None  # what the client got, when it was mapped

    def identify(self) -> None:
        """Add the Helicone-Id response header, first of ``extra`` and needing no check.

        The id is ours, or a client's that passed as a UUID (``is_valid_request_id``).
        """
        self.extra.append((b"helicone-id", self.capture.request_id.encode()))
        self.checked_extra = 1

    async def fail(self, send: Send, status: int, message: str) -> None:
        """Answer with the gateway's own error, logged as the call's response.

        The log gets the body the client gets: without it, a call refused after it was
        accepted (a chain none of whose entries can take the body, an upstream that timed
        out) would be a row with a status and an empty response. The logged status is the
        caller's to set when it is Helicone's own (-1 for a timeout answered 504); unset, it
        is the one sent.
        """
        self.capture.error = self.capture.error or message
        await self.answer(send, status, self.error_body(status, message))

    def error_body(self, status: int, message: str) -> bytes:
        """The gateway's own error, in the shape the caller's SDK reads."""
        return orjson.dumps(self.errors.body(status, message))

    async def answer(self, send: Send, status: int, body: bytes) -> None:
        """Send a JSON answer of the gateway's own, recorded in the capture first.

        First, because the call is journalled just before its last message goes out
        (``gateway._disconnect``).
        """
        self.record(status, body)
        await send_json_body(send, status, body, self.extra)

    def record(self, status: int, body: bytes) -> None:
        """Log ``body`` as the response (a provider's unreadable one gives way to it)."""
        capture = self.capture
        capture.status = capture.status or status
        capture.chunks = [body]
        capture.is_stream, capture.content_encoding = False, None
        capture.ended = capture.ended or time.perf_counter()
        self.client_chunks = None

    def answered_chunks(self) -> list[bytes]:
        """The response as the client received it (for the cache)."""
        return self.client_chunks if self.client_chunks is not None else self.capture.chunks
