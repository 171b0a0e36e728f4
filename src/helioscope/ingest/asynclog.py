"""Helicone's async log API: a call made elsewhere, described after the fact, into a log row.

The body (Helicone's ``AsyncLogModel``)::

    {"providerRequest": {"url", "json", "meta": {Helicone-* header: value}},
     "providerResponse": {"json" | "textBody", "status", "headers"},
     "timing": {"startTime", "endTime", "timeToFirstToken"?},
     "provider"?: "OPENAI" | …}

Every problem is collected with the path of its field, so the typed endpoint can report them all
and the others can answer 400 naming the first. A row is built only from a valid body, so a bad
record is never half-written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import orjson

from helioscope.errors import BadRequest
from helioscope.ingest._ids import new_request_id
from helioscope.ingest.capture import usage_columns
from helioscope.ingest.headers import HeliconeHeaders
from helioscope.ingest.pricing import cost_nano_usd
from helioscope.providers import (
    CUSTOM,
    ParsedResponse,
    ProviderFormat,
    Usage,
    parse_sse,
    provider_named,
)
from helioscope.store import LogRow

# Helicone reads an epoch number below this as seconds, and as milliseconds above it.
_SECONDS_UNTIL = 4_102_444_800


class AsyncLogInvalid(BadRequest):
    """An async log body with problems; ``errors`` lists each with its field."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        first = errors[0]
        super().__init__(f"{first['field']}: {first['message']}")
        self.errors = errors


@dataclass(slots=True)
class _Check:
    errors: list[dict[str, str]] = field(default_factory=list)

    def fail(self, path: str, message: str) -> None:
        self.errors.append({"field": path, "message": message})

    def obj(self, value: Any, path: str, required: bool = True) -> dict[str, Any]:
        if isinstance(value, dict):
            return value
        if value is not None or required:
            self.fail(path, "must be an object")
        return {}


def _epoch_seconds(value: Any, path: str, check: _Check) -> float | None:
    """A time as epoch seconds: {seconds, milliseconds}, an epoch number or string, or ISO."""
    if isinstance(value, dict):
        seconds, millis = value.get("seconds", 0), value.get("milliseconds", 0)
        if not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in (seconds, millis)
        ):
            check.fail(path, "seconds and milliseconds must be numbers")
            return None
        result = float(seconds) + float(millis) / 1000
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        result = float(value) if value < _SECONDS_UNTIL else float(value) / 1000
    elif isinstance(value, str):
        try:
            number = float(value)
            result = number if number < _SECONDS_UNTIL else number / 1000
        except ValueError:
            try:
                parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            except ValueError:
                check.fail(path, f"is not a time: {value!r}")
                return None
            result = (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).timestamp()
    else:
        check.fail(path, "must be {seconds, milliseconds}, an epoch number, or an ISO time")
        return None
    if result < 0:
        check.fail(path, "must not be negative")
        return None
    return result


@dataclass(slots=True)
class AsyncLog:
    """A validated async log body."""

    url: str
    request_json: dict[str, Any]
    meta: list[tuple[str, str]]
    response_json: Any
    text_body: str | None
    status: int
    start: float
    end: float
    ttft_ms: float | None
    provider: ProviderFormat


def _timing(
    body: dict[str, Any], check: _Check, required: bool
) -> tuple[float, float, float | None]:
    timing = check.obj(body.get("timing"), "timing", required)
    now = dt.datetime.now(dt.UTC).timestamp()
    if not timing:
        return now, now, None
    start = _epoch_seconds(timing.get("startTime"), "timing.startTime", check)
    end = _epoch_seconds(timing.get("endTime"), "timing.endTime", check)
    if start is not None and end is not None and start > end:
        check.fail("timing", "startTime is after endTime")
    ttft = timing.get("timeToFirstToken")
    if ttft is not None and (
        not isinstance(ttft, (int, float)) or isinstance(ttft, bool) or ttft < 0
    ):
        check.fail("timing.timeToFirstToken", "must be a number of milliseconds, not negative")
        ttft = None
    return start or now, end or now, ttft


def read_async_log(
    body: Any, *, route_provider: ProviderFormat | None, timing_required: bool
) -> AsyncLog:
    """Validate an ``AsyncLogModel``; raises ``AsyncLogInvalid`` listing every problem."""
    check = _Check()
    if not isinstance(body, dict):
        raise AsyncLogInvalid([{"field": "body", "message": "must be a JSON object"}])
    request = check.obj(body.get("providerRequest"), "providerRequest")
    response = check.obj(body.get("providerResponse"), "providerResponse")
    url = request.get("url", "")
    if not isinstance(url, str):
        check.fail("providerRequest.url", "must be a string")
        url = ""
    request_json = check.obj(request.get("json"), "providerRequest.json", required=False)
    meta = check.obj(request.get("meta"), "providerRequest.meta", required=False)
    status = response.get("status", 200)
    if not isinstance(status, int) or isinstance(status, bool):
        check.fail("providerResponse.status", "must be an integer")
        status = 0
    text_body = response.get("textBody")
    if text_body is not None and not isinstance(text_body, str):
        check.fail("providerResponse.textBody", "must be a string")
        text_body = None
    provider = route_provider
    if body.get("provider") is not None:
        named = body["provider"]
        provider = provider_named(named) if isinstance(named, str) else None
        if provider is None:
            check.fail("provider", f"unknown provider {named!r}")
    start, end, ttft = _timing(body, check, timing_required)
    if check.errors:
        raise AsyncLogInvalid(check.errors)
    return AsyncLog(
        url=url,
        request_json=request_json,
        meta=[(str(k), str(v)) for k, v in meta.items()],
        response_json=response.get("json"),
        text_body=text_body,
        status=status,
        start=start,
        end=end,
        ttft_ms=ttft,
        provider=provider or CUSTOM,
    )


