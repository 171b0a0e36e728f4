"""Helicone's public ``Webhook`` tag: where an evaluating webhook receiver posts scores back."""

from __future__ import annotations

from fastapi import APIRouter

from helioscope.api.deps import ApiKeyDep, StoreDep
from helioscope.api.envelope import ERROR_RESPONSES, Result
from helioscope.api.request import ScoreRequest, score_values
from helioscope.store.log import requests

writes = APIRouter(prefix="/v1/webhook", tags=["Webhook"], responses=ERROR_RESPONSES)


@writes.post("/request/{requestId}/score", status_code=201, response_model=Result[None])
async def add_webhook_scores(
    requestId: str, body: ScoreRequest, key: ApiKeyDep, store: StoreDep
) -> Result[None]:
    """Attach scores to a request, as ``POST /v1/request/{requestId}/score`` does."""
    await store.log.org(key.organization_id).write(
        requests.add_scores, requestId, score_values(body.scores)
    )
    return Result(data=None)
