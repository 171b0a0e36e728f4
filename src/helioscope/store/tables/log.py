"""The request log's tables: one wide row per call, its bodies, and what hangs off a request.

Everything here may move to another engine with the log (see ``store/README.md``); no statement
joins these tables to another area's.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Float, Index, Integer, String, Table, Text, text

from helioscope.store._dialects import JsonDoc, UtcDateTime
from helioscope.store.tables._metadata import metadata

# The request log: one wide row per call, close to Helicone's ClickHouse `request_response_rmt`.
request_response = Table(
    "request_response",
    metadata,
    Column("organization_id", String(36), primary_key=True),
    # Unique per organization only: a client-chosen Helicone-Request-Id can never touch
    # another organization's row.
    Column("request_id", String(36), primary_key=True),
    Column("request_created_at", UtcDateTime(), nullable=False),
    Column("response_created_at", UtcDateTime()),
    Column("latency", BigInteger),  # ms, request start to last byte
    Column("time_to_first_token", BigInteger),  # ms, streams only
    Column("status", Integer, nullable=False),  # upstream status, or Helicone's negative codes
    Column("provider", String(), nullable=False),
    Column("model", String(), nullable=False, server_default=""),
    Column("request_model", String()),
    Column("response_model", String()),
    Column("model_override", String()),
    Column("user_id", String()),
    Column("target_url", Text),
    Column("path", Text),
    Column("is_stream", Boolean, nullable=False, server_default=text("false")),
    Column("prompt_tokens", BigInteger),
    Column("completion_tokens", BigInteger),
    Column("total_tokens", BigInteger),
    Column("prompt_cache_read_tokens", BigInteger),
    Column("prompt_cache_write_tokens", BigInteger),
    Column("reasoning_tokens", BigInteger),
    Column("prompt_audio_tokens", BigInteger),
    Column("completion_audio_tokens", BigInteger),
    Column("cost", BigInteger),  # USD x 1e9, as Helicone stores it; NULL when the price is unknown
    Column("cache_enabled", Boolean, nullable=False, server_default=text("false")),
    Column("cache_reference_id", String(36)),
    Column("threat", Boolean),
    Column("country_code", String()),
    Column("properties", JsonDoc, nullable=False),
    Column("scores", JsonDoc, nullable=False),
    Column("prompt_id", String()),
    Column("prompt_version", String()),
    Column("request_body_size", BigInteger),
    Column("response_body_size", BigInteger),
    Column("request_referrer", String()),
    Column("helicone_api_key_id", Integer),
    Column("error", Text),  # what went wrong when there is no upstream response
    Column("updated_at", UtcDateTime(), nullable=False),
    # Copies of the Helicone-Session-* properties, so that session queries group and filter on
    # indexed columns instead of parsing JSON on every row. Written with the row, never apart.
    Column("session_id", String()),
    Column("session_name", String()),
    Column("session_path", String()),
    Column("prompt_inputs", JsonDoc),  # the inputs of a prompt-templated call ("values" filters)
    Index("ix_request_response_org_created", "organization_id", "request_created_at"),
    Index("ix_request_response_org_user", "organization_id", "user_id"),
    Index("ix_request_response_org_model", "organization_id", "model"),
    # Everything a session query reads, in the order it groups: the aggregation streams through
    # this index alone, one session after another, and never touches the table.
    Index(
        "ix_request_response_sessions",
        "organization_id",
        "session_id",
        "session_name",
        "request_created_at",
        "cost",
        "prompt_tokens",
        "completion_tokens",
        "latency",
        sqlite_where=text("session_id IS NOT NULL"),
        postgresql_where=text("session_id IS NOT NULL"),
    ),
)

# Bodies live apart from the log row: they are most of its bytes, and every aggregate query
# (sessions, dashboards, counts) would otherwise read them from disk for nothing.
request_body = Table(
    "request_body",
    metadata,
    Column("organization_id", String(36), primary_key=True),
    Column("request_id", String(36), primary_key=True),
    Column("request_body", Text),
    Column("response_body", Text),
)

# Feedback on a request: Helicone's `feedback` table (one rating per request).
feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("organization_id", String(36), nullable=False),
    Column("request_id", String(36), nullable=False),
    Column("rating", Boolean, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_feedback_org_request", "organization_id", "request_id", unique=True),
)

# A tag on a session (Helicone's `tags` table with entity_type 'session'): one per session.
session_tag = Table(
    "session_tag",
    metadata,
    Column("organization_id", String(36), primary_key=True),
    Column("session_id", String(), primary_key=True),
    Column("tag", String(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

# One row per session, kept by the log writer in the same transaction as the rows it sums, so
# the session list reads 20,000 sessions instead of aggregating 1,000,000 requests.
# `session_name` is '' for a session without a name (a key column cannot be NULL).
session_summary = Table(
    "session_summary",
    metadata,
    Column("organization_id", String(36), primary_key=True),
    Column("session_id", String(), primary_key=True),
    Column("session_name", String(), primary_key=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("latest_request_created_at", UtcDateTime(), nullable=False),
    Column("total_cost", BigInteger, nullable=False),
    Column("total_requests", BigInteger, nullable=False),
    Column("prompt_tokens", BigInteger, nullable=False),
    Column("completion_tokens", BigInteger, nullable=False),
    Column("total_tokens", BigInteger, nullable=False),
    Column("latency_sum", BigInteger, nullable=False),
    Column("latency_count", BigInteger, nullable=False),
    Index("ix_session_summary_org_created", "organization_id", "created_at"),
)

# One score per (request, key), beside the request's `scores` map, so that evals aggregate
# with plain SQL over an index instead of unpacking JSON maps on every row.
score_value = Table(
    "score_value",
    metadata,
    Column("organization_id", String(36), primary_key=True),
    Column("request_id", String(36), primary_key=True),
    Column("score_key", String(), primary_key=True),
    Column("value", Float, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_score_value_org_key", "organization_id", "score_key"),
)

# A property key the organization hid from its property lists (Helicone's hidden_property_keys).
hidden_property_key = Table(
    "hidden_property_key",
    metadata,
    Column("organization_id", String(36), primary_key=True),
    Column("key", String(), primary_key=True),
    Column("created_at", UtcDateTime(), nullable=False),
)

# How far the log writer has read each gateway worker's journal (ingest/_journal.py). Written in
# the same transaction as the rows it covers, so a restart resumes exactly where the last
# committed batch ended.
journal_position = Table(
    "journal_position",
    metadata,
    Column("worker", String(64), primary_key=True),
    Column("segment", String(64), nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)
