"""Integrations: per organization, a named set of settings (Helicone's ``integrations``).

Migration ``0010`` creates the table. ``slack`` is the one Helioscope acts on: its settings
name Slack incoming-webhook URLs that alerts and periodic reports post to.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, String, Table, UniqueConstraint, text

from helioscope.store._dialects import JsonDoc, UtcDateTime
from helioscope.store.tables._metadata import metadata

integration = Table(
    "integration",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("organization_id", String(36), nullable=False),
    Column("integration_name", String(100), nullable=False),
    Column("settings", JsonDoc),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    # When the last periodic report went out (Slack reports are sent when one is due).
    Column("report_sent_at", UtcDateTime()),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    # One integration of each kind per organization, as Helicone's by-type lookup assumes.
    UniqueConstraint("organization_id", "integration_name"),
)
