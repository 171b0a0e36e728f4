"""Issue 20 point 9 (loading, error with retry, empty states) and issue 16 point 9 (remote
images only on click, with a CSP that loads none)."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import httpx

from tests.ui.conftest import SESSION_LOOP, TRACKER, World, hold, open_requests, shot, sign_in

pytestmark = SESSION_LOOP

LOCKED = json.dumps({"data": None, "error": "database is locked"})


async def test_failed_loads_explain_and_retry(world: World, page: Any) -> None:
    await sign_in(page, world.hs.url, world.hs.key)
    failing = {"on": True}

    async def flaky(route: Any) -> None:
        if failing["on"]:
            await asyncio.sleep(0.3)  # long enough to see the loading state
            await route.fulfill(status=500, body=LOCKED, content_type="application/json")
        else:
            await route.continue_()

    await page.route(re.compile(r"/v2/experiment$"), flaky)
    await page.route(re.compile(r"/v1/helicone-dataset/query$"), flaky)
    await page.get_by_role("link", name="Experiments").click()
    await page.get_by_role("status").filter(has_text="Loading").wait_for()
    alert = page.get_by_role("alert")
    await alert.get_by_text("The database is busy right now. Retry in a moment.").wait_for()
    await shot(page, "experiments-error")
    failing["on"] = False
    await alert.get_by_role("button", name="Retry").click()
    await page.get_by_text("No experiments yet").wait_for()

    failing["on"] = True
    await page.get_by_role("link", name="Datasets").click()
    await page.get_by_role("alert").get_by_text("The database is busy").wait_for()
    failing["on"] = False
    await page.get_by_role("button", name="Retry").click()
    await page.get_by_text("No datasets yet").wait_for()


async def test_remote_images_load_only_on_click(world: World, page: Any) -> None:
    fetched: list[str] = []
    # Any tab of this browser profile: the click opens the image in a tab of its own.
    page.context.on(
        "request", lambda r: fetched.append(r.url) if "attacker.example" in r.url else None
    )
    await sign_in(page, world.hs.url, world.hs.key)
    await open_requests(page)
    await page.get_by_role("row", name=re.compile("req-trip-hotel")).click()
    pane = page.locator(".detail-pane")
    await pane.get_by_text("Remote image from").wait_for()
    await pane.get_by_role("img", name="image in the message").wait_for()  # inline data: only
    await page.wait_for_timeout(300)
    assert fetched == []
    link = pane.get_by_role("link", name="Open image")
    assert await link.get_attribute("href") == TRACKER
    assert await link.get_attribute("rel") == "noopener noreferrer"
    async with page.context.expect_page() as opened:
        await link.click()
    tab = await opened.value
    await tab.wait_for_load_state("commit")
    await tab.close()
    assert fetched and fetched[0] == TRACKER


async def test_the_csp_loads_no_remote_image(world: World) -> None:
    async with httpx.AsyncClient(base_url=world.hs.url) as http:
        response = await http.get("/ui/")
    policy = dict(
        part.strip().split(" ", 1)
        for part in response.headers["content-security-policy"].split(";")
    )
    assert policy["img-src"] == "'self' data: blob:"
    assert policy["script-src"] == "'self'"


async def test_the_table_stays_busy_until_its_newest_load_answers(world: World, page: Any) -> None:
    # A load replaced by another (Refresh pressed twice) is aborted; ending, it must not mark
    # the table loaded while the newer one is still on its way.
    await sign_in(page, world.hs.url, world.hs.key)
    await open_requests(page)
    held = await hold(page, "**/v1/helioscope/requests/query")
    refresh = page.get_by_role("button", name="Refresh")
    await refresh.click()
    await refresh.click()
    await page.wait_for_timeout(200)
    results = page.locator(".results")
    assert await results.get_attribute("aria-busy") == "true"
    held.set()
    await page.locator(".results[aria-busy=false] tbody tr").first.wait_for()
