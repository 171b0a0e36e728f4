"""Every SQLite/PostgreSQL difference, each as one named construct.

No module outside this one compares dialect names. Callers use these types and functions as if
the difference did not exist.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    DateTime,
    Dialect,
    Float,
    Insert,
    Integer,
    Select,
    String,
    Table,
    TypeDecorator,
    case,
    cast,
    func,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from helioscope.store._driver_sql import BulkUpsert, KeyLookup, bulk_upsert, keys_in_org

# JSON documents: JSONB on PostgreSQL (indexable, compact), JSON text on SQLite.
# None is SQL NULL, not the JSON document `null`.
JsonDoc = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


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


def _insert(table: Table, dialect_name: str) -> Any:
    return pg_insert(table) if dialect_name == "postgresql" else sqlite_insert(table)


@lru_cache(maxsize=64)
def _upsert(table: Table, dialect_name: str, key: tuple[str, ...]) -> Insert:
    stmt: Any = _insert(table, dialect_name)
    updates = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in key}
    result: Insert = stmt.on_conflict_do_update(index_elements=key, set_=updates)
    return result


BUCKET_UNITS = ("minute", "hour", "day", "week", "month", "year")

# strftime format and extra modifiers per unit. 'weekday 0' moves forward to Sunday (or stays),
# then '-6 days' lands on that week's Monday.
_SQLITE_BUCKETS: dict[str, tuple[str, ...]] = {
    "minute": ("%Y-%m-%d %H:%M:00",),
    "hour": ("%Y-%m-%d %H:00:00",),
    "day": ("%Y-%m-%d 00:00:00",),
    "week": ("%Y-%m-%d 00:00:00", "weekday 0", "-6 days"),
    "month": ("%Y-%m-01 00:00:00",),
    "year": ("%Y-01-01 00:00:00",),
}

_PLAIN_KEY = re.compile(r"^[\w\- .:/@#+=,;!?()\[\]{}<>|~*&^%$']+$")


def _like_to_glob(pattern: str) -> str:
    """A LIKE pattern as the equivalent SQLite GLOB pattern (GLOB is case-sensitive).

    A backslash escapes the next character, as in PostgreSQL's LIKE, so that a pattern means
    the same on both engines.
    """
    out = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            char = next(chars, "\\")
            out.append(f"[{char}]" if char in "*?[" else char)
        elif char == "%":
            out.append("*")
        elif char == "_":
            out.append("?")
        elif char in "*?[":
            out.append(f"[{char}]")
        else:
            out.append(char)
    return "".join(out)


def _complete_escapes(pattern: str) -> str:
    """Double a trailing unpaired backslash, making it a literal backslash on both engines.

    (PostgreSQL otherwise fails with "LIKE pattern must not end with escape character".)
    """
    trailing = len(pattern) - len(pattern.rstrip("\\"))
    return pattern + "\\" if trailing % 2 else pattern


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SqlDialect:
    """Expressions whose SQL differs between SQLite and PostgreSQL, built for one engine.

    Query code asks this object for "a case-sensitive LIKE" or "property ``key`` as text" and
    never looks at which engine it is talking to.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._pg = name == "postgresql"

    def insert(self, table: Table) -> Any:
        """An INSERT that supports ``on_conflict_do_update`` / ``on_conflict_do_nothing``."""
        return _insert(table, self.name)

    def upsert(self, table: Table, key: tuple[str, ...]) -> Insert:
        """INSERT … ON CONFLICT (key) DO UPDATE every other column: last write wins.

        Execute it with a list of row dicts (executemany; SQLAlchemy batches the values).
        Helicone re-inserts a request row to update it (ReplacingMergeTree); we do the same, so a
        client that sends the same ``Helicone-Request-Id`` twice gets one row, not a failed batch.
        """
        return _upsert(table, self.name, key)

    def bulk_upsert(
        self, table: Table, key: tuple[str, ...], columns: tuple[str, ...]
    ) -> BulkUpsert:
        """The log writer's upsert of ``table``, run on the driver's executemany (built once).

        ``columns`` names every column of the table once, in the order the writer's tuples
        hold them.
        """
        return bulk_upsert(table, key, columns, self._pg)

    def keys_in_org(
        self, table: Table, key: str, returned: tuple[str, ...], count: int
    ) -> KeyLookup:
        """The log writer's lookup of ``count`` keys in one organization, on the driver.

        ``SELECT returned FROM table WHERE organization_id = ? AND key IN (?, …)``, with the
        organization as the first parameter and the keys after it (``lookup.rows(conn,
        params)``). SQLAlchemy's expanding
        ``IN`` processed each of up to 500 keys a statement: ~3 us of the writer's time a row.
        """
        return keys_in_org(table.name, key, returned, count, self._pg)

    def like(self, col: ColumnElement[Any], pattern: str) -> ColumnElement[bool]:
        """Case-sensitive LIKE (SQLite's LIKE ignores ASCII case, so it gets GLOB)."""
        pattern = _complete_escapes(pattern)
        if self._pg:
            return col.like(pattern)
        return col.op("GLOB")(literal(_like_to_glob(pattern)))

    def ilike(self, col: ColumnElement[Any], pattern: str) -> ColumnElement[bool]:
        """Case-insensitive LIKE; the caller supplies the wildcards."""
        pattern = _complete_escapes(pattern)
        if self._pg:
            return col.ilike(pattern)
        # SQLite's LIKE ignores case (ASCII letters); the escape makes '\' mean what it does
        # in PostgreSQL.
        return col.like(pattern, escape="\\")

    def contains(self, col: ColumnElement[Any], text: str) -> ColumnElement[bool]:
        """Case-insensitive substring match; ``text`` is literal (its % and _ match themselves)."""
        pattern = f"%{_escape_like(text)}%"
        if self._pg:
            return col.ilike(pattern, escape="\\")
        return col.like(pattern, escape="\\")

    def json_text(self, doc: ColumnElement[Any], key: str) -> ColumnElement[str]:
        """The value under ``key`` of a JSON object column, as text (NULL when absent)."""
        if self._pg:
            return doc.op("->>", return_type=String())(literal(key, String()))
        if _PLAIN_KEY.match(key):
            return func.json_extract(doc, literal(f'$."{key}"'), type_=String())
        # SQLite's JSON paths cannot quote every character ('"', '\\', control characters);
        # such keys are looked up among the object's entries instead.
        each = func.json_each(doc).table_valued("key", "value")
        return (
            select(cast(each.c.value, String())).where(each.c.key == literal(key)).scalar_subquery()
        )

    def json_number(self, doc: ColumnElement[Any], key: str) -> ColumnElement[float]:
        """The value under ``key`` of a JSON object column, as a number (NULL when absent)."""
        return cast(self.json_text(doc, key), Float())

    def property_in(
        self, doc: ColumnElement[Any], key: str, values: Sequence[str]
    ) -> ColumnElement[bool]:
        """True when the object column's ``key`` holds one of ``values`` (never when absent)."""
        return self.json_text(doc, key).in_(values)

    def json_has_key(self, doc: ColumnElement[Any], key: str) -> ColumnElement[bool]:
        """True when the JSON object column has ``key``."""
        if self._pg:
            return doc.op("?", is_comparison=True)(literal(key, String()))
        return self.json_text(doc, key).is_not(None)

    def api_key_hash(self, key_id: ColumnElement[Any], lookup: Any) -> ColumnElement[Any]:
        """The hash of the API key a request was logged with.

        Here ``lookup``, a subquery on the keys table, which shares the database with the log
        (a log kept elsewhere binds the organization's keys instead).
        """
        result: ColumnElement[Any] = lookup
        return result

    def least(self, a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[Any]:
        """The smaller of two values (SQLite's two-argument min, PostgreSQL's LEAST)."""
        return func.least(a, b) if self._pg else func.min(a, b)

    def greatest(self, a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[Any]:
        """The larger of two values."""
        return func.greatest(a, b) if self._pg else func.max(a, b)

    def time_bucket(
        self, col: ColumnElement[Any], unit: str, shift_minutes: int
    ) -> ColumnElement[str]:
        """The start of the ``unit`` holding ``col - shift_minutes``, as ``YYYY-MM-DD HH:MM:SS``.

        ``unit`` is one of ``BUCKET_UNITS`` (weeks start on Monday, as ClickHouse's and
        PostgreSQL's ``date_trunc`` do). Shifting first truncates in the client's wall-clock time
        (Helicone's ``timeZoneDifference``); the text is that local start, the same on both
        engines, for the caller to shift back.
        """
        if unit not in BUCKET_UNITS:
            raise ValueError(f"unknown time bucket unit {unit!r}")
        if self._pg:
            local = func.timezone("UTC", col) - func.make_interval(
                0, 0, 0, 0, 0, literal(int(shift_minutes), Integer())
            )
            truncated = func.date_trunc(literal(unit, String()), local)
            return func.to_char(truncated, "YYYY-MM-DD HH24:MI:SS", type_=String())
        fmt, *extra = _SQLITE_BUCKETS[unit]
        return func.strftime(fmt, col, f"{-int(shift_minutes):+d} minutes", *extra, type_=String())

    def json_keys(self, doc: ColumnElement[Any]) -> Any:
        """A table-valued expansion of a JSON object column's keys: select its ``.c.key``."""
        if self._pg:
            return func.jsonb_object_keys(doc).table_valued("key").render_derived()
        return func.json_each(doc).table_valued("key", "value")

    def nearest_ranks(
        self,
        bucket: ColumnElement[Any],
        value: ColumnElement[Any],
        scope: ColumnElement[bool],
        percents: Mapping[str, int],
    ) -> Select[Any]:
        """Per bucket, the nearest rank of each of ``percents`` (columns ``bucket``, then names).

        The nearest rank is the smallest value with at least p% of the bucket's values at or
        below it. Window functions, so that SQLite needs no percentile function.
        """
        ranked = (
            select(
                bucket.label("bucket"),
                value.label("value"),
                func.row_number().over(partition_by=bucket, order_by=value).label("rank"),
                func.count().over(partition_by=bucket).label("n"),
            )
            .where(scope, value.is_not(None))
            .subquery()
        )
        # rank >= ceil(p/100 * n)  <=>  100 * rank >= p * n, for whole ranks: no ceil() needed.
        picks = [
            func.min(case((ranked.c.rank * 100 >= literal(p) * ranked.c.n, ranked.c.value))).label(
                name
            )
            for name, p in percents.items()
        ]
        return select(ranked.c.bucket, *picks).group_by(ranked.c.bucket).order_by(ranked.c.bucket)
