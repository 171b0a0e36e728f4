"""``request_hour``: the log's sums per hour and (model, provider, status, user), kept exact.

Kept as the session summary is (``_sessions``), from the replaced-row check the writer runs
before each insert: the hours of rows new to the log get the new rows added (one
``INSERT … SELECT`` per organization and thousand rows, run by the server: the hours' current
sums plus the new rows' own, read back from the log by id, written as a newer version); the
hours of rows that replaced others (a replay, a reused id, a batch retried after a partial
failure) are recomputed from the log, after a tombstone for every group they had. A batch
that fails after its log insert is replayed, its rows are then found in the log, and their
hours are recomputed: nothing is added twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table

from helioscope.store._dialects import UtcDateTime
from helioscope.store.clickhouse._client import ClickHouse
from helioscope.store.clickhouse._ddl import HOURLY_SUMS
from helioscope.store.records import LogRow

_CHUNK = 1000
_HOUR = dt.timedelta(hours=1)

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
}
assert tuple(SUMMED) == HOURLY_SUMS

_GROUP = ("organization_id", "hour", "model", "provider", "status", "has_user", "user_id")
_COLUMNS = ", ".join((*_GROUP, *HOURLY_SUMS, "version", "is_deleted"))
_GROUPED = ", ".join(f"g_{name}" for name in _GROUP)
_TOTALS = ", ".join(f"sum(s_{name})" for name in HOURLY_SUMS)

# The log's rows as groups and per-row sums (aliases prefixed: ClickHouse aliases shadow columns).
_LOG_UNITS = (
    "SELECT organization_id AS g_organization_id, "
    "toDateTime(toStartOfHour(request_created_at), 'UTC') AS g_hour, model AS g_model, "
    "provider AS g_provider, status AS g_status, toUInt8(user_id IS NOT NULL) AS g_has_user, "
    "coalesce(user_id, '') AS g_user_id, "
    + ", ".join(f"toInt64({sql}) AS s_{name}" for name, sql in SUMMED.items())
    + " FROM request_response FINAL WHERE organization_id = {org:String} "
)
_ROLLUP_UNITS = (
    "SELECT "
    + ", ".join(f"{name} AS g_{name}" for name in _GROUP)
    + ", "
    + ", ".join(f"{name} AS s_{name}" for name in HOURLY_SUMS)
    + " FROM request_hour FINAL WHERE organization_id = {org:String} "
    "AND hour IN {hours:Array(DateTime('UTC'))}"
)
_INSERT = (
    f"INSERT INTO request_hour ({_COLUMNS}) SELECT {_GROUPED}, {_TOTALS}, "
    "{v:DateTime64(6, 'UTC')}, 0 FROM ("
)
_GROUP_BY = f") GROUP BY {_GROUPED}"

# New rows: the hours' sums so far plus the rows' own, read back from the log by id.
_ADD = (
    _INSERT
    + _ROLLUP_UNITS
    + " UNION ALL "
    + _LOG_UNITS
    + "AND request_created_at BETWEEN {first:DateTime64(6, 'UTC')} AND {last:DateTime64(6, 'UTC')} "
    "AND request_id IN {ids:Array(String)}" + _GROUP_BY
)
_TOMBSTONES = (
    f"INSERT INTO request_hour ({_COLUMNS}) SELECT {', '.join(_GROUP)}, "
    + ", ".join("0" for _ in HOURLY_SUMS)
    + ", {v:DateTime64(6, 'UTC')}, 1 FROM request_hour FINAL "
    "WHERE organization_id = {org:String} AND hour IN {hours:Array(DateTime('UTC'))}"
)
_RECOMPUTE = (
    _INSERT + _LOG_UNITS + "AND request_created_at >= {first:DateTime64(6, 'UTC')} "
    "AND request_created_at < {end:DateTime64(6, 'UTC')} "
    "AND toStartOfHour(request_created_at) IN {hours:Array(DateTime('UTC'))}" + _GROUP_BY
)
# Every hour of the log at once, for a log written before the rollup existed.
_REBUILD = (
    f"INSERT INTO request_hour ({_COLUMNS}) SELECT {_GROUPED}, {_TOTALS}, "
    "{v:DateTime64(6, 'UTC')}, 0 FROM ("
    + _LOG_UNITS.replace("WHERE organization_id = {org:String} ", "")
    + _GROUP_BY
)

# The rollup as the reads see it (``_hourly_reads``); read FINAL (``_sql``).
request_hour = Table(
    "request_hour",
    MetaData(),
    Column("organization_id", String()),
    Column("hour", DateTime()),
    Column("model", String()),
    Column("provider", String()),
    Column("status", Integer()),
    Column("has_user", Integer()),
    Column("user_id", String()),
    *(Column(name, Integer()) for name in HOURLY_SUMS),
    Column("version", UtcDateTime()),
)


class _Versions:
    """Strictly increasing versions: each statement's rows replace the previous statement's."""

    def __init__(self) -> None:
        self._last = dt.datetime.now(dt.UTC)

    def next(self) -> dt.datetime:
        self._last = max(dt.datetime.now(dt.UTC), self._last + dt.timedelta(microseconds=1))
        return self._last


def hour_of(moment: dt.datetime) -> dt.datetime:
    """The UTC hour a time falls in (naive times are UTC)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
    return aware.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


