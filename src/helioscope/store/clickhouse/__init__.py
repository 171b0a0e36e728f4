"""ClickHouse as the request log's engine: connection, schema, batched inserts, SQL dialect.

``Store.open(database_url, clickhouse_url)`` (``HELIOSCOPE_CLICKHOUSE_URL``) builds a
``ClickHouseLog`` as ``store.log``. See the ClickHouse section of ``store/README.md``.
"""

from helioscope.store.clickhouse._client import (
    ClickHouse,
    ClickHouseRefused,
    ClickHouseRejected,
    ClickHouseUnavailable,
    Rows,
)
from helioscope.store.clickhouse._copy import CopyReport, copy_log
from helioscope.store.clickhouse._ddl import TABLES
from helioscope.store.clickhouse._dialect import ClickHouseSqlDialect
from helioscope.store.clickhouse._insert import insert_log_rows
from helioscope.store.clickhouse._log import ClickHouseDb, ClickHouseLog
from helioscope.store.clickhouse._migrate import migrate
from helioscope.store.clickhouse._schema import schema
from helioscope.store.clickhouse._sql import DIALECT, compile_statement
from helioscope.store.clickhouse._url import ClickHouseUrl

__all__ = [
    "DIALECT",
    "TABLES",
    "ClickHouse",
    "ClickHouseDb",
    "ClickHouseLog",
    "ClickHouseRefused",
    "ClickHouseRejected",
    "ClickHouseSqlDialect",
    "ClickHouseUnavailable",
    "ClickHouseUrl",
    "CopyReport",
    "Rows",
    "compile_statement",
    "copy_log",
    "insert_log_rows",
    "migrate",
    "schema",
]
