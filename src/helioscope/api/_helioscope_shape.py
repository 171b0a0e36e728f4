"""Helioscope's own shapes for its UI routes: everything stored, not only what Helicone declares.

Helicone's routes answer exactly Helicone's documented shapes. The UI needs more (cost, errors,
cache and stream flags, reasoning tokens...), so ``/v1/helioscope/...`` answers these models,
which declare those fields themselves: trimming ``HeliconeRequest`` never trims them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from helioscope.api._fields import Number
from helioscope.api._request_shape import HeliconeRequest, iso, to_helicone_request


class HelioscopeRequest(HeliconeRequest):
    """A logged request: Helicone's fields, plus every stored field Helicone does not declare."""

    cost: Number | None
    is_stream: bool
    threat: bool | None
    error: str | None
    cache_enabled: bool
    cache_reference_id: str | None
    reasoning_tokens: Number | None
    prompt_audio_tokens: Number | None
    completion_audio_tokens: Number | None
    prompt_version: str | None
    updated_at: str | None


def to_helioscope_request(row: dict[str, Any], *, include_body: bool = True) -> HelioscopeRequest:
    """Shape a stored row with every field the UI shows."""
    base = to_helicone_request(row, include_body=include_body).model_dump()
    return HelioscopeRequest(
        **{
            **base,
            "cost": row["cost"],  # the store returns USD
            "is_stream": bool(row["is_stream"]),
            "threat": row["threat"],
            "error": row["error"],
            "cache_enabled": bool(row["cache_enabled"]),
            "cache_reference_id": row["cache_reference_id"],
            "reasoning_tokens": row["reasoning_tokens"],
            "prompt_audio_tokens": row["prompt_audio_tokens"],
            "completion_audio_tokens": row["completion_audio_tokens"],
            "prompt_version": row["prompt_version"],
            "updated_at": iso(row.get("updated_at")),
        }
    )


class RequestPage(BaseModel):
    """A page of requests, and how many match (null when not asked for)."""

    requests: list[HelioscopeRequest]
    total: int | None


class News(BaseModel):
    """What was logged after a moment: how many (at most 1000, ``capped`` past it), the latest.

    ``latest`` keeps microseconds: send it back as ``since`` to ask what came after it.
    """

    count: int
    capped: bool
    latest: str | None


class SessionRow(BaseModel):
    """One session with whole-session totals, its error count and its users."""

    session_id: str
    session_name: str
    created_at: str
    latest_request_created_at: str
    total_requests: int
    error_count: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    total_cost: Number
    avg_latency: Number | None
    user_ids: list[str]


def to_session_row(row: dict[str, Any]) -> SessionRow:
    """Shape a summary row (the store returns its cost in USD)."""
    return SessionRow(
        session_id=row["session_id"],
        session_name=row["session_name"] or "",
        created_at=iso(row["created_at"]) or "",
        latest_request_created_at=iso(row["latest_request_created_at"]) or "",
        total_requests=row["total_requests"],
        error_count=row["error_count"],
        prompt_tokens=row["prompt_tokens"],
        completion_tokens=row["completion_tokens"],
        total_tokens=row["total_tokens"],
        total_cost=row["total_cost"],
        avg_latency=row["avg_latency"],
        user_ids=row["user_ids"],
    )


class SessionPageResult(BaseModel):
    """A page of sessions and how many match."""

    sessions: list[SessionRow]
    total: int


class SessionTrace(BaseModel):
    """One session: its name(s) and its requests in time order."""

    session_id: str
    session_names: list[str]
    requests: list[HelioscopeRequest]
    truncated: bool
