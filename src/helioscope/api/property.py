"""The ``Property`` tag: property keys, their values, hidden keys and per-value totals."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from helioscope.api._fields import Number
from helioscope.api._metrics_shape import DataOverTimeRequest, TimeFilter
from helioscope.api._request_shape import iso
from helioscope.api.deps import ApiKeyDep, StoreDep
from helioscope.api.envelope import ERROR_RESPONSES, Result
from helioscope.store.log import properties

router = APIRouter(prefix="/v1/property", tags=["Property"], responses=ERROR_RESPONSES)


class Property(BaseModel):
    """A property key."""

    property: str


class KeyBody(BaseModel):
    """Body of the hide and restore routes."""

    key: str = Field(min_length=1, max_length=400)


class Ok(BaseModel):
    """``{ok: true}``."""

    ok: bool = True


class SearchBody(BaseModel):
    """Body of ``POST /v1/property/{propertyKey}/search``."""

    searchTerm: str = Field("", max_length=400)


class TimeFilterRequest(BaseModel):
    """Body of the top-N routes."""

    timeFilter: TimeFilter


class TopCost(BaseModel):
    """Cost (USD) of one property value."""

    value: str
    cost: Number


class TopCount(BaseModel):
    """Requests of one property value."""

    value: str
    count: int


class PropertyOverTimeRequest(DataOverTimeRequest):
    """Body of ``POST /v1/property/properties/over-time``."""

    propertyKey: str = Field(min_length=1, max_length=400)


class PropertyOverTime(BaseModel):
    """Cost and requests of one property value in one bucket."""

    property: str
    total_cost: Number
    request_count: int
    created_at_trunc: str


@router.post("/query", response_model=Result[list[Property]])
async def get_properties(
    key: ApiKeyDep, store: StoreDep, body: dict[str, Any] | None = None
) -> Result[list[Property]]:
    """Every property key the organization logged, hidden keys left out."""
    keys = await store.log.org(key.organization_id).read(properties.property_keys)
    return Result(data=[Property(property=k) for k in keys])


@router.post("/hidden/query", response_model=Result[list[Property]])
async def get_hidden_properties(key: ApiKeyDep, store: StoreDep) -> Result[list[Property]]:
    """The keys the organization hid."""
    keys = await store.log.org(key.organization_id).read(properties.hidden_keys)
    return Result(data=[Property(property=k) for k in keys])


@router.post("/hide", response_model=Result[Ok])
async def hide_property(body: KeyBody, key: ApiKeyDep, store: StoreDep) -> Result[Ok]:
    """Hide a key from the property list (its values stay logged and filterable)."""
    await store.log.org(key.organization_id).write(properties.set_hidden, body.key, True)
    return Result(data=Ok())


@router.post("/restore", response_model=Result[Ok])
async def restore_property(body: KeyBody, key: ApiKeyDep, store: StoreDep) -> Result[Ok]:
    """Show a hidden key again."""
    await store.log.org(key.organization_id).write(properties.set_hidden, body.key, False)
    return Result(data=Ok())


@router.post("/properties/over-time", response_model=Result[list[PropertyOverTime]])
async def get_properties_over_time(
    body: PropertyOverTimeRequest, key: ApiKeyDep, store: StoreDep
) -> Result[list[PropertyOverTime]]:
    """Cost and requests per value of a property per bucket, empty buckets filled."""
    rows = await store.log.org(key.organization_id).read(
        properties.over_time,
        body.propertyKey,
        body.userFilter,
        body.timeFilter.window(),
        body.buckets(),
    )
    return Result(
        data=[
            PropertyOverTime(
                property=row["property"],
                total_cost=row["total_cost"],
                request_count=row["request_count"],
                created_at_trunc=iso(row["time"]) or "",
            )
            for row in rows
        ]
    )


@router.post("/{propertyKey}/search", response_model=Result[list[str]])
async def search_properties(
    propertyKey: str, body: SearchBody, key: ApiKeyDep, store: StoreDep
) -> Result[list[str]]:
    """Up to 25 values of a property containing the search term (any case)."""
    return Result(
        data=await store.log.org(key.organization_id).read(
            properties.search_values, propertyKey, body.searchTerm
        )
    )


@router.post("/{propertyKey}/top-costs/query", response_model=Result[list[TopCost]])
async def get_top_costs(
    propertyKey: str, body: TimeFilterRequest, key: ApiKeyDep, store: StoreDep
) -> Result[list[TopCost]]:
    """The ten values with most cost, and "Other" for the rest when it is positive."""
    rows, total = await store.log.org(key.organization_id).read(
        properties.top_values, propertyKey, body.timeFilter.window(), "cost"
    )
    top = [TopCost(value=r["value"], cost=float(r["cost"])) for r in rows]
    other = total - sum(t.cost for t in top)
    if other > 1e-12:
        top.append(TopCost(value="Other", cost=other))
    return Result(data=top)


@router.post("/{propertyKey}/top-requests/query", response_model=Result[list[TopCount]])
async def get_top_requests(
    propertyKey: str, body: TimeFilterRequest, key: ApiKeyDep, store: StoreDep
) -> Result[list[TopCount]]:
    """The ten values with most requests, and "Other" for the rest when there are any."""
    rows, total = await store.log.org(key.organization_id).read(
        properties.top_values, propertyKey, body.timeFilter.window(), "count"
    )
    top = [TopCount(value=r["value"], count=int(r["count"])) for r in rows]
    other = int(total) - sum(t.count for t in top)
    if other > 0:
        top.append(TopCount(value="Other", count=other))
    return Result(data=top)
