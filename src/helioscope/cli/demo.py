"""``helioscope demo``: a first run that shows something, with no provider key.

It starts the built-in fake provider and a Helioscope over a temporary store in this process,
sends a few hundred realistic calls through the real gateway (see ``_demo_traffic`` and
``_demo_features``), prints the URL and an API key, and opens the UI in a browser when there
is one. Ctrl-C stops it and removes the temporary store.
"""

from __future__ import annotations

import asyncio
import random
import signal
import socket
import tempfile
import webbrowser
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import aiohttp
import typer
import uvicorn
from pydantic import SecretStr

from helioscope.cli import _demo_features as features
from helioscope.cli._demo_client import DEMO_PROVIDER_KEY, DemoClient
from helioscope.cli._demo_traffic import plan, send
from helioscope.cli._store import note
from helioscope.config import Settings
from helioscope.store import keys

if TYPE_CHECKING:
    from helioscope.services import Services


@dataclass(frozen=True, slots=True)
class DemoOptions:
    """How the demo runs: where it listens, how much it sends, how slow the fake answers."""

    host: str = "127.0.0.1"
    port: int = 8585  # taken: the OS picks a free one
    calls: int = 300
    latency_scale: float = 1.0  # 0 answers at once (tests)
    concurrency: int = 32


@dataclass(frozen=True, slots=True)
class DemoServer:
    """A running demo: where it listens, its key, and its objects."""

    url: str
    key: str
    services: Services
    directory: Path


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What the demo sent."""

    calls: int
    failed: int
    prompt_calls: int
    rated: int
    experiment_id: str


class _Server(uvicorn.Server):
    # The demo handles Ctrl-C itself (and tests own their process's signals).
    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        if port == 0:
            raise
        note(f"port {port} is taken; letting the system choose one")
        sock.bind((host, 0))
    return sock


def _settings(directory: Path, fake_url: str, host: str, port: int) -> Settings:
    return Settings(
        database_url=f"sqlite:///{directory / 'demo.db'}",
        host=host,
        port=port,
        openai_base_url=fake_url,
        anthropic_base_url=fake_url,
        bootstrap_default_org=False,
        self_url=f"http://{host}:{port}",
        experiment_openai_api_key=SecretStr(DEMO_PROVIDER_KEY),
        journal_dir=directory / "journal",
        alert_check_seconds=0,
    )


async def _started(server: uvicorn.Server, task: asyncio.Task[None]) -> None:
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("the demo server stopped before it started")
        await asyncio.sleep(0.01)


@asynccontextmanager
async def demo_server(options: DemoOptions) -> AsyncIterator[DemoServer]:
    """The fake provider and Helioscope over a temporary store, with an organization and key."""
    # Imported here: every other command of the CLI starts without the app's ~2 s of imports.
    from helioscope.app import create_app, server_options
    from helioscope.testing import FakeProvider

    with tempfile.TemporaryDirectory(prefix="helioscope-demo-") as tmp:
        provider = FakeProvider()
        provider.record = False  # the demo may run for hours: keep memory flat
        async with provider.run() as fake_url:
            sock = _bind(options.host, options.port)
            port = sock.getsockname()[1]
            settings = _settings(Path(tmp), fake_url, options.host, port)
            app = create_app(settings)
            config = uvicorn.Config(
                app,
                lifespan="on",
                log_level="warning",
                access_log=False,
                **server_options(settings),
            )
            server = _Server(config)
            task = asyncio.create_task(server.serve(sockets=[sock]))
            try:
                await _started(server, task)
                services: Services = app.state.services
                store = services.store
                org = await store.write(keys.get_or_create_org, "demo")
                key = await store.org(org.id).write(keys.create_api_key, name="demo")
                url = f"http://{options.host}:{port}"
                yield DemoServer(url, key.key, services, Path(tmp))
            finally:
                server.should_exit = True
                await task
                sock.close()


async def seed(server: DemoServer, options: DemoOptions) -> DemoSummary:
    """Send the demo's calls, rate and score some, run the experiment."""
    rng = random.Random(11)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        client = DemoClient(session, server.url, server.key)
        chains = plan(options.calls, options.latency_scale)
        traffic = await send(client, chains, options.concurrency)
        prompt_calls = await features.prompt_calls(client, rng, max(6, options.calls // 12))
        rated = await features.rate_and_score(client, rng, traffic.succeeded + prompt_calls)
        experiment_id = await features.experiment(client)
    await server.services.started.writer.flush()
    return DemoSummary(
        calls=len(traffic.succeeded) + len(traffic.failed),
        failed=len(traffic.failed),
        prompt_calls=len(prompt_calls),
        rated=rated,
        experiment_id=experiment_id,
    )


def open_browser(url: str) -> bool:
    """Open ``url`` in a graphical browser, if this machine has one; True if it did.

    On a headless machine ``webbrowser`` falls back to terminal browsers (w3m, lynx), which
    would take over the terminal the demo prints to: those are skipped. Never raises.
    """
    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        return False
    if type(browser) is webbrowser.GenericBrowser:  # a terminal browser, or $BROWSER's command
        return False
    try:
        return bool(browser.open(url, new=2))
    except (webbrowser.Error, OSError):
        return False


def _print_welcome(server: DemoServer, summary: DemoSummary) -> None:
    typer.echo(f"Helioscope demo: {server.url}/")
    typer.echo(f"API key: {server.key}")
    typer.echo(
        f"Sent {summary.calls} calls ({summary.failed} failed upstream, on purpose), "
        f"{summary.prompt_calls} with the prompt 'support-reply', rated or scored "
        f"{summary.rated}, and ran experiment {summary.experiment_id}."
    )
    typer.echo(
        "Sign in to the UI with the key above, or point an SDK at "
        f"{server.url}/oai/v1 with the header 'Helicone-Auth: Bearer <key>'."
    )
    typer.echo(f"Press Ctrl-C to stop; the demo store in {server.directory} is then removed.")


async def _run(options: DemoOptions, browse: bool) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with demo_server(options) as server:
        note(f"demo server at {server.url}; sending {options.calls} calls through the gateway")
        seeding = asyncio.create_task(seed(server, options))
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({seeding, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not seeding.done():
            seeding.cancel()
            return
        _print_welcome(server, seeding.result())
        if browse and not await asyncio.to_thread(open_browser, server.url + "/"):
            note("no graphical browser here: open the URL above yourself")
        await stopping
    note("demo stopped")


def demo(
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port to listen on (0: any free port).")
    ] = 8585,
    calls: Annotated[
        int, typer.Option(min=1, max=100_000, help="Calls to send through the gateway.")
    ] = 300,
    browser: Annotated[
        bool, typer.Option("--browser/--no-browser", help="Open the UI in a browser.")
    ] = True,
    latency_scale: Annotated[
        float, typer.Option(min=0, help="Scale the fake provider's made-up latencies.")
    ] = 1.0,
) -> None:
    """Start a demo on a temporary store with a fake provider: no provider key needed."""
    asyncio.run(_run(DemoOptions(port=port, calls=calls, latency_scale=latency_scale), browser))
