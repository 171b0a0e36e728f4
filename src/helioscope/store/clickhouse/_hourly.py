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
from typing import Any

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table

from helioscope.store._dialects import UtcDateTime
from helioscope.store.clickhouse._client import ClickHouse
from helioscope.store.clickhouse._ddl import HOURLY_SUMS
from helioscope.store.log.write import _clean
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

# The rollup's hour is a DateTime (1970 to 2106): rows outside it stay out (``_hourly_reads``
# reads them from the log).
FIRST_HOUR = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
END_HOUR = dt.datetime(2106, 1, 1, tzinfo=dt.UTC)
_IN_RANGE = (
    "AND request_created_at >= toDateTime64('1970-01-01 00:00:00', 6, 'UTC') "
    "AND request_created_at < toDateTime64('2106-01-01 00:00:00', 6, 'UTC') "
)

# The log's rows as groups and per-row sums (aliases prefixed: ClickHouse aliases shadow columns).
_LOG_UNITS = (
    "SELECT organization_id AS g_organization_id, "
    "toDateTime(toStartOfHour(request_created_at), 'UTC') AS g_hour, model AS g_model, "
    "provider AS g_provider, status AS g_status, toUInt8(user_id IS NOT NULL) AS g_has_user, "
    "coalesce(user_id, '') AS g_user_id, "
    + ", ".join(f"toInt64({sql}) AS s_{name}" for name, sql in SUMMED.items())
    + " FROM request_response FINAL WHERE organization_id = {org:String} "
    + _IN_RANGE
)
_INSERT = (
    f"INSERT INTO request_hour ({_COLUMNS}) SELECT {_GROUPED}, {_TOTALS}, "
    "{v:DateTime64(6, 'UTC')}, 0 FROM ("
)
_GROUP_BY = f") GROUP BY {_GROUPED}"

# The current sums of an organization's hours (new rows are added to them in Python).
_CURRENT = (
    f"SELECT {', '.join((*_GROUP, *HOURLY_SUMS))} FROM request_hour FINAL "
    "WHERE organization_id = {org:String} AND hour IN {hours:Array(DateTime('UTC'))}"
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
    + _LOG_UNITS.replace("organization_id = {org:String} AND ", "")
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


Group = tuple[str, dt.datetime, str, str, int, int, str]


def _text(value: str) -> str:
    # As the log stores it (``_insert._text``): NUL cleaned, so groups match a recomputation.
    return _clean(value) if "\x00" in value else value


def _unit(row: LogRow) -> tuple[Group, list[int]]:
    """A row's group and what it adds to each of ``HOURLY_SUMS`` (as ``SUMMED`` computes it)."""
    user = row.user_id
    group = (
        row.organization_id,
        hour_of(row.request_created_at),
        _text(row.model),
        _text(row.provider),
        row.status,
        0 if user is None else 1,
        "" if user is None else _text(user),
    )
    ttft = row.time_to_first_token
    positive = ttft is not None and ttft > 0
    sums = [
        1,
        row.cost or 0,
        row.latency or 0,
        int(row.latency is not None),
        ttft or 0,
        int(ttft is not None),
        ttft if positive and ttft is not None else 0,
        int(positive),
        row.prompt_tokens or 0,
        row.completion_tokens or 0,
        row.reasoning_tokens or 0,
        row.prompt_cache_read_tokens or 0,
        row.prompt_cache_write_tokens or 0,
        int(row.threat is True),
        int(row.cache_enabled is True),
    ]
    return group, sums


def in_range(moment: dt.datetime) -> bool:
    """Whether a row at this time is in the rollup (``FIRST_HOUR`` to ``END_HOUR``)."""
    return FIRST_HOUR <= hour_of(moment) < END_HOUR


def _increments(rows: list[LogRow]) -> dict[Group, list[int]]:
    """What the rows add to each group (rows outside the rollup's hours left out)."""
    added: dict[Group, list[int]] = {}
    for row in rows:
        if not in_range(row.request_created_at):
            continue
        group, sums = _unit(row)
        total = added.get(group)
        if total is None:
            added[group] = sums
        else:
            added[group] = [x + y for x, y in zip(total, sums, strict=True)]
    return added


async def _write_back(
    clickhouse: ClickHouse, added: dict[Group, list[int]], hours: set[dt.datetime], version: Any
) -> None:
    """Add one organization's stored sums of ``hours`` to ``added`` and write those groups."""
    groups = [g for g in added if g[1] in hours]
    current = await clickhouse.query(_CURRENT, {"org": groups[0][0], "hours": sorted(hours)})
    for values in current.rows:
        key = (values[0], hour_of(values[1]), *values[2:7])
        total = added.get(key)
        if total is not None:
            added[key] = [x + int(y) for x, y in zip(total, values[7:], strict=True)]
    columns: list[list[object]] = [[g[i] for g in groups] for i in range(len(_GROUP))]
    columns += [[added[g][i] for g in groups] for i in range(len(HOURLY_SUMS))]
    columns += [[version] * len(groups), [0] * len(groups)]
    await clickhouse.insert(
        "request_hour", (*_GROUP, *HOURLY_SUMS, "version", "is_deleted"), columns
    )


async def add_new_rows(clickhouse: ClickHouse, rows: list[LogRow]) -> None:
    """Add rows new to the log to their hours' sums: read the groups, add, write back.

    The rows are in memory: their sums are added here, not read back from the log (which
    took 690 ms per 10,000-row batch, more than the log's own INSERT).
    """
    versions = _Versions()
    by_org: dict[str, dict[Group, list[int]]] = {}
    for group, sums in _increments(rows).items():
        by_org.setdefault(group[0], {})[group] = sums
    for added in by_org.values():
        ordered = sorted({g[1] for g in added})
        for start in range(0, len(ordered), _CHUNK):
            await _write_back(
                clickhouse, added, set(ordered[start : start + _CHUNK]), versions.next()
            )


async def after_insert(
    clickhouse: ClickHouse,
    rows: list[LogRow],
    replaced: dict[tuple[str, str], dt.datetime],
) -> None:
    """Bring the rollup up to date with a written batch (``replaced``: old rows' times by key)."""
    stale = {(org, hour_of(t)) for (org, _), t in replaced.items() if in_range(t)}
    stale |= {
        (r.organization_id, hour_of(r.request_created_at))
        for r in rows
        if (r.organization_id, r.request_id) in replaced and in_range(r.request_created_at)
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
