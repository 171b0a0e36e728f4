"""The ``Customer`` tag: the organization's customers and what each one used.

A customer is a user id of the organization's log (``Helicone-User-Id``): Helicone's customer
routes list the ids its callers bill by, and Helioscope has no separate customer table, so the
log's user ids are the customers, and the id is also the name. As in Helicone's document, these
two answer the bare value, not the ``{data, error}`` envelope (errors keep the envelope).
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from helioscope.api._fields import Number
from helioscope.api.deps import ApiKeyDep, StoreDep
from helioscope.api.envelope import ERROR_RESPONSES
from helioscope.store import TimeWindow
from helioscope.store.log import public_stats, users

reads = APIRouter(prefix="/v1/customer", tags=["Customer"], responses=ERROR_RESPONSES)


class CustomerQuery(BaseModel):
    """The (empty) body both routes take; Helicone's is ``{}``."""

    model_config = ConfigDict(extra="forbid")


class Customer(BaseModel):
    """One customer (Helicone's ``Customer``)."""

    id: str
    name: str


class CustomerUsage(BaseModel):
    """A customer's requests, tokens and cost in USD (Helicone's ``CustomerUsage``)."""

    id: str
    name: str
    cost: Number
    count: Number
    prompt_tokens: Number
    completion_tokens: Number


@reads.post("/query", response_model=list[Customer])
async def get_customers(body: CustomerQuery, key: ApiKeyDep, store: StoreDep) -> list[Customer]:
    """Every customer (user id) in the organization's log, sorted by id."""
    ids = await store.log.org(key.organization_id).read(public_stats.customer_ids)
    return [Customer(id=customer, name=customer) for customer in ids]


@reads.post("/{customerId}/usage/query", response_model=CustomerUsage | None)
async def get_customer_usage(
    customerId: str, body: CustomerQuery, key: ApiKeyDep, store: StoreDep
) -> CustomerUsage | None:
    """All-time usage of one customer; ``null`` when the log has no call of theirs."""
    window = TimeWindow(dt.datetime.fromtimestamp(0, dt.UTC), dt.datetime.now(dt.UTC))
    rows = await store.log.org(key.organization_id).read(users.user_totals, [customerId], window)
    if not rows:
        return None
    row = rows[0]
    return CustomerUsage(
        id=customerId,
        name=customerId,
        cost=row["cost"],
        count=row["count"],
        prompt_tokens=row["prompt_tokens"],
        completion_tokens=row["completion_tokens"],
    )
