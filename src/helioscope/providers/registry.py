"""Which provider a call goes to, and how to read its responses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from helioscope.providers import anthropic, google, openai
from helioscope.providers.sse import SseEvent
from helioscope.providers.usage import ParsedResponse


@dataclass(frozen=True, slots=True)
class ProviderFormat:
    """A provider family: the name Helicone logs and the parsers for its wire format."""

    name: str  # Helicone's provider name: OPENAI, ANTHROPIC, …
    price_id: str | None  # genai-prices provider id; None lets it match on the model alone
    parse_body: Callable[[Any], ParsedResponse]
    parse_stream: Callable[[list[SseEvent]], ParsedResponse]
    # parse_body's model and usage straight from a non-streamed body's bytes (body left None).
    parse_raw: Callable[[bytes], ParsedResponse]


OPENAI = ProviderFormat(
    "OPENAI", "openai", openai.parse_body, openai.parse_stream, openai.parse_raw
)
ANTHROPIC = ProviderFormat(
    "ANTHROPIC", "anthropic", anthropic.parse_body, anthropic.parse_stream, anthropic.parse_raw
)
GOOGLE = ProviderFormat(
    "GOOGLE", "google", google.parse_body, google.parse_stream, google.parse_raw
)
CUSTOM = ProviderFormat("CUSTOM", None, openai.parse_body, openai.parse_stream, openai.parse_raw)

# Provider names a client may give (the async log API's `provider`), to their formats.
BY_NAME: dict[str, ProviderFormat] = {"OPENAI": OPENAI, "ANTHROPIC": ANTHROPIC, "GOOGLE": GOOGLE}

# Helicone infers the provider of a gateway target from its host; most third-party hosts speak
# the OpenAI format, so that is the parser for anything we do not recognise.
_HOST_HINTS: tuple[tuple[str, str, str | None], ...] = (
    ("anthropic", "ANTHROPIC", "anthropic"),
    ("openai.azure", "AZURE", "azure"),
    ("azure", "AZURE", "azure"),
    ("openai", "OPENAI", "openai"),
    ("googleapis", "GOOGLE", "google"),
    ("groq", "GROQ", "groq"),
    ("together", "TOGETHER", "together"),
    ("openrouter", "OPENROUTER", "openrouter"),
    ("fireworks", "FIREWORKS", "fireworks"),
    ("deepseek", "DEEPSEEK", "deepseek"),
    ("mistral", "MISTRAL", "mistral"),
    ("x.ai", "X", "x-ai"),
    ("perplexity", "PERPLEXITY", "perplexity"),
    ("cohere", "COHERE", "cohere"),
)


def provider_for_target(target_url: str) -> ProviderFormat:
    """The provider behind a ``Helicone-Target-URL`` origin."""
    host = (urlsplit(target_url).hostname or "").lower()
    for hint, name, price_id in _HOST_HINTS:
        if hint in host:
            if name in BY_NAME:
                return BY_NAME[name]
            return ProviderFormat(
                name, price_id, openai.parse_body, openai.parse_stream, openai.parse_raw
            )
    return CUSTOM


# Helicone's `ProviderName` values (its OpenAPI document), plus CUSTOM.
KNOWN_PROVIDERS = frozenset(
    "OPENAI ANTHROPIC AZURE LOCAL HELICONE AMDBARTEK ANYSCALE CLOUDFLARE 2YFV TOGETHER LEMONFOX "
    "FIREWORKS PERPLEXITY GOOGLE OPENROUTER WISDOMINANUTSHELL GROQ COHERE MISTRAL DEEPINFRA "
    "QSTASH FIRECRAWL AWS DEEPSEEK X AVIAN NEBIUS NOVITA CUSTOM".split()
)
_PRICE_IDS = {
    "AZURE": "azure",
    "GROQ": "groq",
    "TOGETHER": "together",
    "MISTRAL": "mistral",
    "DEEPSEEK": "deepseek",
    "X": "x-ai",
    "COHERE": "cohere",
    "FIREWORKS": "fireworks",
    "OPENROUTER": "openrouter",
    "PERPLEXITY": "perplexity",
    "AWS": "aws",
}


def provider_named(name: str) -> ProviderFormat | None:
    """The format for one of Helicone's provider names, or None for an unknown name.

    The many OpenAI-compatible providers are read with OpenAI's wire format.
    """
    upper = name.strip().upper()
    if upper in BY_NAME:
        return BY_NAME[upper]
    if upper not in KNOWN_PROVIDERS:
        return None
    if upper == "CUSTOM":
        return CUSTOM
    return ProviderFormat(
        upper, _PRICE_IDS.get(upper), openai.parse_body, openai.parse_stream, openai.parse_raw
    )
