"""Tables of notifications: webhooks, alerts and alert history.

Migration ``0007`` creates them.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Float, Index, Integer, String, Table, Text, text

from helioscope.store._dialects import JsonDoc, UtcDateTime
from helioscope.store.tables._metadata import metadata

# Where logged calls are POSTed (Helicone's `webhooks`): config holds sampleRate,
# propertyFilters and includeData; hmac_key signs every body.
webhook = Table(
    "webhook",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("organization_id", String(36), nullable=False, index=True),
    Column("destination", Text, nullable=False),
    Column("hmac_key", String(200), nullable=False),
    Column("config", JsonDoc, nullable=False),
    Column("version", String(20), nullable=False, server_default="2"),
    Column("created_at", UtcDateTime(), nullable=False),
)

# A threshold on the error rate (metric 'response.status') or the cost over a sliding window.
alert = Table(
    "alert",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("organization_id", String(36), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("metric", String(40), nullable=False),
    Column("threshold", Float, nullable=False),
    Column("time_window", BigInteger, nullable=False),  # ms
    Column("minimum_request_count", Integer, nullable=False, server_default="0"),
    Column("cooldown", BigInteger, nullable=False),  # ms the metric stays below before resolving
    Column("emails", JsonDoc, nullable=False),
    Column("slack_channels", JsonDoc, nullable=False),
    Column("webhook_id", String(36)),
    Column("status", String(20), nullable=False, server_default="resolved"),
    # When the metric first went back below the threshold while triggered (the cooldown start).
    Column("below_since", UtcDateTime()),
    Column("soft_delete", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

# One row per time an alert fired; alert_end_time is set when it resolves.
alert_history = Table(
    "alert_history",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("organization_id", String(36), nullable=False),
    Column("alert_id", String(36), nullable=False),
    Column("alert_name", String(200), nullable=False),
    Column("alert_metric", String(40), nullable=False),
    Column("triggered_value", Float, nullable=False),
    Column("requests", BigInteger, nullable=False),
    Column("status", String(20), nullable=False),
    Column("alert_start_time", UtcDateTime(), nullable=False),
    Column("alert_end_time", UtcDateTime()),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_alert_history_org_alert", "organization_id", "alert_id"),
)
