"""Token usage in one shape for every provider."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class Usage:
    """Token counts of one call.

    ``prompt_tokens`` counts every input token, cached ones included (OpenAI's convention);
    ``prompt_cache_read_tokens`` and ``prompt_cache_write_tokens`` say how many of them were read
    from or written to the provider's prompt cache.
    """

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    prompt_cache_read_tokens: int | None = None
    prompt_cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None
    prompt_audio_tokens: int | None = None
    completion_audio_tokens: int | None = None


@dataclass(slots=True)
class ParsedResponse:
    """What logging needs from a provider response: the model, usage, and the body to store."""

    model: str | None
    usage: Usage
    body: Any  # the JSON body, or for streams the message rebuilt from its chunks


def as_int(value: Any) -> int | None:
    """An int from a JSON number, or None for anything else (booleans included)."""
    # The usual cases first, by exact class (a bool is not one): every logged call reads ~7.
    if value.__class__ is int:
        return value
    if value is None:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def sub(mapping: Any, *path: str) -> Any:
    """``mapping[a][b]…`` or None when any step is missing or not a mapping."""
    for key in path:
        if not isinstance(mapping, dict):
            return None
        mapping = mapping.get(key)
    return mapping
