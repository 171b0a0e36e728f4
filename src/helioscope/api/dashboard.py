"""The ``Dashboard`` tag: scores over time (the other dashboard charts are under ``Metrics``)."""

from __future__ import annotations

from collections import defaultdict

from fastapi import APIRouter

from helioscope.api._metrics_shape import DataOverTimeRequest, ScoreOverTime
from helioscope.api._request_shape import iso
from helioscope.api.deps import ApiKeyDep, StoreDep
from helioscope.api.envelope import ERROR_RESPONSES, Result
from helioscope.store.log import metrics

router = APIRouter(prefix="/v1/dashboard", tags=["Dashboard"], responses=ERROR_RESPONSES)


@router.post("/scores/query", response_model=Result[list[ScoreOverTime]])
async def get_scores_over_time(
    body: DataOverTimeRequest, key: ApiKeyDep, store: StoreDep
) -> Result[list[ScoreOverTime]]:
    """The average of each score per bucket (as Helicone, ``score_sum`` holds the average)."""
    buckets = body.buckets()
    rows = await store.log.org(key.organization_id).read(
        metrics.scored_rows, body.userFilter, body.timeFilter.window(), buckets
    )
    sums: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for bucket, scores in rows:
        for name, value in scores.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                entry = sums[(bucket, name)]
                entry[0] += value
                entry[1] += 1
    return Result(
        data=[
            ScoreOverTime(
                score_key=name,
                score_sum=total / count,
                created_at_trunc=iso(buckets.instant(buckets.parse_bucket(bucket))) or "",
            )
            for (bucket, name), (total, count) in sorted(sums.items())
        ]
    )
