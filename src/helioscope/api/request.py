"""The ``Request`` tag: logged requests queried with Helicone's filter language, and annotated."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from helioscope.api._fields import Float, Offset
from helioscope.api._request_shape import HeliconeRequest, _body, to_helicone_request
from helioscope.api.deps import ApiKeyDep, BodyLinksDep, BodyUrlDep, StoreDep
from helioscope.api.envelope import ERROR_RESPONSES, JsonResponse, Result
from helioscope.errors import BadRequest, NotFound
from helioscope.store import MAX_PAGE, RequestQuery
from helioscope.store.log import requests
from helioscope.store.log.scores import FEEDBACK_SCORE

reads = APIRouter(prefix="/v1/request", tags=["Request"], responses=ERROR_RESPONSES)
writes = APIRouter(prefix="/v1/request", tags=["Request"], responses=ERROR_RESPONSES)
public = APIRouter(tags=["Request"], responses=ERROR_RESPONSES)  # signed body links


class RequestQueryParams(BaseModel):
    """Body of ``POST /v1/request/query`` (Helicone's ``RequestQueryParams``)."""

    filter: Any = Field(description="A filter tree: 'all', a leaf, or {left, operator, right}.")
    offset: Offset = 0
    limit: int = Field(100, ge=1, le=MAX_PAGE)
    sort: dict[str, Any] = Field(default_factory=lambda: {"created_at": "desc"})
    isCached: bool | None = None
    includeInputs: bool = False
    isPartOfExperiment: bool | None = None
    isScored: bool | None = None

    def to_query(self) -> RequestQuery:
        """The store's query."""
        return RequestQuery(
            filter=self.filter,
            offset=self.offset,
            limit=self.limit,
            sort=self.sort,
            is_cached=self.isCached,
            part_of_experiment=self.isPartOfExperiment,
            is_scored=self.isScored,
        )


class RequestIds(BaseModel):
    """Body of ``POST /v1/request/query-ids``."""

    requestIds: list[str] = Field(max_length=MAX_PAGE)


class Rating(BaseModel):
    """Body of the feedback routes."""

    rating: bool


class PropertyBody(BaseModel):
    """Body of ``PUT /v1/request/{requestId}/property``."""

    key: str = Field(min_length=1, max_length=400)
    value: str


class ScoreRequest(BaseModel):
    """Body of ``POST /v1/request/{requestId}/score``: numbers, or booleans."""

    scores: dict[str, Float | bool | None]


class HeliconeRequestAsset(BaseModel):
    """An asset's signed URL."""

    assetUrl: str


BOOL_SCORE_SUFFIX = "-hcone-bool"


def score_values(scores: dict[str, float | bool | None]) -> dict[str, float]:
    """Helicone's stored form: a boolean score ``k`` becomes ``k-hcone-bool`` = 1 or 0.

    The feedback score keeps its bare key, where Helicone reads the rating.
    """
    out: dict[str, float] = {}
    for key, value in scores.items():
        if not key or len(key) > 200:
            raise BadRequest(f"scores: a score name must be 1 to 200 characters, got {key!r}")
        if value is None:
            continue
        if isinstance(value, bool):
            out[key if key == FEEDBACK_SCORE else f"{key}{BOOL_SCORE_SUFFIX}"] = 1 if value else 0
        else:
            out[key] = int(value) if float(value).is_integer() else value
    return out


async def _query(
    params: RequestQueryParams, key: ApiKeyDep, store: StoreDep, body_url: Callable[[str], str]
) -> Result[list[HeliconeRequest]]:
    rows = await store.log.org(key.organization_id).read(requests.query_requests, params.to_query())
    return Result(data=[to_helicone_request(row, body_url=body_url) for row in rows])


@reads.post("/query", response_model=Result[list[HeliconeRequest]])
async def get_requests(
    params: RequestQueryParams, key: ApiKeyDep, store: StoreDep, body_url: BodyUrlDep
) -> Result[list[HeliconeRequest]]:
    """The organization's requests matching the filter, sorted and paged."""
    return await _query(params, key, store, body_url)


@reads.post("/query-clickhouse", response_model=Result[list[HeliconeRequest]])
async def get_requests_clickhouse(
    params: RequestQueryParams, key: ApiKeyDep, store: StoreDep, body_url: BodyUrlDep
) -> Result[list[HeliconeRequest]]:
    """The same as ``/query`` (Helicone kept both; there is one log here)."""
    return await _query(params, key, store, body_url)


@reads.post("/count/query", response_model=Result[int])
async def get_request_count(
    params: RequestQueryParams, key: ApiKeyDep, store: StoreDep
) -> Result[int]:
    """How many requests match the filter."""
    return Result(
        data=await store.log.org(key.organization_id).read(
            requests.count_requests, params.filter, params.isCached
        )
    )


@reads.post("/query-ids", response_model=Result[list[HeliconeRequest]])
async def get_requests_by_ids(
    body: RequestIds, key: ApiKeyDep, store: StoreDep, body_url: BodyUrlDep
) -> Result[list[HeliconeRequest]]:
    """The requests with these ids (ids of other organizations are simply not found)."""
    rows = await store.log.org(key.organization_id).read(requests.requests_by_ids, body.requestIds)
    return Result(data=[to_helicone_request(row, body_url=body_url) for row in rows])


@reads.get("/{requestId}", response_model=Result[HeliconeRequest])
async def get_request_by_id(
    requestId: str,
    key: ApiKeyDep,
    store: StoreDep,
    body_url: BodyUrlDep,
    includeBody: Annotated[bool, Query()] = True,
) -> Result[HeliconeRequest]:
    """One logged request of the caller's organization."""
    row = await store.log.org(key.organization_id).read(requests.get_request, requestId)
    if row is None:
        raise NotFound(f"request {requestId} not found")
    return Result(data=to_helicone_request(row, include_body=includeBody, body_url=body_url))


@writes.post("/{requestId}/feedback", response_model=Result[None])
async def feedback_request(
    requestId: str,
    body: Rating,
    key: ApiKeyDep,
    store: StoreDep,
) -> Result[None]:
    """Rate a request (thumbs up or down)."""
    await store.log.org(key.organization_id).write(requests.set_feedback, requestId, body.rating)
    return Result(data=None)


@writes.put("/{requestId}/property", response_model=Result[None])
async def put_property(
    requestId: str,
    body: PropertyBody,
    key: ApiKeyDep,
    store: StoreDep,
) -> Result[None]:
    """Add or change one property of a logged request."""
    await store.log.org(key.organization_id).write(
        requests.set_property, requestId, body.key, body.value
    )
    return Result(data=None)


@writes.post("/{requestId}/score", response_model=Result[None])
async def add_scores(
    requestId: str,
    body: ScoreRequest,
    key: ApiKeyDep,
    store: StoreDep,
) -> Result[None]:
    """Attach scores to a request; boolean scores are stored as ``<name>-hcone-bool``."""
    await store.log.org(key.organization_id).write(
        requests.add_scores, requestId, score_values(body.scores)
    )
    return Result(data=None)


@reads.post("/{requestId}/assets/{assetId}", response_model=Result[HeliconeRequestAsset])
async def get_request_asset_by_id(
    requestId: str,
    assetId: str,
    key: ApiKeyDep,
    store: StoreDep,
) -> Result[HeliconeRequestAsset]:
    """An asset of a request. Helioscope stores no separate assets yet, so none is found."""
    if await store.log.org(key.organization_id).read(requests.get_request, requestId) is None:
        raise NotFound(f"request {requestId} not found")
    raise NotFound(f"asset {assetId} not found for request {requestId}")


@public.get("/v1/public/request-body/{token}", operation_id="GetSignedRequestBody")
async def signed_request_body(token: str, links: BodyLinksDep, store: StoreDep) -> JsonResponse:
    """A request's bodies, ``{"request": …, "response": …}``, at its ``signed_body_url``.

    Helicone's S3 object, served here: the signed, expiring token in the URL is the credential
    (a forged or altered token is a 404, an expired one a 403).
    """
    organization_id, request_id = links.open(token)
    row = await store.log.org(organization_id).read(requests.get_request, request_id)
    if row is None:
        raise NotFound(f"request {request_id} not found")
    return JsonResponse(
        {"request": _body(row.get("request_body")), "response": _body(row.get("response_body"))}
    )
