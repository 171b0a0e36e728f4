"""``helioscope serve``: the gateway, the API and the UI on one port."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from helioscope.cli._store import announce
from helioscope.config import Settings
from helioscope.store import Store


async def _announce(settings: Settings) -> None:
    store = Store.open(settings.database_url)
    try:
        await announce(store)
    finally:
        await store.close()


def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Start the gateway and API (migrating the store first)."""
    import uvicorn

    from helioscope.app import create_app, server_options

    settings = Settings()
    updates = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    settings = settings.model_copy(update=updates)
    if settings.self_url is None:  # experiments call the gateway on this same port
        loopback = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
        loopback = f"[{loopback}]" if ":" in loopback else loopback
        settings = settings.model_copy(update={"self_url": f"http://{loopback}:{settings.port}"})
    asyncio.run(_announce(settings))
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_drain_seconds) + 5,
        **server_options(settings),
    )
