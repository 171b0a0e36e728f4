"""``helioscope serve``: the gateway, the API and the UI on one port."""

from __future__ import annotations

import asyncio
import socket
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from helioscope.cli._gc import freeze_startup
from helioscope.cli._memory import tune_malloc
from helioscope.cli._store import announce
from helioscope.config import Settings
from helioscope.store import Store

if TYPE_CHECKING:  # imported when serving: the other commands start faster without it
    import uvicorn


async def _announce(settings: Settings, *, migrate: bool) -> None:
    store = Store.open(settings.database_url)
    try:
        await announce(store)
        if migrate:  # before the workers start, so that they do not race to migrate
            await store.migrate()
    finally:
        await store.close()


def _server(config: uvicorn.Config, *, prices: bool) -> uvicorn.Server:
    """A server that freezes startup's objects once it is up (``cli._gc``)."""
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, then ``freeze_startup`` once it has started."""

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:
                await freeze_startup(prices=prices)

    return Server(config)


def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help=(
                "Server processes on the port (each with its own journal; one of them stores "
                "the log). More than one uses more cores."
            ),
        ),
    ] = 1,
    writer_process: Annotated[
        bool,
        typer.Option(
            "--writer-process",
            help=(
                "Run the log writer in a process of its own, so that storing the log never "
                "shares a server's event loop with the calls it relays."
            ),
        ),
    ] = False,
    fd: Annotated[int | None, typer.Option(hidden=True, help="Inherited socket (workers).")] = None,
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
    if (workers > 1 or writer_process) and (settings.clickhouse_url or "").startswith("chdb:"):
        # chdb locks its directory for one process, and every worker reads the log: the second
        # process would die at start on "Cannot lock file". Say so before anything starts.
        raise typer.BadParameter(
            "--workers/--writer-process need more than one process to reach the log, and an "
            "embedded ClickHouse (HELIOSCOPE_CLICKHOUSE_URL=chdb://…) is open to one process "
            "only: serve it with one process, or point HELIOSCOPE_CLICKHOUSE_URL at a "
            "ClickHouse server (http(s)://…)"
        )
    if fd is None:
        asyncio.run(_announce(settings, migrate=workers > 1 or writer_process))
    if workers > 1 or writer_process:
        from helioscope.cli._workers import supervise

        supervise(settings, workers, writer_apart=writer_process)
        return
    tune_malloc()
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_drain_seconds) + 5,
        **server_options(settings),
    )
    # An inherited socket is handed over as a socket object whose family is read from the fd:
    # uvicorn's own ``fd=`` takes it for a Unix socket, and the event loop then leaves Nagle on
    # for its TCP connections, so every response's body waited behind its head for the
    # client's delayed ACK (~40 ms a call with --workers).
    sockets = [socket.socket(fileno=fd)] if fd is not None else None
    server = _server(config, prices=settings.log_writer)
    server.run(sockets=sockets)
    if not server.started:
        sys.exit(3)  # what uvicorn.run exits with when the server could not start
