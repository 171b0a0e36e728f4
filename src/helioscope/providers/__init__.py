"""Provider families: how to recognise each, and how to read usage from its bodies and streams."""

from helioscope.providers.registry import (
    ANTHROPIC,
    CUSTOM,
    GOOGLE,
    OPENAI,
    ProviderFormat,
    provider_for_target,
    provider_named,
)
from helioscope.providers.sse import SseEvent, parse_sse
from helioscope.providers.usage import ParsedResponse, Usage

__all__ = [
    "ANTHROPIC",
    "CUSTOM",
    "GOOGLE",
    "OPENAI",
    "ParsedResponse",
    "ProviderFormat",
    "SseEvent",
    "Usage",
    "parse_sse",
    "provider_for_target",
    "provider_named",
]