async def recompute(clickhouse: ClickHouse, hours: Iterable[tuple[str, dt.datetime]]) -> None:
    """Recompute these ``(organization_id, hour)`` from the log (tombstones first)."""
    by_org: dict[str, set[dt.datetime]] = {}
    for org, hour in hours:
        by_org.setdefault(org, set()).add(hour_of(hour))
    versions = _Versions()
    for org, touched in by_org.items():
        ordered = sorted(touched)
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start : start + _CHUNK]
            params = {"org": org, "hours": chunk}
            await clickhouse.command(_TOMBSTONES, {**params, "v": versions.next()})
            span = {"first": chunk[0], "end": chunk[-1] + _HOUR}
            await clickhouse.command(_RECOMPUTE, {**params, **span, "v": versions.next()})


async def add_new_rows(clickhouse: ClickHouse, rows: list[LogRow]) -> None:
    """Add rows new to the log (already inserted) to their hours' sums."""
    by_org: dict[str, list[LogRow]] = {}
    for row in rows:
        by_org.setdefault(row.organization_id, []).append(row)
    versions = _Versions()
    for org, org_rows in by_org.items():
        for start in range(0, len(org_rows), _CHUNK):
            chunk = org_rows[start : start + _CHUNK]
            times = [r.request_created_at for r in chunk]
            params = {
                "org": org,
                "hours": sorted({hour_of(t) for t in times}),
                "first": min(times),
                "last": max(times),
                "ids": [r.request_id for r in chunk],
                "v": versions.next(),
            }
            await clickhouse.command(_ADD, params)


async def after_insert(
    clickhouse: ClickHouse,
    rows: list[LogRow],
    replaced: dict[tuple[str, str], dt.datetime],
) -> None:
    """Bring the rollup up to date with a written batch (``replaced``: old rows' times by key)."""
    stale = {(org, hour_of(t)) for (org, _), t in replaced.items()}
    stale |= {
        (r.organization_id, hour_of(r.request_created_at))
        for r in rows
        if (r.organization_id, r.request_id) in replaced
    }
    # New rows in a recomputed hour are counted by the recomputation (it reads the log).
    new = [
        r
        for r in rows
        if (r.organization_id, r.request_id) not in replaced
        and (r.organization_id, hour_of(r.request_created_at)) not in stale
    ]
    await recompute(clickhouse, stale)
    await add_new_rows(clickhouse, new)


async def rebuild(clickhouse: ClickHouse) -> None:
    """Compute every hour of the log (for a log that predates the rollup)."""
    await clickhouse.command(_REBUILD, {"v": dt.datetime.now(dt.UTC)})
