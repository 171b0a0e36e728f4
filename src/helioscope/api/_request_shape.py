"""Helicone's ``HeliconeRequest``: the shape in which the API returns one logged request."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from helioscope.api._fields import Number
from helioscope.api._llm_schema import llm_schema
from helioscope.export.records import body_value

_body = body_value  # one reader of logged bodies for the API and the exports


class HeliconeRequest(BaseModel):
    """One logged request, field for field as Helicone's API returns it."""

    response_id: str | None
    response_created_at: str | None
    response_body: Any = None
    response_status: Number
    response_model: str | None
    request_id: str
    request_created_at: str
    request_body: Any
    request_path: str
    request_user_id: str | None
    request_properties: dict[str, str] | None
    request_model: str | None
    model_override: str | None
    helicone_user: str | None
    provider: str
    delay_ms: Number | None
    time_to_first_token: Number | None
    total_tokens: Number | None
    prompt_tokens: Number | None
    prompt_cache_write_tokens: Number | None
    prompt_cache_read_tokens: Number | None
    completion_tokens: Number | None
    prompt_id: str | None
    feedback_created_at: str | None = None
    feedback_id: str | None = None
    feedback_rating: bool | None = None
    signed_body_url: str | None = None
    llmSchema: Any = None
    country_code: str | None
    asset_ids: list[str] | None
    asset_urls: dict[str, str] | None
    scores: dict[str, Number] | None
    costUSD: Number | None = None
    properties: dict[str, str]
    assets: list[str]
    target_url: str
    model: str


def iso(value: dt.datetime | None) -> str | None:
    """``2026-11-25T06:33:23.123Z``: UTC with milliseconds, as Helicone's API formats times."""
    if value is None:
        return None
    return (
        value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{value.microsecond // 1000:03d}Z"
    )


def to_helicone_request(
    row: dict[str, Any],
    *,
    include_body: bool = True,
    body_url: Callable[[str], str] | None = None,
) -> HeliconeRequest:
    """Shape a stored row as a ``HeliconeRequest``; ``body_url`` makes its ``signed_body_url``."""
    has_response = row["status"] > 0
    request_body = _body(row.get("request_body")) if include_body else None
    response_body = _body(row.get("response_body")) if include_body else None
    properties = dict(row["properties"] or {})
    cost_usd = row["cost"]  # the store returns USD
    return HeliconeRequest(
        response_id=row["request_id"] if has_response else None,
        response_created_at=iso(row["response_created_at"]),
        response_body=response_body,
        response_status=row["status"],
        response_model=row["response_model"],
        request_id=row["request_id"],
        request_created_at=iso(row["request_created_at"]) or "",
        request_body=request_body,
        request_path=row["path"] or "",
        request_user_id=row["user_id"],
        request_properties=properties,
        request_model=row["request_model"],
        model_override=row["model_override"],
        helicone_user=None,
        provider=row["provider"],
        delay_ms=row["latency"],
        time_to_first_token=row["time_to_first_token"],
        total_tokens=row["total_tokens"],
        prompt_tokens=row["prompt_tokens"],
        prompt_cache_write_tokens=row["prompt_cache_write_tokens"],
        prompt_cache_read_tokens=row["prompt_cache_read_tokens"],
        completion_tokens=row["completion_tokens"],
        prompt_id=row["prompt_id"],
        country_code=row["country_code"],
        llmSchema=llm_schema(row["provider"], request_body, response_body),
        signed_body_url=body_url(row["request_id"]) if body_url is not None else None,
        asset_ids=None,
        asset_urls=None,
        scores=dict(row["scores"] or {}),
        costUSD=cost_usd,
        feedback_id=None if row.get("feedback_id") is None else str(row["feedback_id"]),
        feedback_rating=row.get("feedback_rating"),
        feedback_created_at=iso(row.get("feedback_created_at")),
        properties=properties,
        assets=[],
        target_url=row["target_url"] or "",
        model=row["model"],
    )
