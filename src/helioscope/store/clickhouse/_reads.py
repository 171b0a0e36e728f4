"""A ClickHouse form of a read that runs unchanged but slowly, and why.

Every log read runs unchanged on ClickHouse (``tests/store/clickhouse/test_query_parity.py``
proves the answers equal SQLite's). One is given a faster form:

- ``property_keys``: the store's function expands every row's properties (an ARRAY JOIN of
  each Map's keys), which took 3.9 s at 10,000,000 rows; this reads the ``property_key`` table
  a materialized view keeps (one row per key), minus the hidden keys, with the same answer.
"""

from __future__ import annotations

from sqlalchemy import Column, MetaData, String, Table, select

from helioscope.store._dialects import UtcDateTime
from helioscope.store._runner import OrgDb
from helioscope.store.tables.log import hidden_property_key as hidden

# Kept by the materialized view of ``_ddl.property_keys_view`` (a set: replays cannot spoil it).
property_key = Table(
    "property_key",
    MetaData(),
    Column("organization_id", String()),
    Column("key", String()),
    Column("last_seen", UtcDateTime()),
)


async def property_keys(db: OrgDb, include_hidden: bool = False) -> list[str]:
    """Distinct keys of the organization's request properties, sorted (hidden ones left out)."""
    stmt = select(property_key.c.key).where(db.in_org(property_key)).distinct()
    if not include_hidden:
        stmt = stmt.where(property_key.c.key.not_in(select(hidden.c.key).where(db.in_org(hidden))))
    return sorted(str(key) for key in await db.scalars(stmt))
