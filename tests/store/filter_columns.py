"""What every column of the filter language reads, in plain Python, for the column sweep.

``filter_reference`` states the operators' semantics; this module states, for each
``(table, column)`` of the allowlist, the value a row (or a session, or a user) has there.
The sweep runs each column with each operator it takes through the store on both engines and
compares the rows it gets with what these readers and the reference evaluator say.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from helioscope.store import LogRow

NANO = 1_000_000_000
RATE_LIMITED = ("rate_limited", "bucket_rate_limited")


@dataclass
class Related:
    """What the log rows do not hold themselves: feedback, key hashes and session tags."""

    feedback: dict[str, tuple[int, dt.datetime, bool]] = field(default_factory=dict)
    key_hashes: dict[int, str] = field(default_factory=dict)
    session_tags: dict[str, str] = field(default_factory=dict)


Reader = Callable[[LogRow, Related], Any]


def _attr(name: str) -> Reader:
    return lambda row, _: getattr(row, name)


def _or_empty(name: str) -> Reader:
    return lambda row, _: getattr(row, name) or ""


def _prop(key: str) -> Reader:
    return lambda row, _: row.properties.get(key, "")


def _total(row: LogRow, _: Related) -> int:
    return (row.prompt_tokens or 0) + (row.completion_tokens or 0)


def _feedback(index: int) -> Reader:
    def read(row: LogRow, related: Related) -> Any:
        found = related.feedback.get(row.request_id)
        return None if found is None else found[index]

    return read


def _request_id_of_feedback(row: LogRow, related: Related) -> Any:
    return row.request_id if row.request_id in related.feedback else None


def _cache_hit(read: Reader) -> Reader:
    return lambda row, related: read(row, related) if row.cache_reference_id else None


def _auth_hash(row: LogRow, related: Related) -> Any:
    return related.key_hashes.get(row.helicone_api_key_id or -1)


def _session_tag(row: LogRow, related: Related) -> Any:
    return related.session_tags.get(row.properties.get("Helicone-Session-Id", ""))


# (table, column) -> (the reference's kind, the value a log row has there)
ROW_FIELDS: dict[tuple[str, str], tuple[str, Reader]] = {
    **{
        ("request_response_rmt", name): ("number", _attr(name))
        for name in (
            "latency",
            "time_to_first_token",
            "status",
            "prompt_tokens",
            "completion_tokens",
            "prompt_cache_read_tokens",
            "prompt_cache_write_tokens",
        )
    },
    **{
        ("request_response_rmt", name): ("time", _attr(name))
        for name in ("request_created_at", "response_created_at")
    },
    **{
        ("request_response_rmt", name): ("text", _attr(name))
        for name in (
            "model",
            "provider",
            "organization_id",
            "request_id",
            "target_url",
            "country_code",
            "cache_reference_id",
        )
    },
    **{
        ("request_response_rmt", name): ("text", _or_empty(name))
        for name in ("user_id", "prompt_id", "prompt_version", "request_referrer")
    },
    ("request_response_rmt", "node_id"): ("text", _prop("Helicone-Node-Id")),
    ("request_response_rmt", "job_id"): ("text", _prop("Helicone-Job-Id")),
    ("request_response_rmt", "threat"): ("bool", _attr("threat")),
    ("request_response_rmt", "cache_enabled"): ("bool", _attr("cache_enabled")),
    ("request_response_rmt", "total_tokens"): ("number", _total),
    ("request_response_rmt", "cost"): ("cost", _attr("cost")),
    ("request_response_rmt", "scores_column"): ("text", lambda r, _: json.dumps(r.scores)),
    ("request_response_rmt", "request_body"): ("text", _attr("request_body")),
    ("request_response_rmt", "response_body"): ("text", _attr("response_body")),
    ("request_response_rmt", "assets"): ("text", lambda _r, _: ""),
    ("request_response_rmt", "helicone-score-feedback"): ("bool", _feedback(2)),
    ("request", "prompt"): ("text", _attr("request_body")),
    ("request", "created_at"): ("time", _attr("request_created_at")),
    ("request", "user_id"): ("text", _or_empty("user_id")),
    ("request", "auth_hash"): ("text", _auth_hash),
    ("request", "org_id"): ("text", _attr("organization_id")),
    ("request", "id"): ("text", _attr("request_id")),
    ("request", "node_id"): ("text", _prop("Helicone-Node-Id")),
    ("request", "model"): ("text", _or_empty("request_model")),
    ("request", "modelOverride"): ("text", _or_empty("model_override")),
    ("request", "path"): ("text", _or_empty("path")),
    ("request", "prompt_id"): ("text", _or_empty("prompt_id")),
    ("response", "body_tokens"): ("number", _total),
    ("response", "body_model"): ("text", _or_empty("response_model")),
    ("response", "body_completion"): ("text", _attr("response_body")),
    ("response", "status"): ("number", _attr("status")),
    ("response", "model"): ("text", _or_empty("response_model")),
    ("feedback", "id"): ("number", _feedback(0)),
    ("feedback", "created_at"): ("time", _feedback(1)),
    ("feedback", "rating"): ("bool", _feedback(2)),
    ("feedback", "response_id"): ("text", _request_id_of_feedback),
    ("request_response_search", "request_body_vector"): ("text", _attr("request_body")),
    ("request_response_search", "response_body_vector"): ("text", _attr("response_body")),
    ("cache_hits", "organization_id"): ("text", _cache_hit(_attr("organization_id"))),
    ("cache_hits", "request_id"): ("text", _attr("cache_reference_id")),
    ("cache_hits", "latency"): ("number", _cache_hit(_attr("latency"))),
    ("cache_hits", "completion_tokens"): ("number", _cache_hit(_attr("completion_tokens"))),
    ("cache_hits", "prompt_tokens"): ("number", _cache_hit(_attr("prompt_tokens"))),
    ("cache_hits", "created_at"): ("time", _cache_hit(_attr("request_created_at"))),
    ("sessions_request_response_rmt", "session_tag"): ("text", _session_tag),
}

# Values to compare with where a row's own value would not do: the scores' JSON text is spelt
# differently by each engine (spaces), and Helicone matches it against the scores' keys.
SAMPLES: dict[tuple[str, str], Any] = {("request_response_rmt", "scores_column"): "quality"}

# Map columns: (table, column or None for a map table) -> (kind, key, the value under a key)
MAP_FIELDS: dict[tuple[str, str | None], tuple[str, str, Callable[[LogRow, str], Any]]] = {
    ("request_response_rmt", "properties"): ("text", "env", lambda r, k: r.properties.get(k, "")),
    ("request_response_rmt", "search_properties"): (
        "text",
        "env",
        lambda r, k: r.properties.get(k, ""),
    ),
    ("request_response_rmt", "scores"): ("number", "quality", lambda r, k: r.scores.get(k)),
    ("properties", None): ("text", "env", lambda r, k: r.properties.get(k, "")),
    ("values", None): ("text", "city", lambda r, k: (r.prompt_inputs or {}).get(k, "")),
}


def _group(rows: list[LogRow], key: Callable[[LogRow], str | None]) -> dict[str, list[LogRow]]:
    groups: dict[str, list[LogRow]] = {}
    for row in rows:
        name = key(row)
        if name is not None:
            groups.setdefault(name, []).append(row)
    return groups


def session_values(rows: list[LogRow]) -> dict[str, dict[str, Any]]:
    """Each session's values, by the names the session columns compare against."""
    out = {}
    for sid, group in _group(rows, lambda r: r.properties.get("Helicone-Session-Id")).items():
        values: dict[str, Any] = {
            "total_cost": sum(r.cost or 0 for r in group),
            "total_tokens": sum(_total(r, Related()) for r in group),
            "prompt_tokens": sum(r.prompt_tokens or 0 for r in group),
            "completion_tokens": sum(r.completion_tokens or 0 for r in group),
            "total_requests": len(group),
            "created_at": min(r.request_created_at for r in group),
            "latest_request_created_at": max(r.request_created_at for r in group),
            "session_id": sid,
            "session_name": group[0].properties.get("Helicone-Session-Name", ""),
        }
        out[sid] = values
    return out


def user_values(rows: list[LogRow]) -> dict[str, dict[str, Any]]:
    """Each user's values, by the names the ``users_view`` columns compare against."""
    out = {}
    for user, group in _group(rows, lambda r: r.user_id).items():
        days = len({r.request_created_at.date() for r in group})
        tokens = sum(_total(r, Related()) for r in group)
        out[user] = {
            "user_id": user,
            "active_for": days,
            "first_active": min(r.request_created_at for r in group),
            "last_active": max(r.request_created_at for r in group),
            "total_requests": len(group),
            "average_requests_per_day_active": len(group) / days,
            "average_tokens_per_request": tokens / len(group),
            "total_completion_tokens": sum(r.completion_tokens or 0 for r in group),
            "total_prompt_tokens": sum(r.prompt_tokens or 0 for r in group),
            "cost": sum(r.cost or 0 for r in group),
            "rate_limited_count": sum(
                r.properties.get("Helicone-Rate-Limit-Status") in RATE_LIMITED for r in group
            ),
        }
    return out
