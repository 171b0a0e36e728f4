"""Typed dependencies: every router handler reads as parse, call the store, wrap."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from helioscope.api.access import caller
from helioscope.auth import KeyCache
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


StoreDep = Annotated[Store, Depends(get_store)]
ApiKeyDep = Annotated[ApiKey, Depends(get_api_key)]
WriterDep = Annotated[LogWriter, Depends(get_writer)]
KeyCacheDep = Annotated[KeyCache, Depends(get_key_cache)]
