"""Every SQLite/PostgreSQL difference, each as one named construct.

No module outside this one compares dialect names. Callers use these types and functions as if
the difference did not exist.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, Insert, Table, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

# JSON documents: JSONB on PostgreSQL (indexable, compact), JSON text on SQLite.
JsonDoc = JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timestamp that is always timezone-aware UTC in Python.

    PostgreSQL stores ``timestamptz``; SQLite stores naive UTC text, which sorts and compares
    correctly because every value is written in the same format.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        """Normalise to UTC; naive values are taken to be UTC already."""
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        value = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        """Return an aware UTC datetime whatever the engine gave back."""
        if value is None:
            return None
        if isinstance(value, str):  # pragma: no cover - aiosqlite returns datetimes
            value = dt.datetime.fromisoformat(value)
        assert isinstance(value, dt.datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


@lru_cache(maxsize=64)
def upsert(table: Table, dialect_name: str, key: tuple[str, ...]) -> Insert:
    """INSERT … ON CONFLICT (key) DO UPDATE every other column: last write wins.

    Execute it with a list of row dicts (executemany; SQLAlchemy batches the values). Helicone
    re-inserts a request row to update it (ReplacingMergeTree); we do the same, so a client that
    sends the same ``Helicone-Request-Id`` twice gets one row, not a failed batch.
    """
    stmt: Any = pg_insert(table) if dialect_name == "postgresql" else sqlite_insert(table)
    updates = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in key}
    result: Insert = stmt.on_conflict_do_update(index_elements=key, set_=updates)
    return result
