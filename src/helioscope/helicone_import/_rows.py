"""A ``HeliconeRequest`` (as ``/v1/request/query`` returns it) as a log row of ours."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson

from helioscope.store import NANO_USD, LogRow


def parse_time(value: Any) -> dt.datetime | None:
    """An ISO 8601 timestamp as an aware UTC datetime (naive ones are UTC, as Helicone's are)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace(" ", "T", 1))
    except ValueError:
        return None
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)


def body_text(value: Any) -> str | None:
    """A body as the log keeps it: JSON text (a string that is not JSON stays as it is)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value)


def _strings(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items() if v is not None}


def _scores(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        return {}
    return {
        str(k): v
        for k, v in value.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    }


def _cost(item: dict[str, Any]) -> int | None:
    usd = item.get("cost")
    if usd is None:
        usd = item.get("costUSD")
    if isinstance(usd, bool) or not isinstance(usd, (int, float)):
        return None
    return round(usd * NANO_USD)


def _text(item: dict[str, Any], key: str) -> str | None:
    value = item.get(key)
    return None if value is None or value == "" else str(value)


def log_row(org_id: str, item: dict[str, Any], request_body: Any, response_body: Any) -> LogRow:
    """The row to store for one imported request, its bodies given apart (signed URLs)."""
    created = parse_time(item.get("request_created_at")) or dt.datetime.now(dt.UTC)
    properties = _strings(item.get("properties")) or _strings(item.get("request_properties"))
    request_text, response_text = body_text(request_body), body_text(response_body)
    return LogRow(
        request_id=str(item["request_id"]),
        organization_id=org_id,
        request_created_at=created,
        response_created_at=parse_time(item.get("response_created_at")),
        status=_int(item.get("response_status")) or 0,
        provider=str(item.get("provider") or ""),
        model=str(
            item.get("model") or item.get("response_model") or item.get("request_model") or ""
        ),
        latency=_int(item.get("delay_ms")),
        time_to_first_token=_int(item.get("time_to_first_token")),
        request_model=_text(item, "request_model"),
        response_model=_text(item, "response_model"),
        model_override=_text(item, "model_override"),
        user_id=_text(item, "request_user_id"),
        target_url=_text(item, "target_url"),
        path=_text(item, "request_path"),
        is_stream=bool(item.get("is_stream")),
        prompt_tokens=_int(item.get("prompt_tokens")),
        completion_tokens=_int(item.get("completion_tokens")),
        total_tokens=_int(item.get("total_tokens")),
        prompt_cache_read_tokens=_int(item.get("prompt_cache_read_tokens")),
        prompt_cache_write_tokens=_int(item.get("prompt_cache_write_tokens")),
        reasoning_tokens=_int(item.get("reasoning_tokens")),
        prompt_audio_tokens=_int(item.get("prompt_audio_tokens")),
        completion_audio_tokens=_int(item.get("completion_audio_tokens")),
        cost=_cost(item),
        cache_enabled=bool(item.get("cache_enabled")),
        cache_reference_id=_text(item, "cache_reference_id"),
        threat=item.get("threat") if isinstance(item.get("threat"), bool) else None,
        country_code=_text(item, "country_code"),
        properties=properties,
        scores=_scores(item.get("scores")),
        prompt_id=_text(item, "prompt_id"),
        prompt_version=_text(item, "prompt_version"),
        request_body=request_text,
        response_body=response_text,
        request_body_size=None if request_text is None else len(request_text.encode()),
        response_body_size=None if response_text is None else len(response_text.encode()),
        error=_text(item, "error"),
    )


def scores_of(item: dict[str, Any]) -> dict[str, float]:
    """The request's numeric scores (Helicone keeps a boolean one as ``<name>-hcone-bool``)."""
    return _scores(item.get("scores"))
