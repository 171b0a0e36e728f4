"""SQLAlchemy Core statements rendered as ClickHouse SQL, values bound by the server.

The query functions of the store build SQLAlchemy Core expressions; this dialect renders the
same expressions for ClickHouse, so that a query is written once. Every difference is a named
rule here:

- bound values become ``{name:Type}`` placeholders that the server binds (a list becomes one
  ``{name:Array(Type)}``, which ``IN`` accepts), so no value is ever spliced into SQL text;
- a table of the log (a ReplacingMergeTree) is read ``FINAL``: replays and edits re-insert a
  row, and FINAL keeps only its newest version;
- NULL sorts first ascending and last descending, as on SQLite;
- ``x IS true`` becomes ``isNotDistinctFrom(x, true)`` (ClickHouse has no ``IS <boolean>``);
- ``/`` is ClickHouse's true division, ``random()`` is ``rand()``, an OFFSET alone gets the
  largest LIMIT (not -1), and ``FOR UPDATE`` is dropped (a re-insert replaces a row; nothing locks);
- ``MapKeys`` (a table-valued function: one row per key of a Map column) joins as
  ``ARRAY JOIN mapKeys(map) AS key``;
- ``QuantilesExact`` is ClickHouse's parametric ``quantilesExact(l1, …)(value)``: the levels
  are constants of the statement (a parametric function takes no bound values).

clickhouse-connect ships a SQLAlchemy dialect too (``clickhouse_connect.cc_sqlalchemy``); it
is built for reflection and its own Select subclass, binds datetimes as second-precision
``DateTime``, refuses ``ESCAPE`` and patches ``sqlalchemy.Select`` on import.
``bench/query.py --compare-dialects`` measures how many of our statements each one runs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, types
from sqlalchemy.engine.default import DefaultDialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import compiler, elements, sqltypes
from sqlalchemy.sql.functions import FunctionElement, GenericFunction
from sqlalchemy.sql.selectable import Join, Select, TableValuedAlias
from sqlalchemy.sql.visitors import InternalTraversal

from helioscope.store._dialects import UtcDateTime

# Tables whose rows are versions of one row (ReplacingMergeTree): always read FINAL.
REPLACING_TABLES = frozenset(
    {
        "request_response",
        "feedback",
        "session_tag",
        "score_value",
        "property_key",
        "session_summary",
        "session_property",
        "hidden_property_key",
        "request_property",
        "request_hour",
        "user_hour",
        "property_hour",
        "latency_hour",
        "property_user_hour",
    }
)
# On ClickHouse the bodies are (ZSTD) columns of the log row itself: a column store reads only
# the columns a query names, so they cost aggregates nothing, and a page of requests reads its
# hundred bodies instead of joining a table of ten million.
LOG_TABLE = "request_response"
BODY_TABLE = "request_body"


class MapKeys(GenericFunction[Any]):
    """The keys of a Map column, one row each; select ``.table_valued("key").c.key``."""

    name = "mapKeys"
    inherit_cache = True
    _register = False


class QuantilesExact(FunctionElement[Any]):
    """``quantilesExact(levels…)(value)``: an array of each level's value, from one selection.

    ClickHouse picks the value at 0-based position ``floor(level * n)`` of the sorted values
    (``nth_element``: no full sort). The levels are part of the cache key, since they are
    rendered into the SQL text.
    """

    inherit_cache = True
    _traverse_internals = [
        *FunctionElement._traverse_internals,
        ("levels", InternalTraversal.dp_plain_obj),
    ]

    def __init__(self, value: Any, levels: tuple[float, ...]) -> None:
        self.levels = tuple(float(level) for level in levels)
        super().__init__(value)


class QuantilesExactWeighted(QuantilesExact):
    """``quantilesExactWeighted(levels…)(value, weight)``: the same over counted values.

    ClickHouse sorts the distinct values and takes the first whose running weight reaches
    ``ceil(level * total weight)``: the 1-based rank ``floor(level * n) + 1`` of the
    unweighted form, except where ``level * n`` is whole, which ``nearest_ranks``' levels
    (just below ``p / 100``) never make it.
    """

    inherit_cache = True

    def __init__(self, value: Any, weight: Any, levels: tuple[float, ...]) -> None:
        self.levels = tuple(float(level) for level in levels)
        FunctionElement.__init__(self, value, weight)


@compiles(QuantilesExact)
def _quantiles_exact(element: QuantilesExact, compiler: Any, **kw: Any) -> str:
    # Every compiler, not only ClickHouse's: SQLAlchemy's default one renders a statement to
    # find its FROMs (``get_final_froms``). ``repr`` is the shortest text of the exact float.
    levels = ", ".join(repr(level) for level in element.levels)
    name = (
        "quantilesExactWeighted"
        if isinstance(element, QuantilesExactWeighted)
        else ("quantilesExact")
    )
    return f"{name}({levels})({compiler.process(element.clauses, **kw)})"


def clickhouse_type(type_: types.TypeEngine[Any], nullable: bool = False) -> str:
    """The ClickHouse type for a SQLAlchemy type (of a bound value or a CAST)."""
    name = _base_type(type_)
    return f"Nullable({name})" if nullable and not name.startswith("Array") else name


def _base_type(type_: types.TypeEngine[Any]) -> str:
    if isinstance(type_, UtcDateTime | sqltypes.DateTime):
        return "DateTime64(6, 'UTC')"
    if isinstance(type_, sqltypes.TupleType):
        return f"Tuple({', '.join(_base_type(t) for t in type_.types)})"
    if isinstance(type_, sqltypes.Boolean):
        return "Bool"
    if isinstance(type_, sqltypes.Integer):
        return "Int64"
    if isinstance(type_, sqltypes.Float | sqltypes.Numeric):
        return "Float64"
    if isinstance(type_, sqltypes.Date):
        return "Date"
    # String, Text, JSON (sent as its text) and untyped values.
    return "String"


def _is_body_table(from_: Any) -> bool:
    element = getattr(from_, "element", from_)
    return isinstance(element, Table) and element.name == BODY_TABLE


def _joins_bodies(from_: Any) -> bool:
    if isinstance(from_, Join):
        return _is_body_table(from_.right) or _joins_bodies(from_.left)
    return False


def _body_lookup(grouping: Any) -> str | None:
    """The body column a ``(SELECT body FROM request_body … same request)`` subquery reads."""
    select = getattr(grouping, "element", None)
    if not isinstance(select, Select):
        return None
    # The log table is among the FROMs until the subquery is correlated to the outer query.
    froms = [f for f in select.get_final_froms() if getattr(f, "name", None) != LOG_TABLE]
    if len(froms) != 1 or not _is_body_table(froms[0]):
        return None
    columns = list(select.selected_columns)
    if len(columns) != 1 or columns[0].name not in ("request_body", "response_body"):
        return None
    return str(columns[0].name)


class ClickHouseTypeCompiler(compiler.GenericTypeCompiler):
    """Type names inside CAST(… AS type); NULL survives casts (``cast_keep_nullable``)."""

    def process(self, type_: Any, **kw: Any) -> str:
        """Every SQLAlchemy type as its ClickHouse name."""
        return _base_type(type_)


# SQLAlchemy's compiler methods are untyped (2.1): calls to the base class go through this
# Any-typed name, so that mypy --strict checks our code without an ignore per call.
_Base: Any = compiler.SQLCompiler


class ClickHouseCompiler(compiler.SQLCompiler):
    """Renders Core statements as ClickHouse SQL with server-side parameters."""

    def bindparam_string(self, name: str, *args: Any, **kw: Any) -> str:
        """``{name:Type}``; ``Nullable(Type)`` when the value is None."""
        base: str = _Base.bindparam_string(self, name, *args, **kw)
        if kw.get("post_compile") and not kw.get("expanding"):
            return base
        type_ = kw.get("bindparam_type") or sqltypes.NULLTYPE
        bind = self.binds.get(name)
        is_none = bind is not None and bind.value is None and bind.callable is None
        ch_type = clickhouse_type(type_, nullable=is_none and not kw.get("expanding"))
        if kw.get("expanding"):
            ch_type = f"Array({ch_type})"
        return f"{{{name}:{ch_type}}}"

    def visit_bindparam(self, bindparam: Any, *args: Any, **kw: Any) -> str:
        """A list for IN is one array parameter, not SQLAlchemy's per-item expansion."""
        text: str = _Base.visit_bindparam(self, bindparam, *args, **kw)
        if bindparam.expanding and not kw.get("literal_binds"):
            self.post_compile_params = self.post_compile_params.difference([bindparam])
            return text[1:-1] if text.startswith("(") else text
        return text

    _bodies_inline = False

    def visit_select(self, select_stmt: Any, *args: Any, **kw: Any) -> str:
        """Note whether this SELECT joins the bodies, before its columns are rendered."""
        previous = self._bodies_inline
        self._bodies_inline = any(_joins_bodies(f) for f in select_stmt.get_final_froms())
        try:
            text: str = _Base.visit_select(self, select_stmt, *args, **kw)
        finally:
            self._bodies_inline = previous
        return text

    def visit_table(self, table: Any, *args: Any, **kw: Any) -> str:
        """A ReplacingMergeTree table read FINAL (after its alias, when it has one)."""
        if table.name == BODY_TABLE and kw.get("asfrom"):
            # Read alone, the bodies are the log rows that have one (as the SQL table holds).
            return (
                "(SELECT organization_id, request_id, request_body, response_body "
                f"FROM {LOG_TABLE} FINAL "
                "WHERE request_body IS NOT NULL OR response_body IS NOT NULL) AS request_body"
            )
        text: str = _Base.visit_table(self, table, *args, **kw)
        # An alias of this very table adds FINAL after the alias (``visit_alias``); inside a
        # subquery's alias (``FROM (SELECT … FROM t UNION ALL …) AS x``) the table is read
        # FINAL here, like any other.
        enclosing = kw.get("enclosing_alias")
        aliased = enclosing is not None and getattr(enclosing, "element", None) is table
        read_final = table.name in REPLACING_TABLES and not aliased
        if kw.get("asfrom") and read_final:
            text += " FINAL"
        return text

    def visit_alias(self, alias: Any, *args: Any, **kw: Any) -> str:
        """``table AS alias FINAL`` for an alias of a ReplacingMergeTree table."""
        text: str = _Base.visit_alias(self, alias, *args, **kw)
        element = alias.element
        if kw.get("asfrom") and isinstance(element, Table) and element.name in REPLACING_TABLES:
            text += " FINAL"
        return text

    def visit_join(self, join: Any, *args: Any, **kw: Any) -> str:
        """A join to ``MapKeys`` is an ARRAY JOIN; a join to the bodies is no join at all."""
        right = join.right
        kw.pop("asfrom", None)
        if _is_body_table(right):
            text: str = join.left._compiler_dispatch(self, asfrom=True, **kw)
            return text
        if isinstance(right, TableValuedAlias) and isinstance(right.element, MapKeys):
            left = join.left._compiler_dispatch(self, asfrom=True, **kw)
            keys = self.process(right.element, **kw)
            return f"{left} ARRAY JOIN {keys} AS {self.preparer.quote(right.name)}"
        text = _Base.visit_join(self, join, *args, asfrom=True, **kw)
        return text

    def visit_grouping(self, grouping: Any, *args: Any, **kw: Any) -> str:
        """A body looked up by a subquery on the same request is the log row's column."""
        body = _body_lookup(grouping)
        if body is not None:
            return f"{self.preparer.quote(LOG_TABLE)}.{self.preparer.quote(body)}"
        text: str = _Base.visit_grouping(self, grouping, *args, **kw)
        return text

    def visit_table_valued_column(self, element: Any, **kw: Any) -> str:
        """A column of an ARRAY JOIN is the joined alias itself."""
        if isinstance(element.table, TableValuedAlias) and isinstance(
            element.table.element, MapKeys
        ):
            return self.preparer.quote(element.table.name)
        text: str = _Base.visit_table_valued_column(self, element, **kw)
        return text

    def visit_column(self, column: Any, *args: Any, **kw: Any) -> str:
        """Columns of a ``MapKeys`` ARRAY JOIN name its alias; bodies are log columns."""
        table = column.table
        text: str = _Base.visit_column(self, column, *args, **kw)
        if isinstance(table, TableValuedAlias) and isinstance(table.element, MapKeys):
            return self.preparer.quote(table.name)
        prefix = f"{self.preparer.quote(BODY_TABLE)}."
        joined = self._bodies_inline and isinstance(table, Table) and table.name == BODY_TABLE
        if joined and text.startswith(prefix):
            return f"{self.preparer.quote(LOG_TABLE)}.{text.removeprefix(prefix)}"
        return text

    def visit_is_binary(self, binary: Any, operator: Any, **kw: Any) -> str:
        """``x IS true`` as a NULL-safe comparison; ``x IS NULL`` unchanged."""
        return self._is(binary, "isNotDistinctFrom", " IS ", **kw)

    def visit_is_not_binary(self, binary: Any, operator: Any, **kw: Any) -> str:
        """``x IS NOT true`` as a NULL-safe comparison; ``x IS NOT NULL`` unchanged."""
        return self._is(binary, "isDistinctFrom", " IS NOT ", **kw)

    def _is(self, binary: Any, function: str, keyword: str, **kw: Any) -> str:
        if isinstance(binary.right, elements.True_ | elements.False_):
            left, right = self.process(binary.left, **kw), self.process(binary.right, **kw)
            return f"{function}({left}, {right})"
        text: str = self._generate_generic_binary(binary, keyword, **kw)
        return text

    def visit_asc_op_unary_modifier(self, unary: Any, modifier: Any, **kw: Any) -> str:
        """``ASC NULLS FIRST``: NULL sorts as the smallest value, as on SQLite."""
        return f"{self.process(unary.element, **kw)} ASC NULLS FIRST"

    def visit_desc_op_unary_modifier(self, unary: Any, modifier: Any, **kw: Any) -> str:
        """``DESC NULLS LAST``, the mirror of ASC."""
        return f"{self.process(unary.element, **kw)} DESC NULLS LAST"

    def visit_random_func(self, fn: Any, **kw: Any) -> str:
        """ClickHouse spells it ``rand()``."""
        return "rand()"

    def limit_clause(self, select: Any, **kw: Any) -> str:
        """LIMIT and OFFSET as parameters; an OFFSET alone gets the largest LIMIT, not -1."""
        text = ""
        if select._limit_clause is not None:
            text += "\n LIMIT " + self.process(select._limit_clause, **kw)
        if select._offset_clause is not None:
            if select._limit_clause is None:
                text += "\n LIMIT 18446744073709551615"
            text += " OFFSET " + self.process(select._offset_clause, **kw)
        return text

    def for_update_clause(self, select: Any, **kw: Any) -> str:
        """Nothing: rows are replaced by re-inserting them, never locked."""
        return ""

    def visit_ilike_op_binary(self, binary: Any, operator: Any, **kw: Any) -> str:
        """ClickHouse's own ILIKE (backslash is its only escape character)."""
        return f"{self.process(binary.left, **kw)} ILIKE {self.process(binary.right, **kw)}"

    def visit_not_ilike_op_binary(self, binary: Any, operator: Any, **kw: Any) -> str:
        """``NOT ILIKE``."""
        return f"{self.process(binary.left, **kw)} NOT ILIKE {self.process(binary.right, **kw)}"


