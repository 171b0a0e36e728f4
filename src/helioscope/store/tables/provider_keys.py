"""Tables of the vault: provider keys (encrypted) and the proxy keys bound to them.

Defined on the shared ``metadata``; migration ``0008`` creates them. The store never sees a
clear provider key: ``encrypted_key`` is AES-GCM ciphertext made by ``helioscope.vault``.
The queries are in ``store.provider_keys``.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Integer, LargeBinary, String, Table, text

from helioscope.store._dialects import JsonDoc, UtcDateTime
from helioscope.store.tables._metadata import metadata

# An organization's key for one provider (Helicone's provider_keys). config holds the
# provider's options as strings (baseUrl, deploymentName, models, ...).
provider_key = Table(
    "provider_key",
    metadata,
    Column("id", String(36), primary_key=True),
    Column(
        "organization_id",
        String(36),
        ForeignKey("organization.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("provider_name", String(100), nullable=False),
    Column("provider_key_name", String(200), nullable=False),
    Column("encrypted_key", LargeBinary, nullable=False),
    Column("config", JsonDoc, nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

# A Helioscope key bound to one provider key (Helicone's helicone_proxy_keys): calls made with
# it reach the provider with the bound key. The key itself is a row of helicone_api_keys.
proxy_key = Table(
    "proxy_key",
    metadata,
    Column("id", String(36), primary_key=True),
    Column(
        "organization_id",
        String(36),
        ForeignKey("organization.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column(
        "api_key_id",
        Integer,
        ForeignKey("helicone_api_keys.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    Column(
        "provider_key_id",
        String(36),
        ForeignKey("provider_key.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("proxy_key_name", String(200), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)
