"""``SqlDialect`` for ClickHouse: the store's named engine differences, in ClickHouse's terms.

The filter compiler and the query functions ask a ``SqlDialect`` for "a case-sensitive LIKE",
"property ``key`` as text" or "the day this time falls in"; this subclass answers for
ClickHouse, where the log keeps ``properties`` and ``scores`` as Maps (not JSON), LIKE is
already case-sensitive, ILIKE exists, and time buckets are ``toStartOf…`` functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Float,
    Integer,
    Select,
    String,
    bindparam,
    case,
    false,
    func,
    literal,
    null,
    select,
    tuple_,
)

from helioscope.store._dialects import BUCKET_UNITS, SqlDialect
from helioscope.store.clickhouse._properties import IN_COLUMNS
from helioscope.store.clickhouse._properties import request_property as rp
from helioscope.store.clickhouse._sql import MapKeys, QuantilesExact

# Columns ClickHouse keeps as Map(String, …); any other JSON column is JSON text.
MAP_COLUMNS = frozenset({"properties", "scores"})

# The organization's API keys, bound by ``ClickHouseDb`` when a statement names them (the
# ``request.auth_hash`` filter: keys are metadata, kept in SQLite/PostgreSQL).
KEY_IDS = "api_key_ids"
KEY_HASHES = "api_key_hashes"

# How far below p/100 each quantile level is set (``nearest_ranks``: why this value is exact).
BELOW_LEVEL = 1e-12

_TRUNCATE = {
    "minute": "toStartOfMinute",
    "hour": "toStartOfHour",
    "day": "toStartOfDay",
    "week": "toMonday",
    "month": "toStartOfMonth",
    "year": "toStartOfYear",
}


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _complete_escapes(pattern: str) -> str:
    # A trailing unpaired backslash means a literal backslash, as on the other engines.
    trailing = len(pattern) - len(pattern.rstrip("\\"))
    return pattern + "\\" if trailing % 2 else pattern


def _is_map(doc: ColumnElement[Any]) -> bool:
    return getattr(doc, "name", None) in MAP_COLUMNS


def _is_properties(doc: ColumnElement[Any]) -> bool:
    return getattr(doc, "name", None) == "properties"


class ClickHouseSqlDialect(SqlDialect):
    """The engine differences of ``SqlDialect``, answered for ClickHouse."""

    def __init__(self, name: str = "clickhouse") -> None:
        super().__init__(name)

    def like(self, col: ColumnElement[Any], pattern: str) -> ColumnElement[bool]:
        """ClickHouse's LIKE is case-sensitive, and backslash escapes as in PostgreSQL."""
        return col.like(literal(_complete_escapes(pattern), String()))

    def ilike(self, col: ColumnElement[Any], pattern: str) -> ColumnElement[bool]:
        """ClickHouse's ILIKE."""
        return col.ilike(literal(_complete_escapes(pattern), String()))

    def contains(self, col: ColumnElement[Any], text: str) -> ColumnElement[bool]:
        """Case-insensitive substring match, ``text`` taken literally."""
        return col.ilike(literal(f"%{_escape_like(text)}%", String()))

    def json_text(self, doc: ColumnElement[Any], key: str) -> ColumnElement[str]:
        """A Map's value under ``key`` (NULL when absent), or a JSON text object's."""
        bound = literal(key, String())
        if _is_map(doc):
            value = func.arrayElement(doc, bound, type_=String())
            return case((func.mapContains(doc, bound), value), else_=null())
        # JSON text: a string value as itself, anything else as its JSON (SQLite's
        # json_extract gives numbers as numbers, which compare and print the same way).
        kind = func.JSONType(doc, bound)
        return case(
            (kind == "String", func.JSONExtractString(doc, bound)),
            (kind.in_(["Null"]), null()),
            (func.JSONHas(doc, bound), func.JSONExtractRaw(doc, bound)),
            else_=null(),
        )

    def json_number(self, doc: ColumnElement[Any], key: str) -> ColumnElement[float]:
        """A Map's number under ``key``, NULL when absent."""
        bound = literal(key, String())
        if _is_map(doc):
            value = func.arrayElement(doc, bound, type_=Float())
            return case((func.mapContains(doc, bound), value), else_=null())
        return func.toFloat64OrNull(self.json_text(doc, key), type_=Float())

    def json_has_key(self, doc: ColumnElement[Any], key: str) -> ColumnElement[bool]:
        """True when the Map (or JSON object) has ``key``."""
        bound = literal(key, String())
        if _is_map(doc):
            return func.mapContains(doc, bound, type_=Boolean())
        return func.JSONHas(doc, bound) == 1

    def property_in(
        self, doc: ColumnElement[Any], key: str, values: Sequence[str]
    ) -> ColumnElement[bool]:
        """The requests holding ``key`` = one of ``values`` in ``request_property``.

        Over 10,000,000 rows a lookup in every row's Map took 1,100 ms; this is a set of the
        matching requests, built once, and no set at all when no request matches (the
        subquery in the guard is a constant): 250 ms then, ~500 ms with a small set (README).
        A large set costs more than the Map (3.7 s for 250,000 of 10M rows), which is why
        only the user metrics' rate-limited count, a rare property, reads it this way.
        """
        table = getattr(doc, "table", None)
        if not _is_properties(doc) or table is None or key.lower() in IN_COLUMNS:
            return super().property_in(doc, key, values)
        found = select(rp.c.organization_id, rp.c.request_created_at, rp.c.request_id).where(
            rp.c.key == key, rp.c.value.in_(list(values))
        )
        any_found = select(func.count()).select_from(found.subquery()).scalar_subquery() > 0
        row = tuple_(table.c.organization_id, table.c.request_created_at, table.c.request_id)
        return case((any_found, row.in_(found)), else_=false())

    def api_key_hash(self, key_id: ColumnElement[Any], lookup: Any) -> ColumnElement[Any]:
        """The key's hash from two bound arrays (ids, hashes) of the organization's keys."""
        ids = bindparam(KEY_IDS, value=[], type_=Integer(), expanding=True)
        hashes = bindparam(KEY_HASHES, value=[], type_=String(), expanding=True)
        found = func.indexOf(ids, key_id)
        return case((found > 0, func.arrayElement(hashes, found, type_=String())), else_=null())

    def least(self, a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[Any]:
        """``least``, as in PostgreSQL."""
        return func.least(a, b)

    def greatest(self, a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[Any]:
        """``greatest``, as in PostgreSQL."""
        return func.greatest(a, b)

    def time_bucket(
        self, col: ColumnElement[Any], unit: str, shift_minutes: int
    ) -> ColumnElement[str]:
        """The bucket's local start as ``YYYY-MM-DD HH:MM:SS`` (weeks start on Monday).

        ``toString`` of a DateTime is injective, so ClickHouse groups by the DateTime and
        formats each bucket once, not each row.
        """
        return func.toString(self.bucket_start(col, unit, shift_minutes), type_=String())

    def bucket_start(
        self, col: ColumnElement[Any], unit: str, shift_minutes: int
    ) -> ColumnElement[Any]:
        """The bucket's local start as a ``DateTime`` (``time_bucket`` is its text).

        On a ``DateTime`` column (the rollups' hour) it stays in seconds: over the latency
        histogram's 5M rows, 185 ms CPU against 235 ms through ``DateTime64``.
        """
        if unit not in BUCKET_UNITS:
            raise ValueError(f"unknown time bucket unit {unit!r}")
        local = col - func.toIntervalMinute(literal(int(shift_minutes), Integer()))
        start = getattr(func, _TRUNCATE[unit])(local)
        return func.toDateTime(start, "UTC")

    def json_keys(self, doc: ColumnElement[Any]) -> Any:
        """The keys of a Map column as an ARRAY JOIN: select ``.c.key``."""
        return MapKeys(doc).table_valued("key")

    def nearest_ranks(
        self,
        bucket: ColumnElement[Any],
        value: ColumnElement[Any],
        scope: ColumnElement[bool],
        percents: Mapping[str, int],
    ) -> Select[Any]:
        """The same nearest ranks, each bucket's values selected once (no window, no sort).

        Window functions rank every row, which over 10,000,000 rows costs ClickHouse seconds;
        sorting each bucket's array (``arraySort(groupArray(v))``) cost 1,000 ms CPU at 10M
        rows here; ``quantilesExact`` selects the positions (``nth_element``) instead: 530 ms,
        of which ~400 ms is reading the rows (README: the 10M table).

        ``quantilesExact(level)`` takes the value at 0-based position ``floor(level * n)``;
        the nearest rank is position ``ceil(p * n / 100) - 1``. The two differ exactly when
        ``p * n / 100`` is whole, so each level is ``p / 100 - 1e-12``: for ``n`` under
        10**10, ``n * 1e-12`` is above the product's rounding error (~``n * 2e-16``) and under
        the smallest fraction ``p * n / 100`` can have (0.01), so the floor is one below a
        whole ``p * n / 100`` and unchanged otherwise. ``test_quantiles.py`` checks every
        bucket size from 1 to 600 against the nearest rank.
        """
        levels = tuple(p / 100 - BELOW_LEVEL for p in percents.values())
        selected = QuantilesExact(value, levels)
        picks = [
            func.arrayElement(selected, index + 1, type_=value.type).label(name)
            for index, name in enumerate(percents)
        ]
        return (
            select(bucket.label("bucket"), *picks)
            .where(scope, value.is_not(None))
            .group_by(bucket)
            .order_by(bucket)
        )
