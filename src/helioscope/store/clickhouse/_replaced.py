"""The replaced-row check: which rows of a batch are already in the log, and as what.

One statement per organization and thousand rows, run before the batch is inserted, serves
every table the writer keeps beside the log: the session summary (the old row's session), the
property table (its keys, for tombstones) and the rollups (its summed columns and
properties, to subtract).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from helioscope.store.clickhouse._client import ClickHouse
from helioscope.store.clickhouse._hourly import OLD_VALUES
from helioscope.store.clickhouse._id_lists import IDS, id_list
from helioscope.store.clickhouse._properties import ticks
from helioscope.store.log.write import by_org
from helioscope.store.records import LogRow

_CHUNK = 10_000
# The ids logged in a batch's time span, read before asking for the batch's own: a batch most
# often replaces nothing, and the span holds few rows but its own (times advance), where an
# IN list of 10,000 ids cost ~50 ms of CPU to bind and parse (~19 ms as one JSON text,
# ``_id_lists``). Past ``_WINDOW_ROWS`` a chunk's rows (old times mixed in), the IN list is
# cheaper again.
_WINDOW_ROWS = 2
_IN_WINDOW = (
    "SELECT DISTINCT request_id FROM request_response "
    "WHERE organization_id = {org:String} "
    "AND request_created_at BETWEEN {first:DateTime64(6, 'UTC')} AND {last:DateTime64(6, 'UTC')} "
    "LIMIT {limit:UInt64}"
)

_EXISTING = (
    f"SELECT request_id, session_id, request_created_at, properties, {OLD_VALUES} "
    "FROM request_response FINAL "
    "WHERE organization_id = {org:String} "
    "AND request_created_at BETWEEN {first:DateTime64(6, 'UTC')} AND {last:DateTime64(6, 'UTC')} "
    "AND request_id IN " + IDS
)


class Replaced(NamedTuple):
    """A logged row that a batch writes again.

    Its session, time, properties and the columns the rollups sum
    (``_hourly.UNIT_COLUMNS``, the time as ticks).
    """

    session_id: str | None
    request_created_at: dt.datetime
    properties: dict[str, str]
    values: tuple[Any, ...]

    def same_row(self, row: LogRow) -> bool:
        """Whether this is the stored version of ``row``.

        The log's identity includes the time: a reused id at another time is another row.
        """
        return bool(self.values[1] == ticks(row.request_created_at))


async def existing(clickhouse: ClickHouse, rows: list[LogRow]) -> dict[tuple[str, str], Replaced]:
    """Of these rows, those already logged (same organization and id, in the batch's time span).

    Where an id is logged at several times, the row at the batch row's own time wins.
    """
    by_key = {(r.organization_id, r.request_id): r for r in rows}
    found: dict[tuple[str, str], Replaced] = {}
    for org, ids in by_org(list(by_key)).items():
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            times = [by_key[(org, i)].request_created_at for i in chunk]
            params = {"org": org, "first": min(times), "last": max(times)}
            limit = _WINDOW_ROWS * len(chunk)
            window = await clickhouse.query(_IN_WINDOW, {**params, "limit": limit + 1})
            if len(window.rows) <= limit:
                logged = {row[0] for row in window.rows}
                chunk = [i for i in chunk if i in logged]
                if not chunk:
                    continue
            answer = await clickhouse.query(_EXISTING, {**params, "ids": id_list(chunk)})
            for row in answer.rows:
                key = (org, row[0])
                old = Replaced(row[1], row[2], dict(row[3]), tuple(row[4:]))
                if key not in found or old.same_row(by_key[key]):
                    found[key] = old
    return found
