"""The store's query functions, run on ClickHouse: ``execute(statement)`` like SQLAlchemy's.

The store's read functions take a connection and call ``await conn.execute(statement)`` and
``SqlDialect(conn.dialect.name)``. ``ClickHouseConnection`` offers exactly that over a
``ClickHouse`` client: the statement is compiled by the ClickHouse dialect (``_sql``), run with
server-side parameters, and answered as a SQLAlchemy ``Result`` (``.one()``, ``.mappings()``,
``.scalars()``…), with the same result conversions the column types apply on SQLite and
PostgreSQL (aware UTC times; JSON text parsed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy import JSON
from sqlalchemy.engine import Result
from sqlalchemy.engine.result import IteratorResult, SimpleResultMetaData

from helioscope.store._dialects import SqlDialect
from helioscope.store.clickhouse._client import ClickHouse
from helioscope.store.clickhouse._dialect import ClickHouseSqlDialect
from helioscope.store.clickhouse._sql import DIALECT, compile_statement

# ``SqlDialect(conn.dialect.name)`` in the query functions builds the ClickHouse answers.
SqlDialect.engines[DIALECT.name] = ClickHouseSqlDialect


def _json_value(value: Any) -> Any:
    # Maps arrive as dicts already; JSON text columns (prompt_inputs) arrive as text.
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _processor(type_: Any) -> Callable[[Any], Any] | None:
    if isinstance(type_, JSON) or isinstance(getattr(type_, "impl", None), JSON):
        return _json_value
    processor: Callable[[Any], Any] | None = type_._cached_result_processor(DIALECT, None)
    return processor


class ClickHouseConnection:
    """What the store's read functions use of an ``AsyncConnection``, over ClickHouse."""

    dialect = DIALECT

    def __init__(self, clickhouse: ClickHouse) -> None:
        self.clickhouse = clickhouse

    async def execute(self, statement: Any) -> Result[Any]:
        """Compile ``statement`` for ClickHouse, run it, and answer as SQLAlchemy does."""
        query = compile_statement(statement)
        answer = await self.clickhouse.query(query.sql, query.parameters)
        processors = [_processor(t) for t in query.result_types]
        rows = answer.rows
        if any(processors):
            rows = [
                tuple(p(v) if p is not None else v for p, v in zip(processors, row, strict=True))
                for row in rows
            ]
        keys = query.result_keys or list(answer.columns)
        return IteratorResult(SimpleResultMetaData(keys), iter(rows))