class ClickHouseDialect(DefaultDialect):
    """Enough of a SQLAlchemy dialect to compile statements for ClickHouse (no DBAPI)."""

    name = "clickhouse"
    statement_compiler = ClickHouseCompiler
    type_compiler_cls = ClickHouseTypeCompiler
    paramstyle = "named"
    positional = False
    supports_native_boolean = True
    div_is_floordiv = False
    supports_statement_cache = True
    supports_multivalues_insert = True
    # Case matters in ClickHouse identifiers; SQLAlchemy must not fold them.
    requires_name_normalize = False


DIALECT = ClickHouseDialect()


@dataclass(frozen=True, slots=True)
class CompiledQuery:
    """A statement as ClickHouse SQL, its parameters, and its result columns' names and types."""

    sql: str
    parameters: dict[str, Any]
    result_keys: list[str]
    result_types: list[Any]


_CACHE_SIZE = 512
_compiled: dict[Any, Any] = {}


def _compile(statement: Any) -> tuple[Any, Any]:
    """The compiled statement (from the cache when its shape was seen) and its parameters.

    SQLAlchemy's engines cache compiled statements by their cache key; a statement of 48
    columns takes ~5 ms to compile on this machine, as long as a point lookup takes to run.
    A statement with a None value is compiled afresh: its placeholder type depends on it.
    """
    key = statement._generate_cache_key()
    if key is None or any(b.value is None and b.callable is None for b in key.bindparams):
        compiled = statement.compile(dialect=DIALECT)
        return compiled, compiled.construct_params()
    compiled = _compiled.get(key.key)
    if compiled is None:
        compiled = ClickHouseCompiler(DIALECT, statement, cache_key=key)
        if len(_compiled) >= _CACHE_SIZE:
            _compiled.pop(next(iter(_compiled)))
        _compiled[key.key] = compiled
    return compiled, compiled.construct_params(extracted_parameters=key.bindparams)


# DateTime64's range. A time outside it (a window from year 2, say) cannot be bound; clamped,
# it compares with every stored time (all inside the range) as the time itself would.
_EARLIEST = dt.datetime(1900, 1, 1)
_LATEST = dt.datetime(2299, 12, 31, 23, 59, 59, 999999)


def _in_range(value: dt.datetime) -> dt.datetime:
    naive = value if value.tzinfo is None else value.astimezone(dt.UTC).replace(tzinfo=None)
    clamped = min(max(naive, _EARLIEST), _LATEST)
    if clamped == naive:
        return value
    return clamped if value.tzinfo is None else clamped.replace(tzinfo=dt.UTC)


def compile_statement(statement: Any) -> CompiledQuery:
    """Compile a Core statement for ClickHouse; parameters converted as the column types say."""
    compiled, params = _compile(statement)
    processors = compiled._bind_processors
    values: dict[str, Any] = {}
    for name, value in params.items():
        processor = processors.get(name)
        if processor is not None and not isinstance(value, list | tuple):
            value = processor(value)
        if isinstance(value, dt.datetime):
            value = _in_range(value)
        values[name] = value
    columns = compiled._result_columns
    return CompiledQuery(str(compiled), values, [c[0] for c in columns], [c[3] for c in columns])
