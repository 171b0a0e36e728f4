"""Users and Properties pages in Chromium, checked against the API's own answers."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from tests.ui.conftest import SESSION_LOOP, World, hold, row, shot, sign_in

pytestmark = SESSION_LOOP


async def test_users_table_sorts_pages_and_links_to_requests(world: World, page: Any) -> None:
    await sign_in(page, world.hs.url, world.hs.key)
    await page.get_by_role("link", name="Users").click()
    rows = page.locator("#user-results table.data tbody tr")
    await rows.first.wait_for()
    # Busiest first: dave (6), alice (3), then bob and carol; mallory is another organization's.
    names = [await rows.nth(i).locator("td").first.inner_text() for i in range(await rows.count())]
    assert names[:2] == ["dave", "alice"] and set(names) == {"dave", "alice", "bob", "carol"}
    await shot(page, "users")
    await page.get_by_role("button", name="Requests", exact=True).click()  # sort ascending
    await page.locator("#user-results[aria-busy=false] tbody tr").first.wait_for()
    assert await rows.last.locator("td").first.inner_text() == "dave"
    await page.get_by_role("row", name=re.compile("User alice")).click()
    await page.get_by_role("heading", name="Requests").wait_for()
    await page.get_by_text("3 requests").wait_for()


async def test_properties_show_top_values_and_filter_requests(world: World, page: Any) -> None:
    await sign_in(page, world.hs.url, world.hs.key)
    await page.get_by_role("link", name="Properties").click()
    detail = page.locator("#prop-detail")
    await detail.get_by_role("heading", name="Top values by requests").wait_for()
    # env: dev 7, prod 4 (three seeded and the gateway call), staging 1.
    requests_box = detail.locator("section", has_text="Top values by requests")
    labels = await requests_box.locator(".hbar-label").all_inner_texts()
    values = await requests_box.locator(".hbar-value").all_inner_texts()
    assert list(zip(labels, values, strict=True)) == [("dev", "7"), ("prod", "4"), ("staging", "1")]
    assert await page.locator("nav.prop-list").get_by_text("Helicone-Session-Id").count() == 0
    await shot(page, "properties")
    await requests_box.get_by_role("link", name="staging").click()
    await page.get_by_role("heading", name="Requests").wait_for()
    await page.get_by_text("1 request", exact=True).wait_for()


async def test_a_slower_earlier_search_never_paints_over_the_newer_one(
    world: World, page: Any
) -> None:
    # The search for alice answers last (held here, as a slow query would): the table keeps
    # bob's answer, which is what the search box and the URL say.
    held = asyncio.Event()

    async def alice_is_slow(route: Any) -> None:
        if "alice" in (route.request.post_data or ""):
            await held.wait()
        await route.continue_()

    await sign_in(page, world.hs.url, world.hs.key)
    await page.route("**/v1/user/metrics/query", alice_is_slow)
    await page.get_by_role("link", name="Users").click()
    rows = page.locator("#user-results table.data tbody tr")
    await rows.first.wait_for()
    search = page.get_by_label("Search users")
    await search.fill("alice")
    await search.press("Enter")
    await search.fill("bob")
    await search.press("Enter")
    await page.locator("#user-results[aria-busy=false]").get_by_text("bob").wait_for()
    async with page.expect_response(lambda r: "alice" in (r.request.post_data or "")):
        held.set()
    await page.wait_for_timeout(200)  # what a late answer would paint, it has painted by now
    assert [
        await rows.nth(i).locator("td").first.inner_text() for i in range(await rows.count())
    ] == ["bob"]
    assert await page.locator("#user-results").get_attribute("aria-busy") == "false"


async def test_the_property_chosen_last_is_the_one_shown(world: World, page: Any) -> None:
    await world.hs.services.store.log.write_batch(
        [row(world.hs.org_id, "req-team", 3, properties={"team": "search"})]
    )
    await sign_in(page, world.hs.url, world.hs.key)
    held = await hold(page, "**/v1/property/env/top-requests/query")
    await page.get_by_role("link", name="Properties").click()
    keys = page.locator("nav.prop-list")
    await keys.get_by_role("button", name="team", exact=True).wait_for()
    await keys.get_by_role("button", name="env", exact=True).click()
    await keys.get_by_role("button", name="team", exact=True).click()
    detail = page.locator("#prop-detail")
    await detail.get_by_role("heading", name="team").wait_for()
    async with page.expect_response("**/v1/property/env/top-requests/query"):
        held.set()
    await page.wait_for_timeout(200)
    assert await detail.locator("h2.prop-title").all_inner_texts() == ["team"]
    assert "k=team" in page.url
