"""A real headless Chromium (Debian's ``chromium``) driven by Playwright, over one running
Helioscope shared by the UI tests, each with an organization of its own.

Speed: one server, one fake provider and one browser serve the whole UI session (a test gets a
fresh browser context and a fresh organization: isolation costs milliseconds, not a server
start). The UI is the same over either engine, so these run over SQLite only; the API tests
cover PostgreSQL. Playwright's own browser downloads are never used: without
``/usr/bin/chromium`` these tests are skipped with the reason (``.ci/run`` installs it).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from pydantic import SecretStr

from helioscope import Settings, create_app
from helioscope.app import server_options
from helioscope.services import Services
from helioscope.store import LogRow, keys
from helioscope.testing import FakeProvider, serve
from tests.conftest import Running
from tests.gateway.clients import openai_client
from tests.running import loopback_client

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
T0 = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=30)
PIXEL = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAE"
    "hQGAhKmMIQAAAABJRU5ErkJggg=="
)
TRACKER = "https://attacker.example/track.png"
EXPERIMENT_KEY = "sk-experiment-ui"
VAULT_SECRET = "ui-test-secret-for-the-vault-0123456789"

if not CHROMIUM.exists():
    pytest.skip(
        f"UI tests skipped: {CHROMIUM} is missing (install Debian's chromium: "
        "apt-get install -y chromium)",
        allow_module_level=True,
    )

# Every UI test runs on the session's event loop, where the shared server and browser live.
SESSION_LOOP = pytest.mark.asyncio(loop_scope="session")


def chat(user: str, answer: str, **extra: Any) -> tuple[str, str]:
    request = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": user}], **extra}
    response = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}}],
    }
    return json.dumps(request), json.dumps(response)


def row(org: str, rid: str, minute: int, **fields: Any) -> LogRow:
    body, answer = chat(f"question {rid}", f"answer {rid}")
    values: dict[str, Any] = {
        "request_id": rid,
        "organization_id": org,
        "request_created_at": T0 + dt.timedelta(minutes=minute),
        "status": 200,
        "provider": "OPENAI",
        "model": "gpt-4o-mini",
        "latency": 200 + 50 * minute,
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "total_tokens": 15,
        "cost": 3_000 * (minute + 1),
        "request_body": body,
        "response_body": answer,
    }
    values.update(fields)
    return LogRow(**values)


def session(sid: str, name: str, path: str) -> dict[str, str]:
    return {
        "Helicone-Session-Id": sid,
        "Helicone-Session-Name": name,
        "Helicone-Session-Path": path,
    }


def tool_and_image_bodies() -> tuple[str, str]:
    request = {
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "You are a travel agent."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in these pictures?"},
                    {"type": "image_url", "image_url": {"url": PIXEL}},
                    {"type": "image_url", "image_url": {"url": TRACKER}},
                ],
            },
        ],
    }
    response = {
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "lookup_city", "arguments": '{"city": "Paris"}'},
                        }
                    ],
                },
            }
        ]
    }
    return json.dumps(request), json.dumps(response)


@dataclass
class Server:
    """The session's running Helioscope and its fake provider."""

    url: str
    services: Services
    fake: FakeProvider


@dataclass
class World:
    """One test's organization on the shared server, and what was seeded into it."""

    hs: Running
    other_key: str
    gateway_request_id: str
    fake: FakeProvider


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    """One Helioscope over SQLite, proxying to one fake provider, for every UI test."""
    tmp = tmp_path_factory.mktemp("ui-server")
    fake = FakeProvider()
    async with fake.run():
        settings = Settings(
            database_url=f"sqlite:///{tmp / 'helioscope.db'}",
            openai_base_url=fake.url,
            anthropic_base_url=fake.url,
            raise_internal_errors=True,
            bootstrap_default_org=False,
            journal_dir=tmp / "journal",
            log_retry_seconds=0.05,
            shutdown_drain_seconds=5,
            experiment_openai_api_key=SecretStr(EXPERIMENT_KEY),
            secret_key=SecretStr(VAULT_SECRET),  # so that Settings can store provider keys
            evaluator_memory_mb=128,
        )
        app = create_app(settings)
        async with serve(app, **server_options(settings)) as url:
            yield Server(url, app.state.services, fake)


async def new_org(server: Server | Running, name: str = "acme") -> Running:
    """A fresh organization (unique name) on the shared server, with an all-scope key."""
    store = server.services.store
    org = await store.write(keys.get_or_create_org, f"{name}-{uuid.uuid4().hex[:8]}")
    key = await store.org(org.id).write(keys.create_api_key)
    return Running(url=server.url, services=server.services, org_id=org.id, key=key.key)


