"""``request_hour``: the log's sums per hour and (model, provider, status, user), kept exact.

The table is a SummingMergeTree and every write to it is a signed delta: rows new to the log
add their sums, a row written again (a replay, an edited row sent again) subtracts its stored
version's sums and adds the new one's. Reads say FINAL (``_sql``), which sums each group's
deltas, and a group whose sums net to zero (every row left it) is dropped. A replay of an
unchanged batch therefore writes nothing here; no hour is recomputed on the normal path.

The deltas are summed per group from the batch's columns as inserted (old versions with sign
-1), a column at a time, and written as one small INSERT.

Subtracting a stored row's sums is right only if they were added, which a batch that failed
after its log insert breaks. So the log heals the rollup (``heal``) before its first batch (a
crash may have cut one) and after any failed batch: the hours of every row written since are
recomputed as the log's exact sums minus the rollup's current ones, in one ``INSERT …
SELECT`` (idempotent: run twice, the second adds nothing).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table

from helioscope.store.clickhouse._client import ClickHouse
from helioscope.store.clickhouse._ddl import HOURLY_SUMS
from helioscope.store.records import LogRow

if TYPE_CHECKING:
    from helioscope.store.clickhouse._replaced import Replaced

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

_GROUP = ("organization_id", "hour", "model", "provider", "status", "has_user", "user_id")
_COLUMNS = ", ".join((*_GROUP, *HOURLY_SUMS))
_GROUPED = ", ".join(f"g_{name}" for name in _GROUP)
_TOTALS = ", ".join(f"sum(s_{name})" for name in HOURLY_SUMS)
# A group whose delta is zero in every sum changes nothing: not written.
_NONZERO = " OR ".join(f"sum(s_{name}) != 0" for name in HOURLY_SUMS)

# The rollup's hour is a DateTime (1970 to 2106): rows outside it stay out (``_hourly_reads``
# reads them from the log).
FIRST_HOUR = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
END_HOUR = dt.datetime(2106, 1, 1, tzinfo=dt.UTC)
_IN_RANGE = (
    "request_created_at >= toDateTime64('1970-01-01 00:00:00', 6, 'UTC') "
    "AND request_created_at < toDateTime64('2106-01-01 00:00:00', 6, 'UTC')"
)


def _units(source: str, sign: str, where: str = "") -> str:
    """``source``'s rows as groups and signed per-row sums.

    Aliases are prefixed: ClickHouse aliases shadow columns.
    """
    return (
        "SELECT organization_id AS g_organization_id, "
        "toDateTime(toStartOfHour(request_created_at), 'UTC') AS g_hour, model AS g_model, "
        "provider AS g_provider, status AS g_status, toUInt8(user_id IS NOT NULL) AS g_has_user, "
        "coalesce(user_id, '') AS g_user_id, "
        + ", ".join(f"toInt64({sql}) * {sign} AS s_{name}" for name, sql in SUMMED.items())
        + f" FROM {source} WHERE {_IN_RANGE}{where}"
    )


def _insert(units: str) -> str:
    return (
        f"INSERT INTO request_hour ({_COLUMNS}) SELECT {_GROUPED}, {_TOTALS} FROM ({units}) "
        f"GROUP BY {_GROUPED} HAVING {_NONZERO}"
    )


# The hours a failed batch may have left out: those of every row written (by the writer or
# an edit) since a time.
_TOUCHED = (
    "SELECT organization_id, toDateTime(toStartOfHour(request_created_at), 'UTC') "
    "FROM request_response WHERE updated_at >= {since:DateTime64(6, 'UTC')}"
)
# Those hours made exact again: the log's sums minus the rollup's (FINAL: each group's net).
# Run twice, the second adds nothing.
_RECOMPUTE = _insert(
    _units(
        "request_response FINAL",
        "1",
        f" AND (organization_id, toDateTime(toStartOfHour(request_created_at), 'UTC')) IN "
        f"({_TOUCHED})",
    )
    + " UNION ALL SELECT "
    + ", ".join(f"{name} AS g_{name}" for name in _GROUP)
    + ", "
    + ", ".join(f"-{name} AS s_{name}" for name in HOURLY_SUMS)
    + f" FROM request_hour FINAL WHERE (organization_id, hour) IN ({_TOUCHED})"
)
# Every hour of the log at once, for a log written before the rollup existed.
_REBUILD = _insert(_units("request_response FINAL", "1"))

# The rollup as the reads see it (``_hourly_reads``); read FINAL (``_sql``), which sums it.
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
)


def hour_of(moment: dt.datetime) -> dt.datetime:
    """The UTC hour a time falls in (naive times are UTC)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
    return aware.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


_HOUR_TICKS = 3_600_000_000
_END_TICKS = int((END_HOUR - FIRST_HOUR).total_seconds()) * 1_000_000


