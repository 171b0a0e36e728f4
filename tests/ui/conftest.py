"""A real headless Chromium (Debian's ``chromium``) driven by Playwright, over a running
Helioscope with a realistic log: calls through the gateway with the openai SDK, plus seeded rows
with sessions, tool calls, images, scores and a second organization.

Playwright's own browser downloads are never used. Without ``/usr/bin/chromium`` (a fresh
machine) these tests are skipped with the reason; ``.ci/run`` installs it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from helioscope.store import LogRow
from tests.conftest import Running
from tests.gateway.clients import openai_client

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
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
T0 = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=30)
PIXEL = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAE"
    "hQGAhKmMIQAAAABJRU5ErkJggg=="
)

if not CHROMIUM.exists():
    pytest.skip(
        f"UI tests skipped: {CHROMIUM} is missing (install Debian's chromium: "
        "apt-get install -y chromium)",
        allow_module_level=True,
    )


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
                    {"type": "text", "text": "What is in this picture?"},
                    {"type": "image_url", "image_url": {"url": PIXEL}},
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
class World:
    """The running server and what was seeded into it."""

    hs: Running
    other_key: str
    gateway_request_id: str


@pytest.fixture
async def world(helioscope: Running) -> World:
    """Two organizations; ours has 12 requests, two sessions, a tool call with an image."""
    other_org, other_key = await helioscope.add_org("rival")
    me = helioscope.org_id
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
            scores={"accuracy": 0.9},
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
    rows.append(
        row(other_org, "req-rival-secret", 0, user_id="mallory", properties={"env": "prod"})
    )
    await helioscope.services.store.log.write_batch(rows)
    # One real call through the gateway with the official SDK, as a user would make it.
    async with openai_client(helioscope, **{"Helicone-Property-Env": "prod"}) as client:
        raw = await client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hello through the gateway"}]
        )
    await helioscope.flush()
    return World(helioscope, other_key, raw.headers.get("helicone-id", ""))


@pytest.fixture
async def page(world: World, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """A Chromium page at the UI, with console errors collected and failing the test."""
    from playwright.async_api import async_playwright

    errors: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = await browser.new_context(
            viewport={"width": 1400, "height": 900}, accept_downloads=True
        )
        tab = await context.new_page()
        # A refused key shows as a failed resource load; the page's own errors are what count.
        tab.on(
            "console",
            lambda m: (
                errors.append(m.text)
                if m.type == "error" and "Failed to load resource" not in m.text
                else None
            ),
        )
        tab.on("pageerror", lambda e: errors.append(str(e)))
        yield tab
        await context.close()
        await browser.close()
    assert not errors, f"browser errors: {errors}"


async def shot(page: Any, name: str) -> None:
    """Save a screenshot of the page as a test artifact (tests/ui/artifacts, gitignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def sign_in(page: Any, url: str | None, key: str, label: str = "Acme") -> None:
    """Sign in with ``key``; from ``url`` when given, else from the page already shown."""
    if url is not None:
        await page.goto(f"{url}/")
    await page.get_by_label("API key").fill(key)
    await page.get_by_label("Organization name").fill(label)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("heading", name="Dashboard").wait_for()


async def open_requests(page: Any) -> None:
    """Go to the Requests page through the navigation."""
    await page.get_by_role("link", name="Requests").click()
    await page.get_by_role("heading", name="Requests").wait_for()
