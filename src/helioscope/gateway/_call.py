"""One call through the gateway: what the controls, the upstream attempts and the relay share.

A ``Call`` is made once the request is accepted (key, body, control headers read). Its
``plan`` gives the upstream attempts, in order: one for a plain proxied call, one per
``Helicone-Fallbacks`` entry, one per provider of an AI Gateway model chain. The plan is made
after the controls have run, because they may change the body (token limits).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from helioscope._asgi import Send, send_error, send_json
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
        """Answer with an error."""
        await send_error(send, status, message, headers)


class OpenAiErrors(ErrorStyle):
    """OpenAI's ``{"error": {"message", "type", "param", "code"}}`` (AI Gateway routes)."""

    def body(self, status: int, message: str) -> Any:
        """The error body."""
        return openai_error(message, status)

    async def send(self, send: Send, status: int, message: str, headers: Headers) -> None:
        """Answer with an error."""
        await send_json(send, status, self.body(status, message), headers)


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

    def answered_chunks(self) -> list[bytes]:
        """The response as the client received it (for the cache)."""
        return self.client_chunks if self.client_chunks is not None else self.capture.chunks
