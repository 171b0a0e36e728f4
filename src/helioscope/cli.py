"""The ``helioscope`` command: serve, keys, migrate."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from helioscope.config import Settings
from helioscope.store import Store, keys

app = typer.Typer(help="Helioscope: LLM observability and gateway, wire-compatible with Helicone.")
keys_app = typer.Typer(help="Manage API keys.")
app.add_typer(keys_app, name="keys")

_SCOPES = {"all": "rw", "rw": "rw", "read": "r", "r": "r", "write": "w", "w": "w"}


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Start the gateway and API (migrating the store first)."""
    import uvicorn

    from helioscope.app import SERVER_OPTIONS, create_app

    settings = Settings()
    updates = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    settings = settings.model_copy(update=updates)
    if settings.self_url is None:  # experiments call the gateway on this same port
        loopback = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
        loopback = f"[{loopback}]" if ":" in loopback else loopback
        settings = settings.model_copy(update={"self_url": f"http://{loopback}:{settings.port}"})
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_drain_seconds) + 5,
        **SERVER_OPTIONS,
    )


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""

    async def run() -> None:
        store = Store.open(Settings().database_url)
        try:
            await store.migrate()
        finally:
            await store.close()

    asyncio.run(run())
    typer.echo("database is up to date")


@keys_app.command("create")
def keys_create(
    org: Annotated[str, typer.Option(help="Organization name; created if it does not exist.")],
    name: Annotated[str, typer.Option(help="A name for the key.")] = "cli",
    scope: Annotated[str, typer.Option(help="What the key may do: all, read or write.")] = "all",
) -> None:
    """Create an API key. The key is printed alone on the last line of stdout, once."""
    if scope not in _SCOPES:
        raise typer.BadParameter(f"scope must be one of all, read, write; got {scope!r}")
    if not org.strip() or len(org) > 200:
        raise typer.BadParameter("organization name must be 1 to 200 characters")

    async def run() -> str:
        store = Store.open(Settings().database_url)
        try:
            await store.migrate()
            organization = await store.write(keys.get_or_create_org, org.strip())
            new = await store.org(organization.id).write(
                keys.create_api_key, name=name, permissions=_SCOPES[scope]
            )
            typer.echo(f"organization: {organization.name} ({organization.id})")
            return new.key
        finally:
            await store.close()

    typer.echo(asyncio.run(run()))


def main() -> None:
    """Entry point of the ``helioscope`` script."""
    app()
