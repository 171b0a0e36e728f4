"""Plain records that cross the store's boundary. No SQLAlchemy types leak out of ``store/``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

# The log keeps cost as an integer of USD x 1e9 (Helicone's unit); this is the one factor.
NANO_USD = 1_000_000_000


@dataclass(slots=True)
class Organization:
    """An organization: the unit every query is scoped to."""

    id: str
    name: str
    created_at: dt.datetime


@dataclass(slots=True, frozen=True)
class ApiKey:
    """A stored API key (its hash only) and what it may do."""

    id: int
    organization_id: str
    name: str
    permissions: str  # "rw", "r" or "w"


@dataclass(slots=True, frozen=True)
class NewApiKey:
    """A key just created: the clear text exists only here, once."""

    id: int
    organization_id: str
    key: str


@dataclass(slots=True)
class LogRow:
    """One logged call, ready to be written to the request log."""

    request_id: str
    organization_id: str
    request_created_at: dt.datetime
    status: int
    provider: str
    model: str = ""
    response_created_at: dt.datetime | None = None
    latency: int | None = None
    time_to_first_token: int | None = None
    request_model: str | None = None
    response_model: str | None = None
    model_override: str | None = None
    user_id: str | None = None
    target_url: str | None = None
    path: str | None = None
    is_stream: bool = False
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    prompt_cache_read_tokens: int | None = None
    prompt_cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None
    prompt_audio_tokens: int | None = None
    completion_audio_tokens: int | None = None
    cost: int | None = None  # USD x NANO_USD
    cache_enabled: bool = False
    cache_reference_id: str | None = None
    threat: bool | None = None
    country_code: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    scores: dict[str, Any] = field(default_factory=dict)
    prompt_id: str | None = None
    prompt_version: str | None = None
    request_body: str | None = None
    response_body: str | None = None
    request_body_size: int | None = None
    response_body_size: int | None = None
    request_referrer: str | None = None
    helicone_api_key_id: int | None = None
    error: str | None = None
    prompt_inputs: dict[str, Any] | None = None