def _per_row(units: Sequence[Sequence[Any]], signs: Sequence[int]) -> list[list[int]]:
    """What each row adds to each of ``HOURLY_SUMS``, signed (as ``SUMMED`` computes it)."""
    _, _, _, _, _, _, cost, latency, ttft, prompt, completion, reasoning, read, write, threat = (
        units[:15]
    )
    cache = units[15]

    def signed(values: Iterable[int]) -> list[int]:
        return [s * v for s, v in zip(signs, values, strict=True)]

    def present(values: Sequence[Any]) -> list[int]:
        return signed(v is not None for v in values)

    def amount(values: Sequence[Any]) -> list[int]:
        return signed(v or 0 for v in values)

    positive = [v if v is not None and v > 0 else 0 for v in ttft]
    return [
        list(signs),
        amount(cost),
        amount(latency),
        present(latency),
        amount(ttft),
        present(ttft),
        signed(positive),
        signed(v > 0 for v in positive),
        amount(prompt),
        amount(completion),
        amount(reasoning),
        amount(read),
        amount(write),
        signed(v is True for v in threat),
        signed(v is True for v in cache),
    ]


def deltas(
    units: Sequence[Sequence[Any]], signs: Sequence[int]
) -> dict[tuple[Any, ...], list[int]]:
    """The rows' signed sums per group ``(org, hour ticks, model, provider, status, user)``.

    Column at a time: a comprehension per sum and one pass per sum over the group ids, so a
    10,000-row batch costs a few milliseconds (ClickHouse grouping the same rows from a
    ``format()`` payload took 150 ms CPU here). Rows outside the rollup's hours are left out.
    """
    hours = [t - t % _HOUR_TICKS for t in units[1]]
    keep: list[int] | None = None
    if hours and (min(hours) < 0 or max(hours) >= _END_TICKS):
        keep = [i for i, h in enumerate(hours) if 0 <= h < _END_TICKS]
        units = [[column[i] for i in keep] for column in units]
        signs = [signs[i] for i in keep]
        hours = [hours[i] for i in keep]
    org, _, model, provider, status, user = units[:6]
    index: dict[tuple[Any, ...], int] = {}
    group_of = [
        index.setdefault(key, len(index))
        for key in zip(org, hours, model, provider, status, user, strict=True)
    ]
    per_row = _per_row(units, signs)
    if len(index) == 1:  # one group (one model, status and user in the hour): C-speed sums
        totals = [[sum(values)] for values in per_row]
    else:
        totals = [[0] * len(index) for _ in HOURLY_SUMS]
        for total, values in zip(totals, per_row, strict=True):
            for group, value in zip(group_of, values, strict=True):
                total[group] += value
    return {key: [total[i] for total in totals] for key, i in index.items()}


def delta_rows(
    new: Sequence[Sequence[Any]], old: Sequence[Sequence[Any]]
) -> list[list[Any]] | None:
    """The rollup rows that add the rows ``new`` and subtract the stored versions ``old``.

    Both are column-oriented, one sequence per ``UNIT_COLUMNS`` entry (text as the log
    stores it, times as ticks). Groups whose every sum is zero change nothing: left out
    (None when nothing is left).
    """
    units = [[*n, *o] for n, o in zip(new, old, strict=True)]
    groups = {
        key: sums
        for key, sums in deltas(units, [1] * len(new[0]) + [-1] * len(old[0])).items()
        if any(sums)
    }
    if not groups:
        return None
    keys = list(groups)
    columns: list[list[Any]] = [
        [k[0] for k in keys],
        [k[1] // 1_000_000 for k in keys],  # DateTime: seconds
        [k[2] for k in keys],
        [k[3] for k in keys],
        [k[4] for k in keys],
        [int(k[5] is not None) for k in keys],
        [k[5] or "" for k in keys],
    ]
    columns += [[groups[k][i] for k in keys] for i in range(len(HOURLY_SUMS))]
    return columns


def batch_deltas(
    rows: Sequence[LogRow],
    units: Sequence[Sequence[Any]],
    replaced: Mapping[tuple[str, str], Replaced],
) -> list[list[Any]] | None:
    """A batch's delta rows: its rows, minus the stored versions they replace.

    ``units`` are the batch's ``UNIT_COLUMNS`` as inserted (one sequence per column, in the
    order of ``rows``); ``replaced`` the stored rows the check found before the insert.
    """
    by_key = {(r.organization_id, r.request_id): r for r in rows} if replaced else {}
    same = [old.values for key, old in replaced.items() if old.same_row(by_key[key])]
    old_units = [list(c) for c in zip(*same, strict=True)] if same else [[] for _ in units]
    return delta_rows(units, old_units)


async def add_deltas(clickhouse: ClickHouse, columns: list[list[Any]] | None) -> None:
    """Write delta rows (``delta_rows``), if any: one INSERT."""
    if columns is not None:
        await clickhouse.insert("request_hour", (*_GROUP, *HOURLY_SUMS), columns)


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
    await clickhouse.command(_RECOMPUTE, {"since": since})


async def rebuild(clickhouse: ClickHouse) -> None:
    """Compute every hour of the log (for a log that predates the rollup)."""
    await clickhouse.command(_REBUILD)
