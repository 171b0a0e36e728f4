"""``create_app(settings)``: the one ASGI app serving the gateway and the REST API on one port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, TypedDict

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from helioscope import __version__
from helioscope._asgi import with_date
from helioscope._client_timeouts import timed_protocol
from helioscope.api import DECLARED, error_schemas, install_api
from helioscope.config import Settings
from helioscope.gateway import AI_ROUTES, AiRoute, Route
from helioscope.providers import ANTHROPIC, OPENAI
from helioscope.services import Services
from helioscope.ui import install_ui


def gateway_routes(settings: Settings) -> list[Route]:
    """The provider routes: OpenAI (under two names), Anthropic, and the generic gateway."""
    return [
        Route("/oai", OPENAI, settings.openai_base_url.rstrip("/")),
        Route("/openai", OPENAI, settings.openai_base_url.rstrip("/")),
        Route("/anthropic", ANTHROPIC, settings.anthropic_base_url.rstrip("/")),
        Route("/gateway", None, None),
    ]


@dataclass(frozen=True)
class Dispatch:
    """Where a request goes before FastAPI's middleware and routing: one table, in order.

    1. ``exact`` paths: the async log routes (raw ASGI, each behind its declared check), the
       AI Gateway's endpoints (``/v1/chat/completions``, …: the gateway checks the key), and
       the API's routes that live under a provider prefix (``/oai/v1/feedback``: the API).
    2. ``prefixes``: the gateway's provider routes, ``/oai/…``, ``/anthropic/…``; the gateway
       checks the key itself (the write scope), reading it apart from the provider's key.
    3. everything else: ``api``, FastAPI (the REST routes, the UI, the docs).
    """

    exact: Mapping[str, ASGIApp]
    prefixes: tuple[tuple[str, ASGIApp], ...]
    api: ASGIApp

    def target(self, path: str) -> ASGIApp:
        """The app serving ``path``."""
        app = self.exact.get(path)
        if app is not None:
            return app
        for prefix, gateway in self.prefixes:
            if path.startswith(prefix):
                return gateway
        return self.api

    def direct(self, path: str) -> ASGIApp | None:
        """The gateway app serving ``path`` when it is a provider route, else None.

        The server calls it straight (``_client_timeouts``), past the middleware and the
        table's other apps: a proxied call needs none of them.
        """
        if path in self.exact:
            return None
        for prefix, gateway in self.prefixes:
            if path.startswith(prefix):
                return gateway
        return None


def _proxy(services: Services, route: Route) -> ASGIApp:
    # A plain function handing back the gateway's coroutine: no coroutine layer of its own,
    # which every step of the call would pass through.
    def proxy(scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        return services.started.gateway.handle(route, scope, receive, send)

    return proxy


def _ai_gateway(services: Services, route: AiRoute, api: ASGIApp) -> ASGIApp:
    async def ai_gateway(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":  # the endpoints only take POST; the API answers the rest
            await api(scope, receive, send)
            return
        await services.started.gateway.handle(route, scope, receive, send)

    return ai_gateway


def dispatch_table(app: HelioscopeApp, services: Services) -> Dispatch:
    """The app's dispatch table: raw log routes, then provider prefixes, then the API."""
    prefixes = tuple(
        (route.prefix + "/", _proxy(services, route)) for route in gateway_routes(services.settings)
    )
    under_a_prefix = [
        route.path
        for route in DECLARED.routes
        if route.path.startswith(tuple(prefix for prefix, _ in prefixes))
    ]
    if any("{" in path for path in under_a_prefix):
        raise ValueError(
            f"API routes under a provider prefix must have fixed paths: {under_a_prefix}"
        )
    return Dispatch(
        exact={
            **DECLARED.raw,
            **{route.path: _ai_gateway(services, route, app.serve_api) for route in AI_ROUTES},
            **dict.fromkeys(under_a_prefix, app.serve_api),
        },
        prefixes=prefixes,
        api=app.serve_api,
    )


# How uvicorn must run the app (``helioscope serve`` and the tests alike): without its own
# ``server`` and ``date`` headers, which a relayed response would otherwise carry twice (the
# provider's and uvicorn's; Helioscope dates the responses it writes itself); and with
# timeouts for clients that never finish a request (``_client_timeouts``).
class ServerOptions(TypedDict):
    """Keyword arguments for ``uvicorn.run`` / ``uvicorn.Config``."""

    server_header: bool
    date_header: bool
    http: type[asyncio.Protocol]
    timeout_keep_alive: int


def server_options(settings: Settings) -> ServerOptions:
    """The options uvicorn runs Helioscope with."""
    return ServerOptions(
        server_header=False,
        date_header=False,
        http=timed_protocol(
            settings.client_header_timeout_seconds, settings.client_body_timeout_seconds
        ),
        timeout_keep_alive=settings.client_keepalive_seconds,
    )


class HelioscopeApp(FastAPI):
    """FastAPI for the REST API, behind a dispatch table that serves provider calls first.

    The async log routes go first too. A proxied call needs none of FastAPI's machinery (the
    gateway renders its own errors), and skipping five middleware layers is a measurable share
    of the gateway's overhead.
    """

    dispatch: Dispatch | None = None
    # Every app of a process has the same routes (``create_app`` installs them all, whatever
    # the settings), and FastAPI takes about a second to describe them: once per process.
    _document: ClassVar[dict[str, Any] | None] = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve each request from the dispatch table (lifespan and the rest: FastAPI)."""
        if scope["type"] == "http" and self.dispatch is not None:
            scope["app"] = self  # as Starlette sets it: the raw routes find the services here
            await self.dispatch.target(scope["path"])(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    def direct_app(self, path: str) -> ASGIApp | None:
        """The app the server may call directly for ``path`` (a provider route), or None.

        uvicorn otherwise calls the app through its ``ProxyHeadersMiddleware``, which rewrites
        the scope's ``client`` and ``scheme`` (the gateway reads neither) and this class's
        dispatch: three coroutine layers that every step of a proxied call passes through.
        """
        return self.dispatch.direct(path) if self.dispatch is not None else None

    async def serve_api(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The REST API, the UI and the docs: FastAPI, with a ``date`` on every response."""
        await super().__call__(scope, receive, with_date(send))

    def openapi(self) -> dict[str, Any]:
        """FastAPI's document, with the raw routes described from their declaration."""
        if HelioscopeApp._document is None:
            schema = super().openapi()
            schema.setdefault("components", {}).setdefault("schemas", {}).update(error_schemas())
            for path, operations in DECLARED.raw_operations.items():
                schema["paths"].setdefault(path, operations)
            HelioscopeApp._document = schema
        return HelioscopeApp._document


def create_app(settings: Settings | None = None) -> HelioscopeApp:
    """Build the Helioscope app; its lifespan migrates the store and starts the log writer."""
    settings = settings or Settings()
    services = Services(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with services.running():
            yield

    app = HelioscopeApp(
        title="Helioscope",
        version=__version__,
        description="Self-hosted LLM observability and gateway, wire-compatible with Helicone.",
        lifespan=lifespan,
    )
    app.state.services = services
    install_api(app)
    install_ui(app)
    app.dispatch = dispatch_table(app, services)
    return app