def _json_lines(text: str) -> list[Any] | None:
    try:
        return [orjson.loads(line) for line in text.splitlines() if line.strip()]
    except orjson.JSONDecodeError:
        return None


def _parse_response(log: AsyncLog) -> tuple[ParsedResponse, str | None, bool]:
    """The parsed response, the text to store, and whether it was a stream."""
    provider = log.provider
    body = log.response_json
    if isinstance(body, dict) and isinstance(body.get("streamed_data"), list):
        text = "".join(f"data: {orjson.dumps(c).decode()}\n\n" for c in body["streamed_data"])
        parsed = provider.parse_stream(parse_sse(text))
        return parsed, orjson.dumps(parsed.body).decode(), True
    if isinstance(body, dict) and body:
        return provider.parse_body(body), orjson.dumps(body).decode(), False
    if not log.text_body:
        return ParsedResponse(None, Usage(), None), None, False
    text = log.text_body
    try:
        return provider.parse_body(orjson.loads(text)), text, False
    except orjson.JSONDecodeError:
        pass
    if "data:" in text:
        parsed = provider.parse_stream(parse_sse(text))
        return parsed, orjson.dumps(parsed.body).decode(), True
    chunks = _json_lines(text)  # helicone-helpers joins stream chunks with newlines
    if chunks and len(chunks) > 1:
        sse = "".join(f"data: {orjson.dumps(c).decode()}\n\n" for c in chunks)
        parsed = provider.parse_stream(parse_sse(sse))
        return parsed, orjson.dumps(parsed.body).decode(), True
    return ParsedResponse(None, Usage(), text), text, False


def _custom_model(request: dict[str, Any], response: Any) -> str | None:
    """Tool and vector-db logs (``_type``) are named as Helicone names them."""
    sources = [request, response if isinstance(response, dict) else {}]
    kind = next((s.get("_type") for s in sources if s.get("_type") not in (None, "unknown")), None)
    if kind == "tool":
        name = next(
            (s.get("toolName") for s in sources if s.get("toolName") not in (None, "unknown")), ""
        )
        return f"tool:{name}"
    if kind == "vector_db":
        return "vector_db"
    return None


def build_async_row(
    log: AsyncLog,
    headers: Iterable[tuple[str, str]],
    organization_id: str,
    api_key_id: int | None,
) -> LogRow:
    """The log row of a validated async log; ``meta`` entries override real headers."""
    helicone = HeliconeHeaders.parse([*headers, *log.meta])
    parsed, response_text, is_stream = _parse_response(log)
    request_model = log.request_json.get("model")
    request_model = request_model if isinstance(request_model, str) else None
    model = (
        helicone.model_override
        or _custom_model(log.request_json, log.response_json)
        or parsed.model
        or request_model
        or ""
    )
    user = helicone.user_id or (
        log.request_json["user"] if isinstance(log.request_json.get("user"), str) else None
    )
    usage = parsed.usage
    started = dt.datetime.fromtimestamp(log.start, dt.UTC)
    request_text = orjson.dumps(log.request_json).decode()
    return LogRow(
        request_id=helicone.request_id or new_request_id(),
        organization_id=organization_id,
        request_created_at=started,
        response_created_at=dt.datetime.fromtimestamp(log.end, dt.UTC),
        latency=round((log.end - log.start) * 1000),
        time_to_first_token=None if log.ttft_ms is None else round(log.ttft_ms),
        status=log.status,
        provider=log.provider.name,
        model=model,
        request_model=request_model,
        response_model=parsed.model,
        model_override=helicone.model_override,
        user_id=user,
        target_url=log.url,
        path=urlsplit(log.url).path or None,
        is_stream=is_stream,
        **usage_columns(usage),
        cost=cost_nano_usd(log.provider, model, usage),
        properties=dict(helicone.properties),
        prompt_id=helicone.prompt_id,
        prompt_version=helicone.prompt_version,
        request_body=None if helicone.omit_request else request_text,
        response_body=None if helicone.omit_response else response_text,
        request_body_size=len(request_text),
        response_body_size=len(response_text or ""),
        helicone_api_key_id=api_key_id,
    )
