"""``request_hour`` and ``user_hour``: the log's sums per hour, kept exact.

``request_hour`` holds the sums per (model, provider, status), ``user_hour`` a few per user
(rows with a user): two tables, so that the dashboard's sums read thousands of rows and not a
row per active user and group (README: "The rollup split").

Both are SummingMergeTrees and every write to them is a signed delta: rows new to the log
add their sums, a row written again (a replay, an edited row sent again) subtracts its stored
version's sums and adds the new one's. Reads say FINAL (``_sql``), which sums each group's
deltas, and a group whose sums net to zero (every row left it) is dropped. A replay of an
unchanged batch therefore writes nothing here; no hour is recomputed on the normal path.

The deltas are summed per group from the batch's columns as inserted (old versions with sign
-1), a column at a time (``_deltas``), and written as one small INSERT per rollup.

Subtracting a stored row's sums is right only if they were added, which a batch that failed
after its log insert breaks. So the log heals the rollup (``heal``) before its first batch (a
crash may have cut one) and after any failed batch: the hours of every row written since are
recomputed as the log's exact sums minus the rollup's current ones, in one ``INSERT …
SELECT`` (idempotent: run twice, the second adds nothing).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table

from helioscope.store.clickhouse._client import ClickHouse
from helioscope.store.clickhouse._ddl import HOURLY_SUMS, PROPERTY_HOUR_SUMS, USER_HOUR_SUMS
from helioscope.store.clickhouse._properties import IN_COLUMNS

if TYPE_CHECKING:
    pass

# What each sum adds per log row (ClickHouse SQL over request_response), as metrics.py counts:
# NULLs add nothing, ``threat`` and ``cache_enabled`` count when true.
SUMMED: dict[str, str] = {
    "requests": "1",
    "cost": "coalesce(cost, 0)",
    "latency_sum": "coalesce(latency, 0)",
    "latency_count": "latency IS NOT NULL",
    "ttft_sum": "coalesce(time_to_first_token, 0)",
    "ttft_count": "time_to_first_token IS NOT NULL",
    "ttft_positive_sum": "coalesce(if(time_to_first_token > 0, time_to_first_token, 0), 0)",
    "ttft_positive_count": "coalesce(time_to_first_token > 0, 0)",
    "prompt_tokens": "coalesce(prompt_tokens, 0)",
    "completion_tokens": "coalesce(completion_tokens, 0)",
    "reasoning_tokens": "coalesce(reasoning_tokens, 0)",
    "prompt_cache_read_tokens": "coalesce(prompt_cache_read_tokens, 0)",
    "prompt_cache_write_tokens": "coalesce(prompt_cache_write_tokens, 0)",
    "threats": "coalesce(threat, false)",
    "cache_enabled": "cache_enabled",
    "errors": "status != 200",
}
assert tuple(SUMMED) == PROPERTY_HOUR_SUMS == (*HOURLY_SUMS, "errors")

# The log's columns the sums and groups read, with their types: the payload of a delta, and
# what the replaced-row check reads of a stored row (``OLD_VALUES``).
UNIT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("organization_id", "String"),
    ("request_created_at", "Int64"),  # microseconds since the epoch (``ticks``)
    ("model", "String"),
    ("provider", "String"),
    ("status", "Int32"),
    ("user_id", "Nullable(String)"),
    ("cost", "Nullable(Int64)"),
    ("latency", "Nullable(Int64)"),
    ("time_to_first_token", "Nullable(Int64)"),
    ("prompt_tokens", "Nullable(Int64)"),
    ("completion_tokens", "Nullable(Int64)"),
    ("reasoning_tokens", "Nullable(Int64)"),
    ("prompt_cache_read_tokens", "Nullable(Int64)"),
    ("prompt_cache_write_tokens", "Nullable(Int64)"),
    ("threat", "Nullable(Bool)"),
    ("cache_enabled", "Bool"),
)
UNIT_NAMES = tuple(name for name, _ in UNIT_COLUMNS)
# The same columns read from the log (the time as ticks, as the payload carries it).
OLD_VALUES = ", ".join(
    "toUnixTimestamp64Micro(request_created_at)" if name == "request_created_at" else name
    for name in UNIT_NAMES
)

# The rollups' hour is a DateTime (1970 to 2106): rows outside it stay out (``_hourly_reads``
# reads them from the log).
FIRST_HOUR = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
END_HOUR = dt.datetime(2106, 1, 1, tzinfo=dt.UTC)
_IN_RANGE = (
    "request_created_at >= toDateTime64('1970-01-01 00:00:00', 6, 'UTC') "
    "AND request_created_at < toDateTime64('2106-01-01 00:00:00', 6, 'UTC')"
)
_HOUR_OF = "toDateTime(toStartOfHour(request_created_at), 'UTC')"


@dataclass(frozen=True, slots=True)
class _Rollup:
    """One rollup table: its group columns (and how the log computes them) and its sums."""

    table: str
    group: tuple[tuple[str, str], ...]  # (column, ClickHouse SQL over request_response)
    sums: tuple[str, ...]
    where: str = ""  # which log rows it counts, besides the hours it can hold
    array_join: str = ""  # a row per element of the log row (a property per key)

    def units(self, source: str, where: str = "") -> str:
        """``source``'s rows as groups and per-row sums (aliases prefixed: they shadow columns)."""
        return (
            "SELECT "
            + ", ".join(f"{sql} AS g_{name}" for name, sql in self.group)
            + ", "
            + ", ".join(f"toInt64({SUMMED[name]}) AS s_{name}" for name in self.sums)
            + f" FROM {source}{self.array_join} WHERE {_IN_RANGE}{self.where}{where}"
        )

    def insert(self, units: str) -> str:
        """An INSERT of ``units`` summed per group (all-zero groups left out)."""
        names = [name for name, _ in self.group]
        grouped = ", ".join(f"g_{name}" for name in names)
        return (
            f"INSERT INTO {self.table} ({', '.join((*names, *self.sums))}) "
            f"SELECT {grouped}, {', '.join(f'sum(s_{name})' for name in self.sums)} "
            f"FROM ({units}) GROUP BY {grouped} "
            f"HAVING {' OR '.join(f'sum(s_{name}) != 0' for name in self.sums)}"
        )

    def recompute(self) -> str:
        """The hours of rows written since ``{since}`` made exact: the log's sums minus ours.

        Run twice, the second adds nothing.
        """
        touched = f" AND (organization_id, {_HOUR_OF}) IN ({_TOUCHED})"
        current = (
            "SELECT "
            + ", ".join(f"{name} AS g_{name}" for name, _ in self.group)
            + ", "
            + ", ".join(f"-{name} AS s_{name}" for name in self.sums)
            + f" FROM {self.table} FINAL WHERE (organization_id, hour) IN ({_TOUCHED})"
        )
        return self.insert(f"{self.units('request_response FINAL', touched)} UNION ALL {current}")

    def rebuild(self) -> str:
        """Every hour of the log at once (a log written before the table existed)."""
        return self.insert(self.units("request_response FINAL"))


