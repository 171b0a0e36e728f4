"""Typed dependencies: every router handler reads as parse, call the store, wrap."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Request

from helioscope.auth import ALL, READ, WRITE, KeyCache, api_key_text
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


async def get_api_key(
    request: Request,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    helicone_auth: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> ApiKey:
    """The caller's key, from ``Authorization: Bearer <key>`` (or ``Helicone-Auth``).

    Reading the API needs the read scope.
    """
    keys: KeyCache = _services(request).keys
    return await keys.resolve(api_key_text(helicone_auth, authorization), READ)


async def get_log_key(
    request: Request,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    helicone_auth: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> ApiKey:
    """The caller's key for the log routes, which need the write scope."""
    keys: KeyCache = _services(request).keys
    return await keys.resolve(api_key_text(helicone_auth, authorization), WRITE)


async def get_admin_key(
    request: Request,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    helicone_auth: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> ApiKey:
    """The caller's key for managing keys, webhooks and alerts: it needs every scope.

    A read-only or write-only key cannot mint a key wider than itself.
    """
    keys: KeyCache = _services(request).keys
    return await keys.resolve(api_key_text(helicone_auth, authorization), ALL)


StoreDep = Annotated[Store, Depends(get_store)]
ApiKeyDep = Annotated[ApiKey, Depends(get_api_key)]
WriterDep = Annotated[LogWriter, Depends(get_writer)]
LogKeyDep = Annotated[ApiKey, Depends(get_log_key)]
AdminKeyDep = Annotated[ApiKey, Depends(get_admin_key)]
KeyCacheDep = Annotated[KeyCache, Depends(get_key_cache)]
