"""Quantiles on ClickHouse are exact nearest ranks, for every bucket size.

``ClickHouseSqlDialect.nearest_ranks`` selects with ``quantilesExact`` at levels just below
``p / 100``; at ``p / 100`` itself it would pick the next value whenever ``p * n / 100`` is whole
(n = 4, 20, 100, …). Hour ``k`` of the log here holds ``k`` requests, so every size from 1 to
600 is a bucket of its own.
"""

from __future__ import annotations

import datetime as dt

from helioscope.store import Buckets, TimeWindow
from helioscope.store.clickhouse import ClickHouse, ClickHouseLog
from helioscope.store.clickhouse import _hourly as hourly
from helioscope.store.clickhouse import _hourly_reads as hourly_reads
from helioscope.store.log import metrics

_ORG = "quantile-org"
_START = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
_SIZES = 600

# Hour k (1 to _SIZES) gets k rows; latencies repeat (ties), costs hardly ever do.
_FILL = """
INSERT INTO request_response
    (organization_id, request_id, request_created_at, status, provider, model, latency, cost,
     updated_at)
SELECT {org:String}, concat('q-', toString(k), '-', toString(i)),
       {start:DateTime64(6, 'UTC')} + toIntervalHour(k) + toIntervalSecond(i),
       200, 'OPENAI', 'gpt-4o', toInt64(cityHash64(k, i) % 50), toInt64(cityHash64(i, k) % 10000),
       now64(6, 'UTC')
FROM (SELECT number + 1 AS k FROM numbers({sizes:UInt64})) ARRAY JOIN range(k) AS i
"""
_VALUES = (
    "SELECT toStartOfHour(request_created_at) AS hour, arraySort(groupArray({column:Identifier}))"
    " FROM request_response FINAL WHERE organization_id = {org:String} GROUP BY hour"
)


def _nearest_rank(ordered: list[float], p: int) -> float:
    # The smallest value with at least p% of the values at or below it: rank ceil(p * n / 100).
    return ordered[(p * len(ordered) + 99) // 100 - 1]


async def _expected(
    clickhouse: ClickHouse, column: str, scale: float
) -> dict[dt.datetime, dict[str, float]]:
    answer = await clickhouse.query(_VALUES, {"org": _ORG, "column": column})
    return {
        hour: {name: _nearest_rank(values, p) / scale for name, p in metrics.QUANTILES.items()}
        for hour, values in answer.rows
    }


async def test_every_bucket_size_gets_the_nearest_rank(clickhouse: ClickHouse) -> None:
    await clickhouse.command(_FILL, {"org": _ORG, "start": _START, "sizes": _SIZES})
    db = ClickHouseLog(clickhouse).db(_ORG)
    window = TimeWindow(_START, _START + dt.timedelta(hours=_SIZES + 1))
    for metric, column, scale in (("latency", "latency", 1.0), ("cost", "cost", 1e9)):
        expected = await _expected(clickhouse, column, scale)
        got = await metrics.quantiles(db, "all", window, Buckets("hour", 0), metric)
        by_hour = {row["time"]: row for row in got if row["time"] in expected}
        assert len(by_hour) == _SIZES
        for hour, want in expected.items():
            have = {name: by_hour[hour][name] for name in want}
            assert have == want, (metric, hour)


async def test_the_latency_histogram_gets_the_nearest_rank_for_every_size(
    clickhouse: ClickHouse,
) -> None:
    # The rows go in without the writer: the histogram is computed from the log, as migrate
    # does for a log that predates it.
    await clickhouse.command(_FILL, {"org": _ORG, "start": _START, "sizes": _SIZES})
    await hourly.rebuild(clickhouse, ["latency_hour"])
    db = ClickHouseLog(clickhouse).db(_ORG)
    window = TimeWindow(_START, _START + dt.timedelta(hours=_SIZES + 1))
    expected = await _expected(clickhouse, "latency", 1.0)
    got = await hourly_reads.quantiles(db, "all", window, Buckets("hour", 0), "latency")
    by_hour = {row["time"]: row for row in got if row["time"] in expected}
    assert len(by_hour) == _SIZES
    for hour, want in expected.items():
        assert {name: by_hour[hour][name] for name in want} == want, hour
