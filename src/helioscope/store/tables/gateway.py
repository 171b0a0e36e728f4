"""Tables of the gateway controls: the embedded response cache.

Rate-limit buckets are not here: they live in the process (or in Redis when replicas share them),
because a bucket is touched on every call and a database round trip per call would cost more
than the call's own overhead.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, LargeBinary, String, Table

from helioscope.store._dialects import UtcDateTime
from helioscope.store.tables._metadata import metadata

# One stored response per cache key (SHA-256 hex, computed as Helicone does). The key already
# depends on the caller's Helicone key; the organization is kept to purge an organization's
# entries and to scope reads.
gateway_cache = Table(
    "gateway_cache",
    metadata,
    Column("cache_key", String(64), primary_key=True),
    Column("organization_id", String(36), nullable=False),
    Column("value", LargeBinary, nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Index("ix_gateway_cache_expires_at", "expires_at"),
)
