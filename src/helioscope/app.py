"""``create_app(settings)``: the one ASGI app serving the gateway and the REST API on one port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.routing import Mount
from starlette.types import Receive, Scope, Send

from helioscope import __version__
from helioscope.api import ROUTERS, install_error_handlers
from helioscope.config import Settings
from helioscope.gateway import Route
from helioscope.providers import ANTHROPIC, OPENAI
from helioscope.services import Services


def gateway_routes(settings: Settings) -> list[Route]:
    """The provider routes: OpenAI (under two names), Anthropic, and the generic gateway."""
    return [
        Route("/oai", OPENAI, settings.openai_base_url.rstrip("/")),
        Route("/openai", OPENAI, settings.openai_base_url.rstrip("/")),
        Route("/anthropic", ANTHROPIC, settings.anthropic_base_url.rstrip("/")),
        Route("/gateway", None, None),
    ]


def _mount(services: Services, route: Route) -> Mount:
    # The gateway exists only while the app runs (its HTTP client needs the event loop), so
    # the mounted app looks it up per call: one attribute read.
    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        await services.gateway.handle(route, scope, receive, send)

    return Mount(route.prefix, app=asgi)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the Helioscope app; its lifespan migrates the store and starts the log writer."""
    settings = settings or Settings()
    services = Services(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with services.running():
            yield

    app = FastAPI(
        title="Helioscope",
        version=__version__,
        description="Self-hosted LLM observability and gateway, wire-compatible with Helicone.",
        lifespan=lifespan,
    )
    app.state.services = services
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    for route in gateway_routes(settings):
        app.router.routes.append(_mount(services, route))
    return app
