"""The filter compiler: a Helicone filter tree to a WHERE and a HAVING condition.

The tree is ``"all"``, a leaf ``{table: {column: {operator: value}}}``, or a branch
``{left, operator: "and" | "or", right}``. Columns come from the allowlist in ``_fields``,
operators from the table in ``_operators``; values are always bound parameters, and nothing the
client sends reaches SQL text. A bad node is a 400 naming its path (``filter.left.…``).

Like Helicone, one tree compiles twice: plain columns go to WHERE (aggregates read TRUE
there), and per-group aggregates, which only grouped queries supply, go to HAVING (plain
columns read TRUE there). A query that supplies no aggregates ignores aggregate leaves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, true

from helioscope.errors import InvalidFilter
from helioscope.store._dialects import SqlDialect
from helioscope.store.filters._fields import MAP_TABLES, TABLES, Field, MapField
from helioscope.store.filters._operators import (
    EMPTY_VALUE,
    NULL_VALUE,
    all_of,
    compile_condition,
    null_of,
)
from helioscope.store.filters._values import check_text

Cond = ColumnElement[bool]
MAX_DEPTH = 64
_BRANCH_KEYS = frozenset({"left", "operator", "right"})


@dataclass(frozen=True, slots=True)
class Compiled:
    """A compiled filter: conditions for WHERE and for HAVING (None means no condition)."""

    where: Cond | None
    having: Cond | None


def _combine(op: str, left: Cond | None, right: Cond | None) -> Cond | None:
    if left is None or right is None:
        # A side with no condition is TRUE: AND keeps the other side, OR becomes TRUE.
        if op == "and":
            return left if right is None else right
        return None
    return and_(left, right) if op == "and" else or_(left, right)


class FilterCompiler:
    """Compiles filter trees for one engine, with the aggregates of one kind of query."""

    def __init__(
        self,
        dialect: SqlDialect,
        aggregates: Mapping[str, ColumnElement[Any]] | None = None,
        tables: Mapping[str, Mapping[str, Field | MapField]] | None = None,
    ) -> None:
        self.d = dialect
        self.aggregates = aggregates or {}
        # Another allowlist (e.g. prompts) replaces the request log's, map tables included.
        self.tables = TABLES if tables is None else tables
        self.map_tables: Mapping[str, MapField] = MAP_TABLES if tables is None else {}

    def compile(self, node: Any, path: str = "filter") -> Compiled:
        """Compile a tree; raises ``InvalidFilter`` naming the first bad node."""
        return self._node(node, path, 0)

    def _node(self, node: Any, path: str, depth: int) -> Compiled:
        if depth > MAX_DEPTH:
            raise InvalidFilter(f"{path}: the filter is nested more than {MAX_DEPTH} levels deep")
        if node == "all":
            return Compiled(None, None)
        if not isinstance(node, dict):
            raise InvalidFilter(
                f'{path}: expected "all", a leaf {{table: {{column: {{operator: value}}}}}} '
                f"or a branch {{left, operator, right}}, got {node!r:.80}"
            )
        if _BRANCH_KEYS & node.keys():
            return self._branch(node, path, depth)
        return self._leaf(node, path)

    def _branch(self, node: dict[str, Any], path: str, depth: int) -> Compiled:
        missing = _BRANCH_KEYS - node.keys()
        extra = node.keys() - _BRANCH_KEYS
        if missing or extra:
            wrong = sorted(missing) if missing else sorted(extra)
            what = "is missing" if missing else "has unexpected keys"
            raise InvalidFilter(
                f"{path}: a branch needs left, operator and right; it {what} {wrong}"
            )
        op = node["operator"]
        if op not in ("and", "or"):
            raise InvalidFilter(f'{path}.operator: expected "and" or "or", got {op!r}')
        left = self._node(node["left"], f"{path}.left", depth + 1)
        right = self._node(node["right"], f"{path}.right", depth + 1)
        return Compiled(
            _combine(op, left.where, right.where), _combine(op, left.having, right.having)
        )

    def _leaf(self, leaf: dict[str, Any], path: str) -> Compiled:
        where: list[Cond] = []
        having: list[Cond] = []
        for table, columns in leaf.items():
            table_path = f"{path}.{table}"
            if not isinstance(columns, dict):
                raise InvalidFilter(f"{table_path}: expected an object of columns")
            if table in self.map_tables:
                where += self._map(self.map_tables[table], columns, table_path)
                continue
            fields = self.tables.get(table)
            if fields is None:
                known = ", ".join(self.tables)
                raise InvalidFilter(f"{table_path}: unknown table (known: {known})")
            for name, operators in columns.items():
                field = fields.get(name)
                column_path = f"{table_path}.{name}"
                if field is None:
                    known = ", ".join(fields)
                    raise InvalidFilter(
                        f"{column_path}: unknown column of {table} (known: {known})"
                    )
                if isinstance(field, MapField):
                    if not isinstance(operators, dict):
                        raise InvalidFilter(f"{column_path}: expected an object of keys")
                    where += self._map(field, operators, column_path)
                elif field.aggregate is not None:
                    having += self._aggregate(field, operators, column_path)
                else:
                    assert field.build is not None
                    raw = field.raw(self.d) if field.raw is not None else None
                    where += self._conditions(
                        field, field.build(self.d), operators, column_path, raw
                    )
        return Compiled(all_of(where), all_of(having))

    def _conditions(
        self,
        field: Field | MapField,
        col: ColumnElement[Any],
        operators: Any,
        path: str,
        raw: ColumnElement[Any] | None = None,
    ) -> list[Cond]:
        if not isinstance(operators, dict):
            raise InvalidFilter(f"{path}: expected an object of {{operator: value}}")
        scale = field.scale if isinstance(field, Field) else 1
        return [
            compile_condition(
                self.d, op, indexed(op, value, col, raw), field.kind, value, scale, f"{path}.{op}"
            )
            for op, value in operators.items()
        ]

    def _map(self, field: MapField, keys: dict[str, Any], path: str) -> list[Cond]:
        out: list[Cond] = []
        for key, operators in keys.items():
            check_text(key, f"{path}.{key}")
            raw = field.raw(self.d, key) if field.raw is not None else None
            col = field.build(self.d, key)
            conditions = self._conditions(field, col, operators, f"{path}.{key}", raw)
            if conditions and field.guard is not None:
                conditions = [and_(field.guard(self.d, key), *conditions)]
            out += conditions
        return out

    def _aggregate(self, field: Field, operators: Any, path: str) -> list[Cond]:
        assert field.aggregate is not None
        col = self.aggregates.get(field.aggregate)
        if col is None:
            # This query has no groups: the leaf reads TRUE, but its values are still checked.
            self._conditions(field, null_of(field.kind), operators, path)
            return []
        return self._conditions(field, col, operators, path)


def indexed(
    op: str, value: Any, col: ColumnElement[Any], raw: ColumnElement[Any] | None
) -> ColumnElement[Any]:
    """The column to compare: the bare indexed column when that cannot change the answer.

    ``coalesce(col, '') = 'x'`` and ``col = 'x'`` agree for any non-empty ``'x'``, but only the
    second can use an index on ``col``.
    """
    if raw is not None and op == "equals" and isinstance(value, str):
        if value not in ("", NULL_VALUE, EMPTY_VALUE):
            return raw
    return col


def compile_filter(
    node: Any,
    dialect: SqlDialect,
    aggregates: Mapping[str, ColumnElement[Any]] | None = None,
    path: str = "filter",
    tables: Mapping[str, Mapping[str, Field | MapField]] | None = None,
) -> Compiled:
    """Compile a Helicone filter tree (see the module docstring) over ``tables``' allowlist."""
    return FilterCompiler(dialect, aggregates, tables).compile(node, path)


def where_or_true(compiled: Compiled) -> Cond:
    """The WHERE condition, TRUE when there is none."""
    return compiled.where if compiled.where is not None else true()
