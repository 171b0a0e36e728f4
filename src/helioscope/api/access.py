"""Who may call what: the needs an operation can declare, and the one check that enforces them.

Every API operation is declared once, in the table of ``helioscope.api`` (``API``): a router,
or a group of raw routes, and what its operations need. Nothing else says it: handlers take
the caller's key (``ApiKeyDep``) as the check admitted it, and never check a scope themselves.

The check (``admit``) runs before anything reads the request body. It takes the key from the
headers (``Helicone-Auth`` or ``Authorization: Bearer``), answers 401 or 403 if it does not
fit, then holds the body to the route class's limit: a declared ``content-length`` past it is a
413 at once, and a body sent without one (chunked) is read up to the limit and no further. An
unauthenticated client declaring 400 MB costs a header parse.

Key scopes are Helicone's ``key_permissions``:

======  =====================================================================================
``r``   read the API (queries, lists, exports); changes nothing
``w``   proxy and log calls, and change the API's state: create, edit, delete, run
``rw``  all of that, plus managing API keys, provider keys, webhooks and alerts (``Need.ALL``)
======  =====================================================================================
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from helioscope._asgi import send_error
from helioscope.api.envelope import ERROR_CONTENT, ERROR_RESPONSES
from helioscope.auth import ALL, READ, WRITE, api_key_text
from helioscope.errors import HelioscopeError, PayloadTooLarge
from helioscope.store import ApiKey

# Where the admitted key waits for the handler, in the request's state (``request.state``).
CALLER = "api_key"
# The OpenAPI extension that shows each operation's need.
SCOPE_EXTENSION = "x-helioscope-scope"


class Need(StrEnum):
    """What an operation needs from the caller's key."""

    PUBLIC = "public"  # no key: a signed prompt body (the URL is the credential), health probes
    READ = "read"  # r: reads, changes nothing
    WRITE = "write"  # w: changes state, or runs something that costs (a provider call, code)
    LOG = "log"  # w, like WRITE, and bodies up to the gateway's limit: the async log routes
    ALL = "all"  # rw: API keys, provider keys, webhooks and alerts
    KEY = "key"  # any valid key, whatever its scope (an SDK lists the models it may call)

    @property
    def letters(self) -> str | None:
        """The ``key_permissions`` letters a key must hold (``None``: no key needed)."""
        return _LETTERS[self]

    @property
    def sentence(self) -> str:
        """How the OpenAPI document states it, at the end of each operation's description."""
        return _SENTENCES[self]


_LETTERS: dict[Need, str | None] = {
    Need.PUBLIC: None,
    Need.READ: READ,
    Need.WRITE: WRITE,
    Need.LOG: WRITE,
    Need.ALL: ALL,
    Need.KEY: "",  # every key's letters contain the empty string
}
_SENTENCES = {
    Need.PUBLIC: "Scope: none; no API key (the URL is the credential).",
    Need.READ: "Scope: read: a key with `r` (`r` or `rw`).",
    Need.WRITE: "Scope: write: a key with `w` (`w` or `rw`).",
    Need.LOG: (
        "Scope: write: a key with `w` (`w` or `rw`); bodies up to "
        "`HELIOSCOPE_MAX_REQUEST_BODY_BYTES`, as the gateway takes."
    ),
    Need.ALL: "Scope: all: an `rw` key.",
    Need.KEY: "Scope: any valid key (`r`, `w` or `rw`).",
}


def _header_key(scope: Scope) -> str | None:
    helicone_auth = authorization = None
    for name, value in scope["headers"]:
        if name == b"helicone-auth":
            helicone_auth = value.decode("latin-1")
        elif name == b"authorization":
            authorization = value.decode("latin-1")
    return api_key_text(helicone_auth, authorization)


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


async def _bounded(scope: Scope, receive: Receive, limit: int) -> Receive:
    """``receive``, with the body held to ``limit`` bytes (413 past it), read no further."""
    too_large = PayloadTooLarge(f"body is larger than the limit of {limit} bytes")
    length = _declared_length(scope)
    if length is not None:
        if length > limit:
            raise too_large
        return receive  # the server delivers no more than content-length bytes
    # No length (chunked, or no body at all): read it here, up to the limit, then replay it.
    chunks: list[bytes] = []
    size = 0
    pending: list[Message] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            pending.append(message)  # the client went away while sending
            break
        size += len(message.get("body", b""))
        if size > limit:
            raise too_large
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    pending.insert(0, {"type": "http.request", "body": b"".join(chunks)})

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


