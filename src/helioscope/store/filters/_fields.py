"""The column allowlist: every table and column of Helicone's filter language, mapped to ours.

A leaf names ``{table: {column: {operator: value}}}``. Only the pairs listed here compile; any
other name is a 400. Map columns (``properties``, ``scores``, ``values``) take one more level,
the key, which is only ever a bound parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, String, case, cast, func, literal, select

from helioscope.store._dialects import SqlDialect
from helioscope.store.cost import NANO_USD
from helioscope.store.filters._values import Kind
from helioscope.store.tables.keys import api_key
from helioscope.store.tables.log import feedback, request_body, session_tag
from helioscope.store.tables.log import request_response as rr

Expr = ColumnElement[Any]
Build = Callable[[SqlDialect], Expr]

# Property keys with a column of their own (indexed, no JSON parsing).
PROPERTY_COLUMNS: dict[str, Expr] = {
    "Helicone-Session-Id": rr.c.session_id,
    "Helicone-Session-Name": rr.c.session_name,
    "Helicone-Session-Path": rr.c.session_path,
}


@dataclass(frozen=True, slots=True)
class Field:
    """One filterable column: its kind and the expression it compiles to.

    ``aggregate`` names a per-group value that only a grouped query (sessions, users) supplies;
    such a field compiles into HAVING, and to TRUE in WHERE, as in Helicone.
    """

    kind: Kind
    build: Build | None = None
    aggregate: str | None = None
    scale: int = 1  # numeric filter values are multiplied by this (cost: USD -> USD x 1e9)
    raw: Build | None = None  # the column without its NULL-as-'' wrapper (see `indexed`)


@dataclass(frozen=True, slots=True)
class MapField:
    """A column keyed by a user-chosen name: properties, scores, prompt input values."""

    kind: Kind
    build: Callable[[SqlDialect, str], Expr]
    guard: Callable[[SqlDialect, str], ColumnElement[bool]] | None = None
    raw: Callable[[SqlDialect, str], Expr | None] | None = None


def column(expr: Expr) -> Build:
    """A field that is a plain column."""
    return lambda _d: expr


def text_or_empty(expr: Expr) -> Build:
    """A nullable text column read as '' when NULL (ClickHouse's non-nullable strings)."""
    return lambda _d: func.coalesce(expr, "")


def nullable_text(expr: Expr) -> Field:
    """A text field over a nullable column: reads '' for NULL, and `equals` uses the index."""
    return Field(Kind.TEXT, text_or_empty(expr), raw=column(expr))


_COLUMNS_BY_LOWER = {name.lower(): expr for name, expr in PROPERTY_COLUMNS.items()}


def property_column(_d: SqlDialect, key: str) -> Expr | None:
    """The indexed column holding property ``key`` (any case), if it has one."""
    return _COLUMNS_BY_LOWER.get(key.lower())


def property_text(d: SqlDialect, key: str) -> Expr:
    """A property as text, NULL when missing.

    Property names are case-insensitive, as the header names they come from are: the gateway
    stores ``Helicone-Property-Environment`` as ``environment``, so ``Environment`` reads the
    key as given or, failing that, lower-cased. Every engine's filters and property searches
    read properties here.
    """
    column = _COLUMNS_BY_LOWER.get(key.lower())
    if column is not None:
        return column
    given = d.json_text(rr.c.properties, key)
    if key == key.lower():
        return given
    return func.coalesce(given, d.json_text(rr.c.properties, key.lower()))


def property_value(d: SqlDialect, key: str) -> Expr:
    """A property as text; a missing property reads as '' (as in Helicone's ClickHouse map)."""
    return func.coalesce(property_text(d, key), "")


def _property(key: str) -> Build:
    return lambda d: property_value(d, key)


def _score(d: SqlDialect, key: str) -> Expr:
    return d.json_number(rr.c.scores, key)


def _score_present(d: SqlDialect, key: str) -> ColumnElement[bool]:
    return d.json_has_key(rr.c.scores, key)


def _prompt_input(d: SqlDialect, key: str) -> Expr:
    return func.coalesce(d.json_text(rr.c.prompt_inputs, key), "")


def _related(table: Any, column: str, key: str = "request_id") -> Build:
    """A column of the row that ``table`` keeps for this request (or this session).

    ``table`` is an alias: request queries also join ``feedback`` and ``request_body`` to return
    them, and a subquery on the same name would be correlated away.
    """

    def build(_d: SqlDialect) -> Expr:
        return (
            select(table.c[column])
            .where(table.c.organization_id == rr.c.organization_id, table.c[key] == rr.c[key])
            .scalar_subquery()
        )

    return build


_fb = feedback.alias("feedback_filter")
_rb = request_body.alias("body_filter")
_tag = session_tag.alias("tag_filter")


def _feedback(name: str) -> Build:
    return _related(_fb, name)


def _body(name: str) -> Build:
    return _related(_rb, name)


def _auth_hash(d: SqlDialect) -> Expr:
    lookup = (
        select(api_key.c.api_key_hash)
        .where(api_key.c.id == rr.c.helicone_api_key_id)
        .scalar_subquery()
    )
    return d.api_key_hash(rr.c.helicone_api_key_id, lookup)


def _cache_hit(expr: Expr) -> Build:
    # Helicone's `cache_hits` holds one row per cache hit; ours are the log rows that reference
    # a cached request. Outside a hit the column reads NULL, so no condition on it matches.
    return lambda _d: case((rr.c.cache_reference_id.is_not(None), expr), else_=None)


def _total_tokens(_d: SqlDialect) -> Expr:
    return func.coalesce(rr.c.prompt_tokens, 0) + func.coalesce(rr.c.completion_tokens, 0)


TEXT, NUMBER, TIME, BOOL, VECTOR = Kind.TEXT, Kind.NUMBER, Kind.TIMESTAMP, Kind.BOOL, Kind.VECTOR

_PROPERTIES = MapField(TEXT, property_value, raw=property_column)

REQUEST_RESPONSE_RMT: dict[str, Field | MapField] = {
    "latency": Field(NUMBER, column(rr.c.latency)),
    "time_to_first_token": Field(NUMBER, column(rr.c.time_to_first_token)),
    "status": Field(NUMBER, column(rr.c.status)),
    "request_created_at": Field(TIME, column(rr.c.request_created_at)),
    "response_created_at": Field(TIME, column(rr.c.response_created_at)),
    "model": Field(TEXT, column(rr.c.model)),
    "provider": Field(TEXT, column(rr.c.provider)),
    "user_id": nullable_text(rr.c.user_id),
    "organization_id": Field(TEXT, column(rr.c.organization_id)),
    "node_id": Field(TEXT, _property("Helicone-Node-Id")),
    "job_id": Field(TEXT, _property("Helicone-Job-Id")),
    "threat": Field(BOOL, column(rr.c.threat)),
    "request_id": Field(TEXT, column(rr.c.request_id)),
    "prompt_tokens": Field(NUMBER, column(rr.c.prompt_tokens)),
    "completion_tokens": Field(NUMBER, column(rr.c.completion_tokens)),
    "prompt_cache_read_tokens": Field(NUMBER, column(rr.c.prompt_cache_read_tokens)),
    "prompt_cache_write_tokens": Field(NUMBER, column(rr.c.prompt_cache_write_tokens)),
    "total_tokens": Field(NUMBER, _total_tokens),
    "cost": Field(NUMBER, column(rr.c.cost), scale=NANO_USD),
    "target_url": Field(TEXT, column(rr.c.target_url)),
    "country_code": Field(TEXT, column(rr.c.country_code)),
    "prompt_id": Field(TEXT, text_or_empty(rr.c.prompt_id)),
    "prompt_version": Field(TEXT, text_or_empty(rr.c.prompt_version)),
    "request_referrer": Field(TEXT, text_or_empty(rr.c.request_referrer)),
    "cache_enabled": Field(BOOL, column(rr.c.cache_enabled)),
    "cache_reference_id": Field(TEXT, column(rr.c.cache_reference_id)),
    # Helicone matches this against the scores map's keys; the JSON text holds every key.
    "scores_column": Field(TEXT, lambda _d: cast(rr.c.scores, String())),
    "request_body": Field(VECTOR, _body("request_body")),
    "response_body": Field(VECTOR, _body("response_body")),
    "assets": Field(TEXT, lambda _d: literal("")),  # no assets are stored yet
    "helicone-score-feedback": Field(BOOL, _feedback("rating")),
    "properties": _PROPERTIES,
    "search_properties": _PROPERTIES,
    "scores": MapField(NUMBER, _score, guard=_score_present),
}

SESSION_AGGREGATES: dict[str, Field | MapField] = {
    name: Field(kind, aggregate=aggregate, scale=scale)
    for name, kind, aggregate, scale in (
        ("total_cost", NUMBER, "total_cost", NANO_USD),
        ("total_tokens", NUMBER, "total_tokens", 1),
        ("session_total_cost", NUMBER, "total_cost", NANO_USD),
        ("session_total_tokens", NUMBER, "total_tokens", 1),
        ("session_prompt_tokens", NUMBER, "prompt_tokens", 1),
        ("session_completion_tokens", NUMBER, "completion_tokens", 1),
        ("session_total_requests", NUMBER, "total_requests", 1),
        ("session_created_at", TIME, "created_at", 1),
        ("session_latest_request_created_at", TIME, "latest_request_created_at", 1),
        ("session_session_id", TEXT, "session_id", 1),
        ("session_session_name", TEXT, "session_name", 1),
    )
}
# A session's tag is the same on each of its rows, so it filters rows (WHERE), not groups.
SESSION_AGGREGATES["session_tag"] = Field(TEXT, _related(_tag, "tag", key="session_id"))

# Per-user aggregates (users_view): only the user queries supply them; they compile to HAVING.
USER_AGGREGATES: dict[str, Field | MapField] = {
    f"user_{name}": Field(kind, aggregate=name, scale=scale)
    for name, kind, scale in (
        ("user_id", TEXT, 1),
        ("active_for", NUMBER, 1),
        ("first_active", TIME, 1),
        ("last_active", TIME, 1),
        ("total_requests", NUMBER, 1),
        ("average_requests_per_day_active", NUMBER, 1),
        ("average_tokens_per_request", NUMBER, 1),
        ("total_completion_tokens", NUMBER, 1),
        ("total_prompt_tokens", NUMBER, 1),
        ("cost", NUMBER, NANO_USD),
        ("rate_limited_count", NUMBER, 1),
    )
}
# Helicone's earlier users_view names, without the prefix (``total_prompt_token`` as it was
# spelt then): filters saved against those versions keep working.
USER_AGGREGATES.update(
    {name.removeprefix("user_"): field for name, field in list(USER_AGGREGATES.items())}
)
USER_AGGREGATES["total_prompt_token"] = USER_AGGREGATES["total_prompt_tokens"]

TABLES: dict[str, dict[str, Field | MapField]] = {
    "request_response_rmt": REQUEST_RESPONSE_RMT,
    "request": {
        "prompt": Field(TEXT, _body("request_body")),
        "created_at": Field(Kind.TIMESTAMP_TEXT, column(rr.c.request_created_at)),
        "user_id": Field(TEXT, text_or_empty(rr.c.user_id)),
        "auth_hash": Field(TEXT, _auth_hash),
        "org_id": Field(TEXT, column(rr.c.organization_id)),
        "id": Field(TEXT, column(rr.c.request_id)),
        "node_id": Field(TEXT, _property("Helicone-Node-Id")),
        "model": Field(TEXT, text_or_empty(rr.c.request_model)),
        "modelOverride": Field(TEXT, text_or_empty(rr.c.model_override)),
        "path": Field(TEXT, text_or_empty(rr.c.path)),
        "prompt_id": Field(TEXT, text_or_empty(rr.c.prompt_id)),
    },
    "response": {
        "body_tokens": Field(NUMBER, _total_tokens),
        "body_model": Field(TEXT, text_or_empty(rr.c.response_model)),
        "body_completion": Field(TEXT, _body("response_body")),
        "status": Field(NUMBER, column(rr.c.status)),
        "model": Field(TEXT, text_or_empty(rr.c.response_model)),
    },
    "feedback": {
        "id": Field(NUMBER, _feedback("id")),
        "created_at": Field(Kind.TIMESTAMP_TEXT, _feedback("created_at")),
        "rating": Field(BOOL, _feedback("rating")),
        "response_id": Field(TEXT, _feedback("request_id")),
    },
    "request_response_search": {
        "request_body_vector": Field(VECTOR, _body("request_body")),
        "response_body_vector": Field(VECTOR, _body("response_body")),
    },
    "cache_hits": {
        "organization_id": Field(TEXT, _cache_hit(rr.c.organization_id)),
        "request_id": Field(TEXT, _cache_hit(rr.c.cache_reference_id)),
        "latency": Field(NUMBER, _cache_hit(rr.c.latency)),
        "completion_tokens": Field(NUMBER, _cache_hit(rr.c.completion_tokens)),
        "prompt_tokens": Field(NUMBER, _cache_hit(rr.c.prompt_tokens)),
        "created_at": Field(TIME, _cache_hit(rr.c.request_created_at)),
    },
    "sessions_request_response_rmt": SESSION_AGGREGATES,
    "users_view": USER_AGGREGATES,
}

# Tables that are a map themselves: {properties: {key: {op: value}}}.
MAP_TABLES: dict[str, MapField] = {
    "properties": _PROPERTIES,
    "values": MapField(TEXT, _prompt_input),
}
