"""Organizations and their API keys."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Integer, String, Table, text

from helioscope.store._dialects import UtcDateTime
from helioscope.store.tables._metadata import metadata

organization = Table(
    "organization",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("created_at", UtcDateTime(), nullable=False),
)

api_key = Table(
    "helicone_api_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # SHA-256 hex of the clear key; the clear key is shown once and never stored.
    Column("api_key_hash", String(64), nullable=False, unique=True),
    Column("api_key_name", String(200), nullable=False),
    Column(
        "organization_id",
        String(36),
        ForeignKey("organization.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    # "rw" (everything), "w" (proxy and log only), "r" (read the API only).
    Column("key_permissions", String(2), nullable=False, server_default="rw"),
    Column("soft_delete", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", UtcDateTime(), nullable=False),
)

# One counter, bumped after every change that in-memory caches depend on (API keys, provider
# keys, prompts, webhooks). Each gateway worker polls it (services.ChangeFeed) and clears its
# caches when it moves, so a change made through one worker is seen by the others within a
# second.
change_counter = Table(
    "change_counter",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("value", BigInteger, nullable=False),
)