async def admit(need: Need, scope: Scope, receive: Receive) -> Receive:
    """Check the caller against ``need`` from the headers, then bound the body.

    The admitted key is left in the request's state (``caller(scope)``). Raises
    ``Unauthorized`` (401), ``Forbidden`` (403, naming the scope needed), ``ServiceUnavailable``
    (503: the key store is down) or ``PayloadTooLarge`` (413), all before the body is read.
    """
    services = scope["app"].state.services
    letters = need.letters
    if letters is not None:
        key = await services.keys.resolve(_header_key(scope), letters)
        scope.setdefault("state", {})[CALLER] = key
    settings = services.settings
    limit: int = (
        settings.max_request_body_bytes if need is Need.LOG else settings.max_api_body_bytes
    )
    return await _bounded(scope, receive, limit)


def caller(scope: Scope) -> ApiKey:
    """The key ``admit`` let in; an operation missing from the table has none, and fails."""
    key: ApiKey | None = scope.get("state", {}).get(CALLER)
    if key is None:
        raise RuntimeError(
            f"{scope['method']} {scope['path']} takes the caller's key, but no declared need "
            "admitted one: declare its router in the table of helioscope.api (API)"
        )
    return key


@dataclass(frozen=True)
class RawRoute:
    """An operation served as plain ASGI, ahead of FastAPI.

    These are the async log routes, the busiest there are, where FastAPI's routing and
    dependency machinery cost as much as the work. ``app`` runs after ``admit``: it reads
    ``caller(scope)`` and the bounded body, and renders its own errors. ``operation`` is its
    OpenAPI operation object (``operationId``, ``summary``, ``description``, ``requestBody``
    and its success ``responses``); the table adds its need and the errors every operation has.
    """

    path: str
    method: str
    app: ASGIApp
    operation: dict[str, Any]


@dataclass(frozen=True)
class RawRoutes:
    """Raw routes that share a tag, declared in the table like a router."""

    tag: str
    routes: tuple[RawRoute, ...]


Operations = APIRouter | RawRoutes


def _guard_fastapi(need: Need, app: ASGIApp) -> ASGIApp:
    # Raised errors reach the app's exception handlers, which render the envelope.
    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        await app(scope, await admit(need, scope, receive), send)

    return guarded


def _guard_raw(need: Need, route: RawRoute) -> ASGIApp:
    # Served ahead of FastAPI, so it renders its own errors.
    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            if scope["method"] != route.method:
                await send_error(send, 405, f"method not allowed: use {route.method}")
                return
            receive = await admit(need, scope, receive)
        except HelioscopeError as exc:
            await send_error(send, exc.status, exc.message)
            return
        await route.app(scope, receive, send)

    return guarded


def _declare_route(route: APIRoute, need: Need) -> APIRoute:
    # A copy, so that the routers stay as their modules wrote them, and the app built from the
    # copies shares them with every other app in the process (nothing is rebuilt per app).
    declared = copy.copy(route)
    declared.app = _guard_fastapi(need, route.app)
    declared.openapi_extra = {**(route.openapi_extra or {}), SCOPE_EXTENSION: need.value}
    declared.description = "\n\n".join(filter(None, (route.description, need.sentence)))
    return declared


@dataclass(frozen=True)
class Declared:
    """The table, built: FastAPI routes with their check, and raw routes with theirs."""

    routes: tuple[APIRoute, ...]
    raw: dict[str, ASGIApp]  # path -> the guarded raw app
    raw_operations: dict[str, dict[str, Any]]  # path -> {method: OpenAPI operation}


def declare(table: tuple[tuple[Operations, Need], ...]) -> Declared:
    """Build the table's routes, each guarded by its declared need.

    Refuses a router that includes another (the table is flat) and an operation declared twice.
    """
    routes: list[APIRoute] = []
    raw: dict[str, ASGIApp] = {}
    operations: dict[str, dict[str, Any]] = {}
    seen: set[tuple[str, str]] = set()

    def once(method: str, path: str) -> None:
        if (method, path) in seen:
            raise ValueError(f"{method} {path} is declared twice in the route table")
        seen.add((method, path))

    for group, need in table:
        if isinstance(group, RawRoutes):
            for raw_route in group.routes:
                once(raw_route.method, raw_route.path)
                raw[raw_route.path] = _guard_raw(need, raw_route)
                operations[raw_route.path] = {
                    raw_route.method.lower(): _raw_operation(raw_route, group.tag, need)
                }
            continue
        for route in group.routes:
            if not isinstance(route, APIRoute):
                raise TypeError(f"{route!r}: the route table lists routers of plain routes only")
            for method in sorted(route.methods or ()):
                once(method, route.path)
            routes.append(_declare_route(route, need))
    return Declared(tuple(routes), raw, operations)


def _raw_operation(route: RawRoute, tag: str, need: Need) -> dict[str, Any]:
    errors = {
        str(status): {"description": response["description"], "content": ERROR_CONTENT}
        for status, response in ERROR_RESPONSES.items()
    }
    operation = route.operation
    return {
        **operation,
        "tags": [tag],
        "description": f"{operation['description']}\n\n{need.sentence}",
        SCOPE_EXTENSION: need.value,
        "responses": {**errors, **operation["responses"]},
    }
