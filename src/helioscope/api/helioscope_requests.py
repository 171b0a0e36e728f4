"""``/v1/helioscope/requests``: the request log in Helioscope's full shape, for the UI.

Read-only (read scope). Filters, sorting and paging are Helicone's (``POST /v1/request/query``);
the answer adds every stored field, and optionally the matching count, in one round trip.
``/news`` is the live tail's cheap question: "how many new since this moment?".
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, Field

from helioscope.api._fields import Offset
from helioscope.api._helioscope_shape import (
    HelioscopeRequest,
    News,
    RequestPage,
    to_helioscope_request,
)
from helioscope.api.deps import ApiKeyDep, StoreDep
from helioscope.api.envelope import ERROR_RESPONSES, Result
from helioscope.errors import NotFound
from helioscope.store import MAX_PAGE, RequestQuery
from helioscope.store.log import requests

router = APIRouter(
    prefix="/v1/helioscope/requests", tags=["Helioscope UI"], responses=ERROR_RESPONSES
)

_FILTER = "A filter tree: 'all', a leaf, or {left, operator, right} (as /v1/request/query)."


class RequestPageQuery(BaseModel):
    """Body of ``POST /v1/helioscope/requests/query``."""

    filter: Any = Field("all", description=_FILTER)
    offset: Offset = 0
    limit: int = Field(50, ge=1, le=MAX_PAGE)
    sort: dict[str, Any] = Field(default_factory=lambda: {"created_at": "desc"})
    count: bool = Field(False, description="Also count every matching request.")
    includeBodies: bool = True


class RequestIds(BaseModel):
    """Body of ``POST /v1/helioscope/requests/by-ids``."""

    requestIds: list[Annotated[str, Field(max_length=200)]] = Field(max_length=MAX_PAGE)


class NewsQuery(BaseModel):
    """Body of ``POST /v1/helioscope/requests/news``."""

    filter: Any = Field("all", description=_FILTER)
    since: AwareDatetime = Field(description="Count requests created after this moment.")


@router.post("/query", response_model=Result[RequestPage])
async def query_requests(body: RequestPageQuery, key: ApiKeyDep, store: StoreDep) -> Result[Any]:
    """A page of the organization's requests, with every stored field (and the count if asked)."""
    query = RequestQuery(
        filter=body.filter,
        offset=body.offset,
        limit=body.limit,
        sort=body.sort,
        include_bodies=body.includeBodies,
    )
    log = store.log.org(key.organization_id)
    rows = await log.read(requests.query_requests, query)
    total = await log.read(requests.count_requests, body.filter) if body.count else None
    shaped = [to_helioscope_request(r, include_body=body.includeBodies) for r in rows]
    return Result(data=RequestPage(requests=shaped, total=total))


@router.post("/news", response_model=Result[News])
async def news(body: NewsQuery, key: ApiKeyDep, store: StoreDep) -> Result[News]:
    """How many matching requests were created after ``since`` (at most 1000), and the latest."""
    found = await store.log.org(key.organization_id).read(requests.news, body.filter, body.since)
    latest: dt.datetime | None = found["latest"]
    # Full precision: the next poll sends it back as ``since``, and a time cut to milliseconds
    # would count the latest request as new again.
    exact = None if latest is None else latest.astimezone(dt.UTC).isoformat()
    return Result(data=News(count=found["count"], capped=found["capped"], latest=exact))


@router.post("/by-ids", response_model=Result[list[HelioscopeRequest]])
async def requests_by_ids(body: RequestIds, key: ApiKeyDep, store: StoreDep) -> Result[Any]:
    """The organization's requests with these ids (others are left out), newest first."""
    rows = await store.log.org(key.organization_id).read(requests.requests_by_ids, body.requestIds)
    return Result(data=[to_helioscope_request(r) for r in rows])


@router.get("/{requestId}", response_model=Result[HelioscopeRequest])
async def get_request(
    requestId: str,
    key: ApiKeyDep,
    store: StoreDep,
    includeBody: Annotated[bool, Query()] = True,
) -> Result[Any]:
    """One logged request of the caller's organization, with every stored field."""
    row = await store.log.org(key.organization_id).read(requests.get_request, requestId)
    if row is None:
        raise NotFound(f"request {requestId} not found")
    return Result(data=to_helioscope_request(row, include_body=includeBody))
