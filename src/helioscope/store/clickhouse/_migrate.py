"""Creating the log's tables, and keeping their retention in step with the setting."""

from __future__ import annotations

import re
from dataclasses import dataclass

from helioscope.store.clickhouse import _hourly as hourly
from helioscope.store.clickhouse import _properties as request_properties
from helioscope.store.clickhouse import _session_properties as session_properties
from helioscope.store.clickhouse import _sessions as sessions
from helioscope.store.clickhouse._client import ClickHouse
from helioscope.store.clickhouse._ddl import TABLES
from helioscope.store.clickhouse._schema import (
    PROPERTY_KEYS_VIEW,
    WIDE_PART_ROWS,
    WIDE_PART_SETTING,
    property_keys_view,
    schema,
    ttl_clause,
)


async def migrate(
    clickhouse: ClickHouse, cluster: str | None = None, retention_days: int | None = None
) -> list[str]:
    """Create what is missing and set each table's TTL; return the ALTERs it had to run.

    CREATE … IF NOT EXISTS leaves an existing table as it is, so a changed retention is
    applied with ALTER … MODIFY TTL (or REMOVE TTL), only when it differs from the table's.
    Everything it decides comes from one read of ``system.tables``; a log that is already
    current costs nothing more (~40 ms of CPU on chdb when it asked table by table), which every
    server, worker and command that opens the log does.
    """
    database = clickhouse.url.database
    found = await _tables(clickhouse, database)
    if _current(found, cluster, retention_days):
        return []

    def local(name: str) -> str:
        return f"{name}_local" if cluster else name

    had_view = PROPERTY_KEYS_VIEW in found
    had_summary = "session_summary" in found
    had_session_properties = local("session_property") in found
    had_properties = "request_property" in found
    had = {
        name: local(name) in found
        for name in ("user_hour", "property_hour", "property_user_hour", "latency_hour")
    }
    had["request_hour"] = await _keep_rollup(clickhouse, database, cluster, found)
    for statement in schema(database, cluster, retention_days):
        await clickhouse.command(statement)
    # What existed before a view, the summary, the property table or a rollup did: copied
    # or computed once (one INSERT … SELECT over the log, run by the server).
    if not had_view:
        await clickhouse.command(property_keys_view(database, cluster)[1])
    if not had_summary:
        await sessions.rebuild(clickhouse)
    if not had_session_properties:
        await session_properties.rebuild(clickhouse)
    if not had_properties:
        await request_properties.rebuild(clickhouse)
    missing = [name for name, existed in had.items() if not existed]
    if missing:
        await hourly.rebuild(clickhouse, missing)
    altered = await _retention(clickhouse, database, cluster, retention_days, found, missing)
    return altered + await _part_format(clickhouse, database, cluster, found)


async def _retention(
    clickhouse: ClickHouse,
    database: str,
    cluster: str | None,
    retention_days: int | None,
    found: dict[str, _Table],
    made: list[str],
) -> list[str]:
    """ALTER each existing table whose TTL differs from the setting; the ALTERs run."""
    altered: list[str] = []
    on_cluster = f" ON CLUSTER `{cluster}`" if cluster else ""
    for table in TABLES:
        name = f"{table.name}_local" if cluster else table.name
        # A table made just now (``made``: rollups rebuilt) was made with the wanted TTL.
        if table.ttl_column is None or name not in found or table.name in made:
            continue
        wanted = ttl_clause(table, retention_days)
        if _ttl(found[name].engine_full) == wanted:
            continue
        action = f"MODIFY TTL {wanted}" if wanted else "REMOVE TTL"
        statement = f"ALTER TABLE `{database}`.`{name}`{on_cluster} {action}"
        await clickhouse.command(statement)
        altered.append(statement)
    return altered


async def _part_format(
    clickhouse: ClickHouse, database: str, cluster: str | None, found: dict[str, _Table]
) -> list[str]:
    """ALTER each table made before ``WIDE_PART_SETTING`` (``_ddl``) to it; the ALTERs run."""
    altered: list[str] = []
    on_cluster = f" ON CLUSTER `{cluster}`" if cluster else ""
    for table in TABLES:
        name = f"{table.name}_local" if cluster else table.name
        if name not in found or _wide_part_rows(found[name].engine_full) == WIDE_PART_ROWS:
            continue
        setting = f"{WIDE_PART_SETTING} = {WIDE_PART_ROWS}"
        statement = f"ALTER TABLE `{database}`.`{name}`{on_cluster} MODIFY SETTING {setting}"
        await clickhouse.command(statement)
        altered.append(statement)
    return altered


def _wide_part_rows(engine_full: str) -> int | None:
    """The table's ``WIDE_PART_SETTING``, as ``engine_full`` prints it, or None."""
    found = re.search(rf"\b{WIDE_PART_SETTING} = (\d+)", engine_full)
    return int(found.group(1)) if found else None


@dataclass(frozen=True, slots=True)
class _Table:
    engine: str
    engine_full: str
    sorting_key: str


async def _tables(clickhouse: ClickHouse, database: str) -> dict[str, _Table]:
    """The database's tables and views by name, as ``system.tables`` describes them."""
    rows = await clickhouse.query(
        "SELECT name, engine, engine_full, sorting_key FROM system.tables "
        "WHERE database = {db:String}",
        {"db": database},
    )
    return {str(name): _Table(str(e), str(full), str(key)) for name, e, full, key in rows.rows}


def _current(found: dict[str, _Table], cluster: str | None, retention_days: int | None) -> bool:
    """Whether the log is as ``migrate`` would leave it.

    Every table and the view are there, the rollup is the current one, and each TTL is as the
    setting wants it.
    """
    if PROPERTY_KEYS_VIEW not in found:
        return False
    for table in TABLES:
        local = f"{table.name}_local" if cluster else table.name
        if local not in found or table.name not in found:
            return False
        if table.name == "request_hour" and not _is_current_rollup(found[local]):
            return False
        if _wide_part_rows(found[local].engine_full) != WIDE_PART_ROWS:
            return False
        if table.ttl_column is not None:
            if _ttl(found[local].engine_full) != ttl_clause(table, retention_days):
                return False
    return True


def _is_current_rollup(table: _Table) -> bool:
    """Whether ``request_hour`` is the SummingMergeTree of signed deltas without users."""
    return table.engine.endswith("SummingMergeTree") and "user_id" not in table.sorting_key


async def _keep_rollup(
    clickhouse: ClickHouse, database: str, cluster: str | None, found: dict[str, _Table]
) -> bool:
    """Whether ``request_hour`` exists as the current rollup (then it is kept).

    The rollups before it (a ReplacingMergeTree of whole sums; deltas grouped by user too,
    before ``user_hour``) are dropped, to be rebuilt.
    """
    table = found.get("request_hour_local" if cluster else "request_hour")
    if table is None:
        return False
    if _is_current_rollup(table):
        return True
    on_cluster = f" ON CLUSTER `{cluster}`" if cluster else ""
    for name in ("request_hour", "request_hour_local") if cluster else ("request_hour",):
        await clickhouse.command(f"DROP TABLE IF EXISTS `{database}`.`{name}`{on_cluster}")
    return False


def _ttl(engine_full: str) -> str | None:
    """The TTL expression in a table's ``engine_full``, as ClickHouse prints it, or None."""
    if " TTL " not in engine_full:
        return None
    return engine_full.split(" TTL ", 1)[1].split(" SETTINGS ", 1)[0].strip()
