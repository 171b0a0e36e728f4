"""The statements that make the log's tables (``_ddl.TABLES``), in order.

CREATE for one table (or, on a cluster, its Replicated local table and the Distributed one),
the retention TTL, the settings each table is made with, and the property-keys view.
"""

from __future__ import annotations

import re

from helioscope.store.clickhouse._ddl import TABLES, LogTable

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,127}$")

# A part of fewer rows than this is written Compact (one data file) rather than Wide (two files
# a column): a writer's batch of 10,000 rows with 1 KB bodies passes the default 10 MB, and
# the log's ~60 columns were ~120 files an INSERT, created, then read and deleted by the merge.
# Compact, a batch took 14-17% less CPU (bench in store/README.md, "Ingest, round 8"); merged
# parts past it are Wide again, as reads want them.
WIDE_PART_SETTING = "min_rows_for_wide_part"
WIDE_PART_ROWS = 100_000


def ttl_clause(table: LogTable, retention_days: int | None) -> str | None:
    """The TTL expression for ``retention_days`` (None: keep rows for ever)."""
    if retention_days is None or table.ttl_column is None:
        return None
    return f"toDateTime({table.ttl_column}) + toIntervalDay({int(retention_days)})"


def _columns(table: LogTable) -> str:
    lines = []
    for name, kind, codec in table.columns:
        lines.append(f"    `{name}` {kind}" + (f" CODEC({codec})" if codec else ""))
    for column, kind in table.indexes:
        lines.append(f"    INDEX ix_{column} {column} TYPE {kind} GRANULARITY 1")
    return ",\n".join(lines)


def create_table(
    table: LogTable, database: str, cluster: str | None = None, retention_days: int | None = None
) -> list[str]:
    """The CREATE statements of one table (two on a cluster: local and Distributed)."""
    if cluster is not None and not _IDENTIFIER.match(cluster):
        raise ValueError(f"HELIOSCOPE_CLICKHOUSE_CLUSTER: {cluster!r} is not a cluster name")
    local = f"{table.name}_local" if cluster else table.name
    on_cluster = f" ON CLUSTER `{cluster}`" if cluster else ""
    engine = f"Replicated{table.engine}" if cluster else table.engine
    parts = [
        f"CREATE TABLE IF NOT EXISTS `{database}`.`{local}`{on_cluster} (\n{_columns(table)}\n)",
        f"ENGINE = {engine}({table.version})",
    ]
    if table.partition_by:
        parts.append(f"PARTITION BY {table.partition_by}")
    parts.append(f"ORDER BY ({', '.join(table.order_by)})")
    ttl = ttl_clause(table, retention_days)
    if ttl:
        parts.append(f"TTL {ttl}")
    # ttl_only_drop_parts: expired data leaves a whole part (a month) at a time, by unlinking
    # files instead of rewriting parts row by row.
    parts.append(
        f"SETTINGS index_granularity = 8192, ttl_only_drop_parts = {int(table.ttl_drops_parts)}, "
        f"{WIDE_PART_SETTING} = {WIDE_PART_ROWS}"
    )
    statements = ["\n".join(parts)]
    if cluster:
        shard = f"cityHash64({', '.join(table.shard_by)})"
        statements.append(
            f"CREATE TABLE IF NOT EXISTS `{database}`.`{table.name}`{on_cluster} "
            f"AS `{database}`.`{local}` "
            f"ENGINE = Distributed(`{cluster}`, `{database}`, `{local}`, {shard})"
        )
    return statements


PROPERTY_KEYS_VIEW = "property_key_view"


def property_keys_view(database: str, cluster: str | None = None) -> tuple[str, str]:
    """The view keeping ``property_key``, and the INSERT that fills it from earlier rows.

    The view adds each inserted block's keys; the INSERT copies the keys of rows logged
    before the view existed.
    """
    suffix = "_local" if cluster else ""
    on_cluster = f" ON CLUSTER `{cluster}`" if cluster else ""
    select = (
        "SELECT organization_id, arrayJoin(mapKeys(properties)) AS key, "
        "max(request_created_at) AS last_seen "
        f"FROM `{database}`.`request_response{suffix}` GROUP BY organization_id, key"
    )
    view = (
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS `{database}`.`{PROPERTY_KEYS_VIEW}`"
        f"{on_cluster} TO `{database}`.`property_key{suffix}` AS {select}"
    )
    return view, f"INSERT INTO `{database}`.`property_key{suffix}` {select}"


def schema(
    database: str, cluster: str | None = None, retention_days: int | None = None
) -> list[str]:
    """Every statement that creates the log's database, tables and view, in order."""
    on_cluster = f" ON CLUSTER `{cluster}`" if cluster else ""
    statements = [f"CREATE DATABASE IF NOT EXISTS `{database}`{on_cluster}"]
    for table in TABLES:
        statements += create_table(table, database, cluster, retention_days)
    return [*statements, property_keys_view(database, cluster)[0]]
