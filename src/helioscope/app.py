"""``create_app(settings)``: the one ASGI app serving the gateway and the REST API on one port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypedDict

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from helioscope import __version__
from helioscope._asgi import with_date
from helioscope.api import ROUTERS, install_error_handlers
from helioscope.api._fastlog import WORKER_LOG_ROUTES, serve_worker_log
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


# Paths under the provider prefixes that are Helicone API routes, not provider calls.
_API_SUFFIXES = ("/v1/log", "/v1/feedback")


# How uvicorn must run the app (``helioscope serve`` and the tests alike): without its own
# ``server`` and ``date`` headers, which a relayed response would otherwise carry twice (the
# provider's and uvicorn's). Helioscope dates the responses it writes itself.
class ServerOptions(TypedDict):
    """Keyword arguments for ``uvicorn.run`` / ``uvicorn.Config``."""

    server_header: bool
    date_header: bool


SERVER_OPTIONS = ServerOptions(server_header=False, date_header=False)


class HelioscopeApp(FastAPI):
    """FastAPI for the REST API, with provider calls dispatched before its middleware stack.

    A proxied call needs none of FastAPI's machinery (the gateway renders its own errors), and
    skipping five middleware layers is a measurable share of the gateway's overhead.
    """

    gateway_prefixes: tuple[tuple[str, Route], ...] = ()
    ai_routes: dict[str, AiRoute] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve provider routes directly; everything else through FastAPI."""
        if scope["type"] == "http":
            path: str = scope["path"]
            if path in WORKER_LOG_ROUTES and scope["method"] == "POST":
                services: Services = self.state.services
                await serve_worker_log(
                    scope,
                    receive,
                    send,
                    keys=services.keys,
                    writer=services.started.writer,
                    limit=services.settings.max_request_body_bytes,
                )
                return
            ai_route = self.ai_routes.get(path)
            if ai_route is not None and scope["method"] == "POST":
                await self.state.services.started.gateway.handle(ai_route, scope, receive, send)
                return
            if not path.endswith(_API_SUFFIXES):  # Helicone's log and feedback routes
                for prefix, route in self.gateway_prefixes:
                    if path.startswith(prefix):
                        await self.state.services.started.gateway.handle(
                            route, scope, receive, send
                        )
                        return
            send = with_date(send)
        await super().__call__(scope, receive, send)


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
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    install_ui(app)
    app.gateway_prefixes = tuple((route.prefix + "/", route) for route in gateway_routes(settings))
    app.ai_routes = {route.path: route for route in AI_ROUTES}
    return app