# The hours a failed batch may have left out: those of every row written (by the writer or
# an edit) since a time.
_TOUCHED = (
    f"SELECT organization_id, {_HOUR_OF} "
    "FROM request_response WHERE updated_at >= {since:DateTime64(6, 'UTC')}"
)
_HOURLY = _Rollup(
    "request_hour",
    (
        ("organization_id", "organization_id"),
        ("hour", _HOUR_OF),
        ("model", "model"),
        ("provider", "provider"),
        ("status", "status"),
    ),
    HOURLY_SUMS,
)
_USERS = _Rollup(
    "user_hour",
    (
        ("organization_id", "organization_id"),
        ("hour", _HOUR_OF),
        ("user_id", "assumeNotNull(user_id)"),
    ),
    USER_HOUR_SUMS,
    where=" AND user_id IS NOT NULL",
)
_PROPERTIES = _Rollup(
    "property_hour",
    (
        ("organization_id", "organization_id"),
        ("key", "key"),
        ("hour", _HOUR_OF),
        ("value", "value"),
    ),
    PROPERTY_HOUR_SUMS,
    # Keys the log keeps as columns are not in request_property: not here either.
    where=" AND lower(key) NOT IN (" + ", ".join(f"'{key}'" for key in IN_COLUMNS) + ")",
    array_join=" ARRAY JOIN mapKeys(properties) AS key, mapValues(properties) AS value",
)
_PROPERTY_USERS = _Rollup(
    "property_user_hour",
    (
        ("organization_id", "organization_id"),
        ("key", "key"),
        ("value", "value"),
        ("hour", _HOUR_OF),
        ("user_id", "assumeNotNull(user_id)"),
    ),
    ("requests",),
    where=f"{_PROPERTIES.where} AND user_id IS NOT NULL",
    array_join=_PROPERTIES.array_join,
)
_LATENCIES = _Rollup(
    "latency_hour",
    (
        ("organization_id", "organization_id"),
        ("hour", _HOUR_OF),
        ("latency", "assumeNotNull(latency)"),
    ),
    ("requests",),
    where=" AND latency IS NOT NULL",
)
# In the order of ``DeltaRows``.
ROLLUPS = (_HOURLY, _USERS, _PROPERTIES, _PROPERTY_USERS, _LATENCIES)

