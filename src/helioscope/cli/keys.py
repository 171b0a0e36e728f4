"""``helioscope keys``: API keys made from the command line."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from helioscope.cli._store import open_store
from helioscope.config import Settings
from helioscope.store import keys

keys_app = typer.Typer(help="Manage API keys.")

_SCOPES = {"all": "rw", "rw": "rw", "read": "r", "r": "r", "write": "w", "w": "w"}


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
        async with open_store(Settings()) as store:
            organization = await store.write(keys.get_or_create_org, org.strip())
            new = await store.org(organization.id).write(
                keys.create_api_key, name=name, permissions=_SCOPES[scope]
            )
            typer.echo(f"organization: {organization.name} ({organization.id})")
            return new.key

    typer.echo(asyncio.run(run()))
