"""The ``Request`` tag: logged requests read back (queries arrive with the filter compiler)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from helioscope.api._request_shape import HeliconeRequest, to_helicone_request
from helioscope.api.deps import ApiKeyDep, StoreDep
from helioscope.api.envelope import ERROR_RESPONSES, Result
from helioscope.errors import NotFound

router = APIRouter(prefix="/v1/request", tags=["Request"], responses=ERROR_RESPONSES)


@router.get("/{requestId}", response_model=Result[HeliconeRequest])
async def get_request_by_id(
    requestId: str,
    key: ApiKeyDep,
    store: StoreDep,
    includeBody: Annotated[bool, Query()] = True,
) -> Result[HeliconeRequest]:
    """One logged request of the caller's organization."""
    row = await store.get_request(key.organization_id, requestId)
    if row is None:
        raise NotFound(f"request {requestId} not found")
    return Result(data=to_helicone_request(row, include_body=includeBody))
