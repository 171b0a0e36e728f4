"""Token usage in one shape for every provider."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import msgspec
import orjson


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
    # The JSON body, or for streams the message rebuilt from its chunks; None from a provider's
    # ``parse_raw``, which reads the model and usage without building the body.
    body: Any


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


# What a typed decode (a provider's ``parse_raw``) admits for a token count: an int of 64 bits
# or null, which as_int leaves as it is (the counts need no call then). Anything else fails
# validation and the body is read whole (``parse_json``), as before: a float (as_int's to
# round), a bool, a string, an object, and an int beyond 64 bits (orjson reads it as a float,
# msgspec exactly; msgspec bounds no wider than int64, so 2**63 and up go that way too).
Count = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)] | None


_T = TypeVar("_T")


def raw_parser(
    body_type: type[_T],
    read: Callable[[_T], tuple[Any, Usage]],
    parse_body: Callable[[Any], ParsedResponse],
) -> Callable[[bytes], ParsedResponse]:
    """A provider's ``parse_raw``: model and usage of a non-streamed answer's raw bytes.

    ``parse_body``'s, with the body left None. Only ``body_type`` (a struct of the model and
    usage) is built, the rest of the answer skipped; ``read`` gives its model (kept when a
    string) and usage. A body the struct does not admit (not JSON, not an object, a count
    that is a string…) is read whole by ``parse_body`` instead (``parse_json``). A byte that
    is not UTF-8, or a number out of range, in a value skipped does not cost the model and
    usage (orjson refused such a body whole: the row had neither).
    """
    decode = msgspec.json.Decoder(body_type).decode

    def parse_raw(raw: bytes) -> ParsedResponse:
        try:
            body = decode(raw)
        except (msgspec.DecodeError, RecursionError):  # ValidationError is a DecodeError
            return parse_json(raw, parse_body)
        model, usage = read(body)
        return ParsedResponse(model if isinstance(model, str) else None, usage, None)

    return parse_raw


def parse_json(raw: bytes, parse_body: Callable[[Any], ParsedResponse]) -> ParsedResponse:
    """Model and usage of a raw body read whole: for what a typed decode did not take.

    A body that is not JSON has neither; ``body`` is None, as ``parse_raw`` leaves it.
    """
    try:
        body = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        return ParsedResponse(None, Usage(), None)
    parsed = parse_body(body)
    parsed.body = None
    return parsed