def seeded_rows(me: str) -> list[LogRow]:
    """Eleven requests: two sessions, a tool call with images, scores, an error."""
    tool_req, tool_resp = tool_and_image_bodies()
    rows = [
        row(
            me,
            "req-trip-root",
            0,
            user_id="alice",
            properties={"env": "prod", **session("trip-1", "Trip planner", "/")},
        ),
        row(
            me,
            "req-trip-plan",
            1,
            user_id="alice",
            properties={"env": "prod", **session("trip-1", "Trip planner", "/plan")},
        ),
        row(
            me,
            "req-trip-hotel",
            2,
            user_id="alice",
            model="gpt-4o",
            request_body=tool_req,
            response_body=tool_resp,
            scores={"accuracy": 0.9, "helpful-hcone-bool": 1},
            properties={"env": "dev", **session("trip-1", "Trip planner", "/plan/hotel")},
        ),
        row(
            me,
            "req-trip-flight",
            3,
            user_id="bob",
            status=500,
            properties={"env": "prod", **session("trip-1", "Trip planner", "/plan/flight")},
        ),
        row(
            me,
            "req-chat-1",
            4,
            user_id="carol",
            properties={"env": "staging", **session("chat-9", "Support chat", "/")},
        ),
    ]
    rows += [
        row(me, f"req-bulk-{i}", 5 + i, user_id="dave", properties={"env": "dev"}) for i in range(6)
    ]
    return rows


@pytest_asyncio.fixture(loop_scope="session")
async def world(server: Server) -> World:
    """Our organization has 12 requests (11 seeded, one real gateway call); a rival has one."""
    hs = await new_org(server)
    rival = await new_org(server, "rival")
    store = server.services.store
    await store.log.write_batch(
        [
            *seeded_rows(hs.org_id),
            row(
                rival.org_id,
                f"req-rival-{uuid.uuid4().hex[:6]}",
                0,
                user_id="mallory",
                properties={"env": "prod"},
            ),
        ]
    )
    # One real call through the gateway with the official SDK, as a user would make it.
    async with openai_client(hs, **{"Helicone-Property-Env": "prod"}) as client:
        raw = await client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hello through the gateway"}]
        )
    await hs.flush()
    return World(hs, rival.key, raw.headers.get("helicone-id", ""), server.fake)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Any]:
    """One Chromium for the whole session."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@pytest_asyncio.fixture(loop_scope="session")
async def context(browser: Any) -> AsyncIterator[Any]:
    """A fresh browser profile (storage, cookies) per test."""
    ctx = await browser.new_context(viewport=DESKTOP, accept_downloads=True)
    yield ctx
    await ctx.close()


@pytest_asyncio.fixture(loop_scope="session")
async def page(context: Any) -> AsyncIterator[Any]:
    """A page with console errors collected; any error fails the test."""
    errors: list[str] = []
    tab = await context.new_page()
    watch(tab, errors)
    yield tab
    assert not errors, f"browser errors: {errors}"


def watch(tab: Any, errors: list[str]) -> None:
    """Collect a page's own errors (a refused key shows as a failed load: that one is fine)."""
    tab.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text
            else None
        ),
    )
    tab.on("pageerror", lambda e: errors.append(str(e)))


async def shot(page: Any, name: str) -> None:
    """Save a screenshot of the page as a test artifact (tests/ui/artifacts, gitignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def sign_in(
    page: Any, url: str | None, key: str, label: str = "Acme", *, remember: bool = False
) -> None:
    """Sign in with ``key``; from ``url`` when given, else from the page already shown."""
    if url is not None:
        await page.goto(f"{url}/")
    await page.get_by_label("API key").fill(key)
    await page.get_by_label("Organization name").fill(label)
    if remember:
        await page.get_by_label("Remember this key on this browser").check()
    await page.get_by_role("button", name="Sign in").click()
    await page.locator("#sign-out").wait_for()
    # When a key is added beside another, #sign-out is already there: signing in is done when
    # the page has left the sign-in form for where the link pointed (else a click made now
    # races the page's own navigation to the dashboard). The wait is a Python predicate on the
    # URL: a JavaScript one would be evaluated by string, which the UI's CSP refuses.
    await page.wait_for_url(lambda url: "#/signin" not in url)


async def hold(page: Any, *patterns: str) -> asyncio.Event:
    """Hold the page's requests to these URLs, as a slow server would, until the event is set."""
    released = asyncio.Event()

    async def held(route: Any) -> None:
        await released.wait()
        await route.continue_()

    for pattern in patterns:
        await page.route(pattern, held)
    return released


async def open_requests(page: Any) -> None:
    """Go to the Requests page through the navigation."""
    await page.get_by_role("link", name="Requests").click()
    await page.get_by_role("heading", name="Requests").wait_for()
    await page.locator(".results[aria-busy=false]").first.wait_for()


async def api(world: World, method: str, path: str, body: Any = None, key: str = "") -> Any:
    """Call the REST API as the test's organization; return ``data``."""
    async with loopback_client(world.hs.url, timeout=30) as http:
        response = await http.request(
            method, path, json=body, headers={"authorization": f"Bearer {key or world.hs.key}"}
        )
    assert response.status_code < 300, response.text
    return response.json()["data"]
