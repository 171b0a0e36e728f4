"""The gateway-control headers of one call, read and validated before anything is sent upstream.

``parse_controls`` returns None when no control header is present, which is what keeps a plain
call exactly as fast as before: the only cost is one prefix test per ``Helicone-*`` header.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from helioscope.errors import BadRequest
from helioscope.gateway.controls._fallbacks import Fallback, parse_fallbacks
from helioscope.gateway.controls._ratelimit import RatePolicy, parse_policy
from helioscope.gateway.upstream import Header, header_name, text_header

CONTROL_PREFIXES = (
    "helicone-cache",
    "helicone-ratelimit-policy",
    "helicone-retry",
    "helicone-fallbacks",
    "helicone-moderations-enabled",
    "helicone-llm-security",
    "helicone-prompt-security",
    "helicone-token-limit-exception-handler",
)
# The same names as bytes, for the proxy's single pass over the raw headers.
CONTROL_PREFIXES_RAW = tuple(p.encode() for p in CONTROL_PREFIXES)
DEFAULT_MAX_AGE = 7 * 24 * 3600  # Helicone's default cache TTL
MAX_MAX_AGE = 365 * 24 * 3600
MAX_BUCKET_SIZE = 20
_MAX_AGE = re.compile(r"(?:^|[,\s])s?-?max-?age=(\d+)", re.IGNORECASE)
TOKEN_LIMIT_HANDLERS = ("truncate", "middle-out", "fallback")


@dataclass(frozen=True, slots=True)
class CacheSettings:
    """Helicone-Cache-* as Helicone reads them."""

    read: bool
    save: bool
    max_age: int
    bucket_size: int
    seed: str | None
    ignore_keys: tuple[str, ...]
    key_headers: tuple[tuple[str, str], ...]  # the headers that enter the cache key


@dataclass(frozen=True, slots=True)
class RetrySettings:
    """Helicone-Retry-*: exponential backoff (async-retry's parameters and defaults)."""

    retries: int = 5
    factor: float = 2.0
    min_timeout_ms: float = 1000.0
    max_timeout_ms: float = 10000.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based)."""
        return min(self.min_timeout_ms * self.factor**attempt, self.max_timeout_ms) / 1000


@dataclass(slots=True)
class Controls:
    """Which controls a call turned on, with their settings."""

    cache: CacheSettings | None = None
    rate_limit: RatePolicy | None = None
    retry: RetrySettings | None = None
    fallbacks: list[Fallback] | None = None
    moderation: bool = False
    security: bool = False
    token_limit: str | None = None
    raw: dict[str, str] = field(default_factory=dict)


def _flag(value: str | None) -> bool:
    return value is not None and value.strip().lower() == "true"


def _number(raw: dict[str, str], name: str, default: float) -> float:
    value = raw.get(name)
    if value is None or not value.strip():
        return default
    try:
        number = float(value)
    except ValueError:
        raise BadRequest(f"{name} must be a number, got {value!r}") from None
    if number < 0:
        raise BadRequest(f"{name} must not be negative, got {value!r}")
    return number


def _max_age(control: str | None) -> int:
    if not control:
        return DEFAULT_MAX_AGE
    match = _MAX_AGE.search(control)
    if match is None:
        return DEFAULT_MAX_AGE
    return min(int(match.group(1)), MAX_MAX_AGE)


def _cache(
    raw: dict[str, str], cache_control: str | None, authorization: str | None
) -> CacheSettings | None:
    enabled = _flag(raw.get("helicone-cache-enabled"))
    read = enabled or _flag(raw.get("helicone-cache-read"))
    save = enabled or _flag(raw.get("helicone-cache-save"))
    if not (read or save):
        return None
    size_text = raw.get("helicone-cache-bucket-max-size", "1").strip() or "1"
    if not size_text.isdigit() or not 1 <= int(size_text) <= MAX_BUCKET_SIZE:
        raise BadRequest(
            f"Helicone-Cache-Bucket-Max-Size must be an integer from 1 to {MAX_BUCKET_SIZE},"
            f" got {size_text!r}"
        )
    ignore = tuple(
        k.strip() for k in raw.get("helicone-cache-ignore-keys", "").split(",") if k.strip()
    )
    key_headers = [(k, v) for k, v in raw.items() if k.startswith("helicone-cache")]
    key_headers += [(k, v) for k, v in raw.items() if k == "helicone-auth"]
    if authorization is not None and not any(p.startswith("ya29.") for p in authorization.split()):
        key_headers.append(("authorization", authorization))
    return CacheSettings(
        read=read,
        save=save,
        max_age=_max_age(raw.get("helicone-cache-control") or cache_control),
        bucket_size=int(size_text),
        seed=raw.get("helicone-cache-seed"),
        ignore_keys=ignore,
        key_headers=tuple(sorted(key_headers)),  # a JS Headers object iterates sorted by name
    )


def _retry(raw: dict[str, str]) -> RetrySettings | None:
    if not _flag(raw.get("helicone-retry-enabled")):
        return None
    defaults = RetrySettings()
    return RetrySettings(
        retries=int(_number(raw, "helicone-retry-num", defaults.retries)),
        factor=_number(raw, "helicone-retry-factor", defaults.factor),
        min_timeout_ms=_number(raw, "helicone-retry-min-timeout", defaults.min_timeout_ms),
        max_timeout_ms=_number(raw, "helicone-retry-max-timeout", defaults.max_timeout_ms),
    )


def _token_limit(raw: dict[str, str]) -> str | None:
    value = raw.get("helicone-token-limit-exception-handler")
    if value is None or not value.strip():
        return None
    handler = value.strip().lower()
    if handler not in TOKEN_LIMIT_HANDLERS:
        raise BadRequest(
            "Helicone-Token-Limit-Exception-Handler must be one of "
            f"{', '.join(TOKEN_LIMIT_HANDLERS)}, got {value!r}"
        )
    return handler


def parse_controls(
    helicone: list[tuple[str, str]],
    forward: Sequence[Header],
    authorization: str | None,
) -> Controls | None:
    """The controls named by the call's headers, or None when it names none.

    ``helicone`` are the call's ``Helicone-*`` headers (lower-case names), ``forward`` the others.
    Raises ``BadRequest`` with Helicone's wording for a malformed control header.
    """
    if not any(name.startswith(CONTROL_PREFIXES) for name, _ in helicone):
        return None
    raw = {name: value for name, value in helicone}
    cache_control = next(
        (text_header(h)[1] for h in forward if header_name(h) == "cache-control"), None
    )
    policy = raw.get("helicone-ratelimit-policy")
    fallbacks = raw.get("helicone-fallbacks")
    return Controls(
        cache=_cache(raw, cache_control, authorization),
        rate_limit=parse_policy(policy) if policy is not None else None,
        retry=_retry(raw),
        fallbacks=parse_fallbacks(fallbacks) if fallbacks is not None else None,
        moderation=_flag(raw.get("helicone-moderations-enabled")),
        security=_flag(raw.get("helicone-llm-security-enabled"))
        or _flag(raw.get("helicone-prompt-security-enabled")),
        token_limit=_token_limit(raw),
        raw=raw,
    )
