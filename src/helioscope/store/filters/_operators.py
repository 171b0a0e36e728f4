"""The operator table: each Helicone operator, the kinds of column it applies to, and its SQL."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Float,
    String,
    and_,
    cast,
    false,
    literal,
    not_,
    null,
    or_,
)

from helioscope.errors import InvalidFilter
from helioscope.store._dialects import SqlDialect, UtcDateTime
from helioscope.store.filters._values import (
    Kind,
    as_bool,
    as_number,
    as_text,
    as_timestamp,
    check_pattern,
)

Expr = ColumnElement[Any]
Cond = ColumnElement[bool]

TEXT, NUMBER, TIME, BOOL, VECTOR = Kind.TEXT, Kind.NUMBER, Kind.TIMESTAMP, Kind.BOOL, Kind.VECTOR
TIME_TEXT = Kind.TIMESTAMP_TEXT

NULL_VALUE = "null"  # `equals: "null"` means IS NULL, `not-equals: "null"` IS NOT NULL
EMPTY_VALUE = "__empty__"  # `equals: "__empty__"` means NULL or ''


@dataclass(frozen=True, slots=True)
class Operator:
    """An operator: the column kinds it accepts and how it compiles."""

    kinds: frozenset[Kind]
    build: Callable[[SqlDialect, Expr, Any], Cond]


def _kinds(*kinds: Kind) -> frozenset[Kind]:
    return frozenset(kinds)


def _bind(value: Any) -> Any:
    # Times get our UTC type, so SQLite compares them in the exact text format it stores.
    return literal(value, UtcDateTime()) if isinstance(value, dt.datetime) else literal(value)


# Builders receive the converted Python value; comparisons bind it, text matches let the
# dialect bind the pattern it needs. Either way the value is a parameter, never SQL text.
OPERATORS: dict[str, Operator] = {
    "equals": Operator(_kinds(TEXT, NUMBER, TIME, BOOL), lambda _d, c, v: c == _bind(v)),
    "not-equals": Operator(_kinds(TEXT, NUMBER, TIME, BOOL), lambda _d, c, v: c != _bind(v)),
    "like": Operator(_kinds(TEXT), lambda d, c, v: d.like(c, v)),
    "ilike": Operator(_kinds(TEXT), lambda d, c, v: d.ilike(c, v)),
    "contains": Operator(_kinds(TEXT, VECTOR), lambda d, c, v: d.contains(c, v)),
    "not-contains": Operator(_kinds(TEXT), lambda d, c, v: not_(d.contains(c, v))),
    "gt": Operator(_kinds(NUMBER, TIME, TIME_TEXT), lambda _d, c, v: c > _bind(v)),
    "gte": Operator(_kinds(NUMBER, TIME, TIME_TEXT), lambda _d, c, v: c >= _bind(v)),
    "lt": Operator(_kinds(NUMBER, TIME, TIME_TEXT), lambda _d, c, v: c < _bind(v)),
    "lte": Operator(_kinds(NUMBER, TIME, TIME_TEXT), lambda _d, c, v: c <= _bind(v)),
}
_PATTERNS = frozenset(("like", "ilike", "contains", "not-contains"))


def _special(op: str, col: Expr, value: Any, kind: Kind) -> Cond | None:
    """Helicone's special values, or None when ``value`` is an ordinary value."""
    if value == NULL_VALUE and op in ("equals", "not-equals"):
        return col.is_(None) if op == "equals" else col.is_not(None)
    if value == EMPTY_VALUE and op in ("equals", "not-equals"):
        empty = or_(col.is_(None), col == "") if kind is TEXT else col.is_(None)
        return empty if op == "equals" else not_(empty)
    return None


_INT64 = float(2**63)


def _converted(kind: Kind, value: Any, scale: int, path: str) -> Any:
    """The value checked and converted for its column's kind."""
    if kind in (TEXT, VECTOR):
        return as_text(value, path)
    if kind is NUMBER:
        number = as_number(value, path) * scale
        if not -_INT64 <= number < _INT64:
            # Columns are 64-bit integers (cost in nano-USD): past that the driver cannot bind
            # the value, and no row could match it anyway.
            raise InvalidFilter(f"{path}: {value!r} is out of range")
        if scale != 1:
            return math.floor(number)  # Helicone floors cost x 1e9
        return int(number) if number.is_integer() else number
    if kind in (TIME, TIME_TEXT):
        return as_timestamp(value, path)
    return as_bool(value, path)


def compile_condition(
    d: SqlDialect, op: str, col: Expr, kind: Kind, value: Any, scale: int, path: str
) -> Cond:
    """One ``{operator: value}`` against a column of ``kind``."""
    operator = OPERATORS.get(op)
    if operator is None:
        known = ", ".join(OPERATORS)
        raise InvalidFilter(f"{path}: unknown operator {op!r} (known: {known})")
    if kind not in operator.kinds:
        raise InvalidFilter(f"{path}: operator {op!r} does not apply to a {kind.value} column")
    special = _special(op, col, value, kind)
    if special is not None:
        return special
    if kind is TIME_TEXT:
        try:
            converted = _converted(kind, as_text(value, path), scale, path)
        except InvalidFilter:
            return false()  # a string that names no time: no row is before or after it
        return operator.build(d, col, converted)
    converted = _converted(kind, value, scale, path)
    if op in _PATTERNS:
        check_pattern(converted, path)
    return operator.build(d, col, converted)


def all_of(conditions: list[Cond]) -> Cond | None:
    """AND of the conditions, or None when there are none."""
    if not conditions:
        return None
    return conditions[0] if len(conditions) == 1 else and_(*conditions)


_SQL_TYPES: dict[Kind, Any] = {
    TEXT: String(),
    VECTOR: String(),
    NUMBER: Float(),
    TIME: UtcDateTime(),
    TIME_TEXT: UtcDateTime(),
    BOOL: Boolean(),
}


def null_of(kind: Kind) -> Expr:
    """A typed NULL, to check a condition's operator and value without a real column."""
    return cast(null(), _SQL_TYPES[kind])
