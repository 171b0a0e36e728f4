"""Issue 20 points 4 and 5: live tail shows a call logged after the page loaded (within 3 s)
on Requests, Sessions and the Dashboard; Helicone's internal keys and stored suffixes stay
out of sight, and every number is formatted."""

from __future__ import annotations

import datetime as dt
from typing import Any

from helioscope.store import notifications
from tests.gateway.clients import openai_client
from tests.ui.conftest import SESSION_LOOP, World, api, open_requests, shot, sign_in

pytestmark = SESSION_LOOP


async def call_through_gateway(world: World, text: str, **headers: str) -> None:
    async with openai_client(world.hs, **headers) as client:
        await client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": text}]
        )


async def test_live_requests_show_a_new_call_within_three_seconds(world: World, page: Any) -> None:
    await sign_in(page, world.hs.url, world.hs.key)
    await open_requests(page)
    await page.get_by_role("button", name="Live").click()
    assert "live=1" in page.url
    await page.wait_for_timeout(300)  # the first poll marks where the tail starts
    await call_through_gateway(world, "a call made while watching")
    await page.get_by_text("a call made while watching").wait_for(timeout=3000)
    await page.get_by_text("13 requests").wait_for(timeout=1000)

    # Selecting a row pauses the tail: the next call is counted, not shown, until released.
    await page.get_by_role("checkbox", name="Select every row on this page").check()
    await call_through_gateway(world, "a call made while selecting")
    await page.get_by_text("1 new · paused while you scroll or select").wait_for(timeout=3000)
    assert await page.get_by_text("a call made while selecting").count() == 0
    await page.get_by_role("button", name="Clear selection").click()
    await page.get_by_text("a call made while selecting").wait_for(timeout=3000)


async def test_live_sessions_and_dashboard(world: World, page: Any) -> None:
    await sign_in(page, world.hs.url, world.hs.key)
    await page.get_by_role("button", name="Live").click()
    await page.locator('[data-metric="requests"] .stat-value').filter(has_text="12").wait_for()
    await page.wait_for_timeout(300)
    await call_through_gateway(world, "counted live")
    await (
        page.locator('[data-metric="requests"] .stat-value')
        .filter(has_text="13")
        .wait_for(timeout=3000)
    )

    await page.get_by_role("link", name="Sessions").click()
    await page.get_by_role("button", name="Live").click()
    await page.get_by_role("row", name="Session Trip planner trip-1").wait_for()
    await page.wait_for_timeout(300)
    await call_through_gateway(
        world,
        "a new session",
        **{"Helicone-Session-Id": "live-7", "Helicone-Session-Name": "Live one"},
    )
    await page.get_by_role("row", name="Session Live one live-7").wait_for(timeout=3000)


async def test_internal_keys_are_hidden_until_asked_for(world: World, page: Any) -> None:
    await sign_in(page, world.hs.url, world.hs.key)
    # Dashboard: the top properties are the user's own.
    top = page.locator("section", has_text="Top properties")
    await top.locator("tbody tr").first.wait_for()
    assert "Helicone-" not in await top.inner_text()
    # Requests: chips show env, never the session plumbing.
    await open_requests(page)
    chips = await page.locator("table.data tbody .chip").all_inner_texts()
    assert chips and not [c for c in chips if c.lower().startswith("helicone-")]
    # Properties: env is the default key; internal keys appear only when asked for.
    await page.get_by_role("link", name="Properties").click()
    await page.locator("#prop-detail").get_by_role("heading", name="env").wait_for()
    keys = page.locator("nav.prop-list button.link")
    assert await keys.all_inner_texts() == ["env"]
    await page.get_by_label("Show Helicone's internal keys").check()
    await keys.filter(has_text="Helicone-Session-Id").wait_for()
    await shot(page, "properties-internal")


async def test_alert_history_numbers_are_formatted(world: World, page: Any) -> None:
    store = world.hs.services.store
    await api(
        world,
        "POST",
        "/v1/alert/create",
        {
            "name": "Errors",
            "metric": "response.status",
            "threshold": 5,
            "time_window": 3_600_000,
            "minimum_request_count": 1,
        },
    )
    [alert] = await store.org(world.hs.org_id).read(notifications.list_alerts)
    # What the alert checker records when the error rate crosses the threshold.
    await store.write(
        notifications.trigger_alert, alert, 2.644230769230769, 104, dt.datetime.now(dt.UTC)
    )
    await sign_in(page, world.hs.url, world.hs.key)
    await page.get_by_role("link", name="Settings").click()
    history = page.locator("#alerts table").last
    await history.get_by_role("cell", name="Errors", exact=True).first.wait_for()
    text = await history.inner_text()
    assert "2.64%" in text and "2.644230769230769" not in text
