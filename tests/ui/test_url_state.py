"""Issue 20 point 1: every page's state is in the URL; reload and new tabs restore it."""

from __future__ import annotations

import re
from typing import Any

from tests.ui.conftest import SESSION_LOOP, World, api, hold, open_requests, sign_in, watch

pytestmark = SESSION_LOOP


async def filtered_sorted_second_page(page: Any) -> None:
    await page.get_by_role("button", name="Filters").click()
    await page.get_by_role("button", name="+ Condition").click()
    await page.get_by_label("Property name").fill("env")
    await page.get_by_label("Value for Property").fill("dev")
    await page.get_by_role("button", name="Apply filters").click()
    await page.get_by_text("7 requests").wait_for()
    await page.get_by_role("button", name="Latency", exact=True).click()  # sort descending
    await page.locator('th[aria-sort="descending"]').wait_for()
    await page.get_by_label("Rows per page").select_option("25")


async def test_reload_keeps_filters_sort_range_and_the_open_request(
    world: World, page: Any
) -> None:
    await sign_in(page, world.hs.url, world.hs.key, remember=True)
    await open_requests(page)
    await page.get_by_label("Time range").select_option("7d")
    await filtered_sorted_second_page(page)
    await page.get_by_role("row", name=re.compile("req-trip-hotel")).click()
    await page.locator(".detail-pane").get_by_text("lookup_city").wait_for()
    url = page.url
    assert "/requests/req-trip-hotel?" in url and "s=latency" in url and "r=7d" in url
    await page.reload()
    await page.locator(".detail-pane").get_by_text("lookup_city").wait_for()
    await page.get_by_text("7 requests").wait_for()
    assert await page.get_by_label("Time range").input_value() == "7d"
    assert await page.locator('th[aria-sort="descending"]').inner_text() == "Latency ▼"
    assert await page.get_by_label("Property name").input_value() == "env"
    assert await page.get_by_label("Rows per page").input_value() == "25"
    # Back closes the request, and keeps the list as it was.
    await page.go_back()
    await page.locator(".detail-pane").wait_for(state="hidden")
    assert "req-trip-hotel" not in page.url and "s=latency" in page.url


async def test_a_link_in_a_new_tab_opens_the_same_view(world: World, context: Any) -> None:
    errors: list[str] = []
    first = await context.new_page()
    watch(first, errors)
    await sign_in(first, world.hs.url, world.hs.key, remember=True)
    await first.goto(f"{world.hs.url}/ui/#/sessions/trip-1?span=req-trip-plan")
    await first.locator(".detail-pane").get_by_text("question req-trip-plan").wait_for()
    # A remembered key: the link opens in a new tab as it is, without asking for the key.
    second = await context.new_page()
    watch(second, errors)
    await second.goto(first.url)
    await second.locator(".detail-pane").get_by_text("question req-trip-plan").wait_for()
    assert await second.locator("#signin-key").count() == 0
    assert not errors, errors


async def test_without_remembering_a_new_tab_asks_then_lands_on_the_link(
    world: World, context: Any
) -> None:
    first = await context.new_page()
    await sign_in(first, world.hs.url, world.hs.key)
    link = f"{world.hs.url}/ui/#/users?q=ali"
    second = await context.new_page()
    await second.goto(link)
    await second.get_by_label("API key").wait_for()
    await sign_in(second, None, world.hs.key)
    await second.get_by_role("heading", name="Users").wait_for()
    await second.locator("#user-results table tbody tr").first.wait_for()
    assert await second.get_by_label("Search users").input_value() == "ali"
    assert await second.locator("#user-results tbody tr").count() == 1


async def test_every_thing_is_addressable(world: World, page: Any) -> None:
    await sign_in(page, world.hs.url, world.hs.key)
    base = f"{world.hs.url}/ui/#"
    await page.goto(f"{base}/requests/{world.gateway_request_id}")
    await page.locator(".detail-pane").get_by_text("hello through the gateway").first.wait_for()
    await page.goto(f"{base}/sessions/chat-9")
    await page.locator("#trace").get_by_text("Support chat").wait_for()
    await page.goto(f"{base}/requests?user=carol")
    await page.get_by_text("1 request", exact=True).wait_for()
    await page.goto(f"{base}/properties?k=env&r=30d")
    await page.locator("#prop-detail").get_by_role("heading", name="env").wait_for()
    assert await page.get_by_label("Time range").input_value() == "30d"


async def test_a_page_left_while_loading_stops_listening(world: World, page: Any) -> None:
    # The Requests page with a request open is left for Sessions before its list has loaded
    # (held here, as a slow server would): its J/Esc keys must not act on the next page.
    await sign_in(page, world.hs.url, world.hs.key)
    held = await hold(page, "**/v1/helioscope/requests/query")
    await page.goto(f"{world.hs.url}/ui/#/requests/req-trip-plan")
    await page.locator(".results[aria-busy=true]").wait_for()
    await page.get_by_role("link", name="Sessions").click()
    await page.locator("#session-results table tbody tr").first.wait_for()
    await page.keyboard.press("Escape")  # while the left page is still loading
    assert page.url.endswith("#/sessions")
    async with page.expect_response("**/v1/helioscope/requests/query"):
        held.set()
    await page.locator("#session-results table tbody tr").first.wait_for()
    await page.keyboard.press("j")
    await page.keyboard.press("Escape")
    assert page.url.endswith("#/sessions"), page.url
    assert await page.get_by_role("heading", name="Sessions").is_visible()


async def test_a_page_left_while_loading_leaves_the_next_pages_url_alone(
    world: World, page: Any
) -> None:
    # Properties and a prompt are left before their data arrives (held here); arriving, it
    # must not choose a key or versions in the URL of the page now shown.
    prompt = await api(
        world,
        "POST",
        "/v1/prompt-2025",
        {"name": "Left early", "promptBody": {"model": "gpt-4o-mini", "messages": []}},
    )
    await sign_in(page, world.hs.url, world.hs.key)
    held = await hold(page, "**/v1/property/query", "**/v1/prompt-2025/query/versions")
    base = f"{world.hs.url}/ui/#"
    await page.goto(f"{base}/properties")
    await page.goto(f"{base}/prompts/{prompt['id']}")
    await page.goto(f"{base}/requests?r=24h")
    await page.locator(".results[aria-busy=false] tbody tr").first.wait_for()
    async with (
        page.expect_response("**/v1/property/query"),
        page.expect_response("**/v1/prompt-2025/query/versions"),
    ):
        held.set()
    await page.wait_for_timeout(300)  # what the left pages would write, they have by now
    query = page.url.split("?", 1)[1]
    assert "r=24h" in query and not re.search(r"(^|&)(k|v|a|b)=", query), query
