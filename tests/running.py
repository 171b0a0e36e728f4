"""A Helioscope under test: in process by default, with a real loopback socket on demand."""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import socket
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

from helioscope import Settings, create_app
from helioscope.app import HelioscopeApp, server_options
from helioscope.services import Services
from helioscope.store import keys
from helioscope.testing._server import loopback_socket, serve

# Where the in-process client's requests say they go (the Host header); nothing listens there.
IN_PROCESS_URL = "http://helioscope.test"


@functools.cache
def _loopback_tls() -> ssl.SSLContext:
    return ssl.create_default_context()


def loopback_client(url: str, **options: Any) -> httpx.AsyncClient:
    """An httpx client of a server on loopback (plain HTTP); ``options`` go to the client.

    httpx builds each client a verifying SSL context, loading the CA bundle (~15 ms of CPU),
    which a plain-HTTP client never uses: 3.5% of the xdist workers' samples in a py-spy
    profile of the suite. These clients share one (verifying as httpx's would, were it used).
    """
    return httpx.AsyncClient(base_url=url, verify=_loopback_tls(), **options)


class Running:
    """A Helioscope with one organization and its API key.

    ``client`` calls it in process (``httpx.ASGITransport``: no socket, no server). ``url`` is a
    real loopback server of the same app, started the first time a test asks for it, for what
    needs a socket: the official SDKs' streaming, the browser, disconnects and signals.
    """

    def __init__(
        self,
        url: str | None,
        services: Services,
        org_id: str,
        key: str,
        *,
        app: HelioscopeApp | None = None,
    ) -> None:
        if url is None and app is None:
            raise ValueError("a Running needs a URL or an app to serve")
        self._url = url
        self.services = services
        self.org_id = org_id
        self.key = key
        self.app = app
        self._client: httpx.AsyncClient | None = None
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._serving: concurrent.futures.Future[None] | None = None

    @property
    def url(self) -> str:
        """The base URL of a real server of this app (started on first use)."""
        if self._url is None:
            assert self.app is not None
            sock = loopback_socket()
            # The socket listens already, so a client may connect before the server task runs.
            self._serving = asyncio.run_coroutine_threadsafe(self._serve(sock), self._loop)
            self._url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        return self._url

    async def _serve(self, sock: socket.socket) -> None:
        # The app's lifespan already runs in process; the server only adds the socket.
        async with serve(
            self.app, lifespan="off", sock=sock, **server_options(self.services.settings)
        ):
            await self._stop.wait()

    @property
    def client(self) -> httpx.AsyncClient:
        """A shared httpx client for this Helioscope (in process when the app runs here)."""
        if self._client is None:
            self._client = self.http()
        return self._client

    def http(self, **options: Any) -> httpx.AsyncClient:
        """A new httpx client for this Helioscope, in process when the app runs here; the caller
        closes it. ``options`` go to ``httpx.AsyncClient`` (headers, timeout...)."""
        if self.app is None:
            return loopback_client(self.url, **options)
        transport = httpx.ASGITransport(app=self.app)
        return httpx.AsyncClient(transport=transport, base_url=IN_PROCESS_URL, **options)

    def on_socket(self) -> Running:
        """This Helioscope as seen through its real socket: clients made from it use ``url``."""
        return Running(self.url, self.services, self.org_id, self.key)

    def auth(self, key: str | None = None) -> dict[str, str]:
        """The Authorization header of this organization's key (or of ``key``)."""
        return {"authorization": f"Bearer {key or self.key}"}

    async def flush(self) -> None:
        """Wait until every call so far is in the store."""
        await self.services.started.writer.flush()

    async def add_org(self, name: str) -> tuple[str, str]:
        """Create another organization; return its id and a key."""
        org = await self.services.store.write(keys.get_or_create_org, name)
        new = await self.services.store.org(org.id).write(keys.create_api_key)
        return org.id, new.key

    def replica_settings(self) -> Settings:
        """This Helioscope's settings for another server on the same store (a replica, or the
        next one of a rolling restart): a journal directory of its own, as each server needs
        (a journal directory in use refuses a second server)."""
        journal = self.services.journal_dir()
        return self.services.settings.model_copy(
            update={"journal_dir": journal.with_name(journal.name + "-replica")}
        )

    async def aclose(self) -> None:
        """Close the client and stop the server, if they were made."""
        if self._client is not None:
            await self._client.aclose()
        if self._serving is not None:
            self._stop.set()
            await asyncio.wrap_future(self._serving)


@asynccontextmanager
async def running(settings: Settings, org_name: str = "acme") -> AsyncIterator[Running]:
    """Helioscope in process, its lifespan running, with organization ``org_name`` and a key."""
    app = create_app(settings)
    services: Services = app.state.services
    # No time limits: the lifespan's shutdown drains the log writer on its own deadline.
    async with LifespanManager(app, startup_timeout=None, shutdown_timeout=None):
        org = await services.store.write(keys.get_or_create_org, org_name)
        key = await services.store.org(org.id).write(keys.create_api_key)
        hs = Running(None, services, org.id, key.key, app=app)
        try:
            yield hs
        finally:
            await hs.aclose()
