"""Typed dependencies: every router handler reads as parse, call the store, wrap."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request

from helioscope.api.access import caller
from helioscope.auth import KeyCache
from helioscope.body_links import BodyLinks
from helioscope.ingest import LogWriter
from helioscope.store import ApiKey, Store


def _services(request: Request) -> Any:
    return request.app.state.services


# Dependencies are `async def` on purpose: FastAPI runs plain `def` dependencies in a thread
# pool, which costs more than everything these functions do.
async def get_store(request: Request) -> Store:
    """The store of the running app."""
    store: Store = _services(request).store
    return store


async def get_writer(request: Request) -> LogWriter:
    """The log writer of the running app."""
    writer: LogWriter = _services(request).started.writer
    return writer


async def get_key_cache(request: Request) -> KeyCache:
    """The key cache of the running app (invalidate it after changing keys)."""
    keys: KeyCache = _services(request).keys
    return keys


async def get_api_key(request: Request) -> ApiKey:
    """The caller's key, as the route table's check admitted it for this operation.

    The scope it needed is declared in the table of ``helioscope.api``, nowhere else; by the
    time a handler runs, the key fits it.
    """
    return caller(request.scope)


async def get_body_links(request: Request) -> BodyLinks:
    """The signer of body links (``signed_body_url``)."""
    links: BodyLinks = _services(request).body_links
    return links


async def get_body_url(request: Request) -> Callable[[str], str]:
    """``signed_body_url`` for a request id of the caller's organization, on this server."""
    links: BodyLinks = _services(request).body_links
    organization_id = caller(request.scope).organization_id
    base = str(request.base_url).rstrip("/")
    return lambda request_id: base + links.path(organization_id, request_id)


StoreDep = Annotated[Store, Depends(get_store)]
ApiKeyDep = Annotated[ApiKey, Depends(get_api_key)]
WriterDep = Annotated[LogWriter, Depends(get_writer)]
KeyCacheDep = Annotated[KeyCache, Depends(get_key_cache)]
BodyLinksDep = Annotated[BodyLinks, Depends(get_body_links)]
BodyUrlDep = Annotated[Callable[[str], str], Depends(get_body_url)]
