"""Helicone-Fallbacks: a list of upstreams to try in order, validated with Helicone's wording."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson

from helioscope.errors import BadRequest

_HEADERS_ERROR = "helicone-fallbacks headers must be an object of string keys and string values"
_CODES_ERROR = "helicone-fallbacks onCodes must be an array of numbers or {from, to} objects"


@dataclass(frozen=True, slots=True)
class Fallback:
    """One entry: where to send the call, with which headers, and on which statuses to move on."""

    target_url: str
    headers: dict[str, str]
    on_codes: tuple[tuple[int, int], ...]  # inclusive ranges
    body_override: dict[str, Any] | None = None

    def moves_on(self, status: int) -> bool:
        """True when ``status`` sends the call to the next entry."""
        return any(low <= status <= high for low, high in self.on_codes)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _codes(raw: Any) -> tuple[tuple[int, int], ...]:
    if not isinstance(raw, list):
        raise BadRequest(_CODES_ERROR)
    codes: list[tuple[int, int]] = []
    for item in raw:
        if _is_number(item):
            codes.append((int(item), int(item)))
        elif isinstance(item, dict) and _is_number(item.get("from")) and _is_number(item.get("to")):
            codes.append((int(item["from"]), int(item["to"])))
        else:
            raise BadRequest(_CODES_ERROR)
    return tuple(codes)


def _entry(raw: Any) -> Fallback:
    if not isinstance(raw, dict) or not all(
        raw.get(k) not in (None, "") for k in ("target-url", "headers", "onCodes")
    ):
        raise BadRequest("helicone-fallbacks must have target-url, headers, and onCodes")
    target = raw["target-url"]
    if not isinstance(target, str):
        raise BadRequest("helicone-fallbacks target-url must be a string")
    parts = urlsplit(target.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadRequest(f"helicone-fallbacks target-url must be an http(s) URL, got {target!r}")
    headers = raw["headers"]
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise BadRequest(_HEADERS_ERROR)
    override = raw.get("bodyKeyOverride")
    if override is not None and not isinstance(override, dict):
        raise BadRequest("helicone-fallbacks bodyKeyOverride must be an object")
    return Fallback(target.strip().rstrip("/"), headers, _codes(raw["onCodes"]), override)


def parse_fallbacks(value: str) -> list[Fallback]:
    """The entries of a ``Helicone-Fallbacks`` header; ``BadRequest`` when malformed."""
    try:
        parsed = orjson.loads(value)
    except orjson.JSONDecodeError:
        raise BadRequest("helicone-fallbacks must be valid JSON") from None
    if not isinstance(parsed, list):
        raise BadRequest("helicone-fallbacks must be an array")
    if not parsed:
        raise BadRequest("helicone-fallbacks must not be empty")
    return [_entry(item) for item in parsed]


def merge_override(body: Any, override: dict[str, Any]) -> Any:
    """``body`` with ``override`` merged in, nested objects merged key by key."""
    if not isinstance(body, dict):
        return override
    merged = dict(body)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_override(merged[key], value)
        else:
            merged[key] = value
    return merged