# The rollups as the reads see them (``_hourly_reads``); read FINAL (``_sql``), which sums them.
request_hour = Table(
    "request_hour",
    MetaData(),
    Column("organization_id", String()),
    Column("hour", DateTime()),
    Column("model", String()),
    Column("provider", String()),
    Column("status", Integer()),
    *(Column(name, Integer()) for name in HOURLY_SUMS),
)
property_hour = Table(
    "property_hour",
    MetaData(),
    Column("organization_id", String()),
    Column("key", String()),
    Column("hour", DateTime()),
    Column("value", String()),
    *(Column(name, Integer()) for name in PROPERTY_HOUR_SUMS),
)
property_user_hour = Table(
    "property_user_hour",
    MetaData(),
    Column("organization_id", String()),
    Column("key", String()),
    Column("value", String()),
    Column("hour", DateTime()),
    Column("user_id", String()),
    Column("requests", Integer()),
)
latency_hour = Table(
    "latency_hour",
    MetaData(),
    Column("organization_id", String()),
    Column("hour", DateTime()),
    Column("latency", Integer()),
    Column("requests", Integer()),
)
user_hour = Table(
    "user_hour",
    MetaData(),
    Column("organization_id", String()),
    Column("hour", DateTime()),
    Column("user_id", String()),
    *(Column(name, Integer()) for name in USER_HOUR_SUMS),
)


def hour_of(moment: dt.datetime) -> dt.datetime:
    """The UTC hour a time falls in (naive times are UTC)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
    return aware.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


# At start, a crashed batch is among the newest rows: they share their version (updated_at).
_START_WINDOW = dt.timedelta(minutes=1)


async def heal(clickhouse: ClickHouse, since: dt.datetime | None) -> None:
    """Recompute the hours of rows written from ``since`` (None: the newest minute's).

    Run before the first batch and after a failed one: a batch that failed after its log
    insert left its rows' deltas out, and a replay of it would subtract sums never added.
    """
    if since is None:
        newest = await clickhouse.query("SELECT max(updated_at) FROM request_response")
        if not newest.rows or newest.rows[0][0] is None:
            return
        since = newest.rows[0][0] - _START_WINDOW
    for rollup in ROLLUPS:
        await clickhouse.command(rollup.recompute(), {"since": since})


async def rebuild(clickhouse: ClickHouse, tables: Iterable[str] | None = None) -> None:
    """Compute every hour of the log into ``tables`` (default: every rollup).

    For a log that predates a rollup.
    """
    for rollup in ROLLUPS:
        if tables is None or rollup.table in tables:
            await clickhouse.command(rollup.rebuild())
