"""The UI in a real Chromium: sign-in, requests, filters, the drawer, export, sessions."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

import httpx

from helioscope.store.log import requests
from tests.ui.conftest import T0, World, open_requests, row, shot, sign_in


async def api_count(world: World, body: dict[str, Any], key: str | None = None) -> int:
    async with httpx.AsyncClient(base_url=world.hs.url) as http:
        response = await http.post(
            "/v1/request/count/query",
            json=body,
            headers={"authorization": f"Bearer {key or world.hs.key}"},
        )
    count: int = response.json()["data"]
    return count


async def test_sign_in_refuses_a_bad_key_then_lists_requests(world: World, page: Any) -> None:
    await page.goto(f"{world.hs.url}/")
    await page.get_by_label("API key").fill("sk-helicone-not-a-real-key")
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("alert").filter(has_text="not valid").wait_for()
    await shot(page, "signin-error")
    await sign_in(page, world.hs.url, world.hs.key)
    await open_requests(page)
    total = await api_count(world, {"filter": "all"})
    assert total == 12
    await page.get_by_text("12 requests").wait_for()
    rows = page.locator("table.data tbody tr")
    assert await rows.count() == 12
    assert await page.get_by_text("req-rival-secret").count() == 0
    await shot(page, "requests")
    # A request from two days ago: in "All time", not in "Last 24 hours".
    await world.hs.services.store.log.write_batch(
        [row(world.hs.org_id, "req-old", 0, request_created_at=T0 - dt.timedelta(days=2))]
    )
    await page.get_by_role("button", name="Refresh").click()
    await page.get_by_text("13 requests").wait_for()
    await page.get_by_label("Time range").select_option("24h")
    await page.get_by_text("12 requests").wait_for()


async def test_filter_by_property_matches_the_api(world: World, page: Any) -> None:
    await sign_in(page, world.hs.url, world.hs.key)
    await open_requests(page)
    await page.get_by_role("button", name="Filters").click()
    await page.get_by_role("button", name="+ Condition").click()
    await page.get_by_label("Property name").fill("env")
    await page.get_by_label("Value for Property").fill("prod")
    await page.get_by_role("button", name="Apply filters").click()
    tree = {"request_response_rmt": {"properties": {"env": {"equals": "prod"}}}}
    expected = await api_count(world, {"filter": tree})
    assert expected == 4  # three seeded rows and the gateway call
    await page.get_by_text(f"{expected} requests").wait_for()
    assert await page.locator("table.data tbody tr").count() == expected
    await shot(page, "requests-filtered")

    # An "or" group: env = prod, or model = gpt-4o (the hotel request is env=dev).
    await page.get_by_role("button", name="+ Group").click()
    group = page.get_by_role("group", name="Condition group")
    await group.get_by_label("Field").select_option("model")
    await group.get_by_label("Value for Model").fill("gpt-4o")
    await page.get_by_label("Combine conditions with").first.select_option("or")
    await page.get_by_role("button", name="Apply filters").click()
    either = {
        "left": tree,
        "operator": "or",
        "right": {"request_response_rmt": {"model": {"equals": "gpt-4o"}}},
    }
    assert await api_count(world, {"filter": either}) == 5
    await page.get_by_text("5 requests").wait_for()
    await shot(page, "requests-filter-groups")


async def test_drawer_renders_chat_with_tool_call_and_image(world: World, page: Any) -> None:
    await sign_in(page, world.hs.url, world.hs.key)
    await open_requests(page)
    await page.get_by_role("row", name=re.compile("req-trip-hotel")).click()
    drawer = page.get_by_role("dialog")
    await drawer.get_by_text("lookup_city").wait_for()
    await drawer.get_by_role("img", name="image in the message").wait_for()
    assert await drawer.get_by_text("You are a travel agent.").count() == 1
    assert await drawer.get_by_text("accuracy").count() == 1
    await shot(page, "request-drawer")
    await page.emulate_media(color_scheme="dark")
    await shot(page, "request-drawer-dark")
    await page.emulate_media(color_scheme="light")
    await drawer.get_by_role("button", name="Rate good").click()
    await drawer.get_by_text("Rated good").wait_for()
    stored = await world.hs.services.store.log.org(world.hs.org_id).read(
        requests.get_request, "req-trip-hotel"
    )
    assert stored is not None and stored["feedback_rating"] is True
    await drawer.get_by_role("tab", name="Response JSON").click()
    await drawer.get_by_text('"lookup_city"', exact=False).first.wait_for()
    await page.keyboard.press("Escape")
    assert await page.get_by_role("dialog").count() == 0


async def test_export_csv_pages_through_the_filtered_set(world: World, page: Any) -> None:
    await sign_in(page, world.hs.url, world.hs.key)
    await open_requests(page)
    await page.get_by_role("button", name="Filters").click()
    await page.get_by_role("button", name="+ Condition").click()
    await page.get_by_label("Property name").fill("env")
    await page.get_by_label("Value for Property").fill("dev")
    await page.get_by_role("button", name="Apply filters").click()
    await page.get_by_text("7 requests").wait_for()
    async with page.expect_download() as info:
        await page.get_by_role("button", name="Export CSV").click()
    download = await info.value
    path = await download.path()
    table = list(csv.DictReader(io.StringIO(path.read_text())))
    assert len(table) == 7
    assert {r["request_id"] for r in table} >= {"req-trip-hotel", "req-bulk-0"}
    assert all('"env": "dev"' in r["properties"] or '"env":"dev"' in r["properties"] for r in table)


async def test_organization_switcher_scopes_every_page(world: World, page: Any) -> None:
    await sign_in(page, world.hs.url, world.hs.key, "Acme")
    await page.get_by_role("button", name="Add key").click()
    await sign_in(page, None, world.other_key, "Rival")
    await open_requests(page)
    await page.get_by_text("1 request", exact=True).wait_for()
    assert await page.get_by_text("req-trip-root").count() == 0
    await page.get_by_label("Organization").select_option(label="Acme")
    await page.get_by_text("12 requests").wait_for()


async def test_session_list_and_trace_tree(world: World, page: Any) -> None:
    await sign_in(page, world.hs.url, world.hs.key)
    await page.get_by_role("link", name="Sessions").click()
    await page.get_by_role("row", name=re.compile("trip-1")).wait_for()
    assert await page.locator("table.data tbody tr").count() == 2
    # Two sessions of 4 and 1 requests: the histogram's average is 2.5.
    await page.locator("#session-metrics").get_by_text("average 2.5").wait_for()
    await shot(page, "sessions")
    await page.get_by_label("Search sessions").fill("support")
    await page.get_by_role("button", name="Search").click()
    await page.get_by_role("row", name=re.compile("trip-1")).wait_for(state="detached")
    assert await page.locator("table.data tbody tr").count() == 1
    await page.get_by_label("Search sessions").fill("")
    await page.get_by_role("button", name="Search").click()
    await page.get_by_role("row", name=re.compile("trip-1")).click()
    tree = page.locator("ul.tree")
    await tree.get_by_text("hotel", exact=True).wait_for()
    # /plan holds its own request and those of /plan/hotel and /plan/flight.
    await tree.get_by_text("/plan · 3 requests").wait_for()
    assert await page.locator("svg.waterfall rect.bar-rect").count() == 4
    await shot(page, "session")
    await page.locator("svg.waterfall g.bar").nth(2).click()
    await page.get_by_role("dialog").get_by_text("lookup_city").wait_for()
    await shot(page, "session-drawer")


async def test_keyboard_opens_and_closes_the_drawer_and_columns_change(
    world: World, page: Any
) -> None:
    await sign_in(page, world.hs.url, world.hs.key)
    await open_requests(page)
    row = page.get_by_role("row", name=re.compile("req-trip-hotel"))
    await row.focus()
    await page.keyboard.press("Enter")
    drawer = page.get_by_role("dialog")
    await drawer.get_by_text("lookup_city").wait_for()
    assert await page.evaluate("document.activeElement.getAttribute('aria-label')") == (
        "Close details"
    )
    # Focus stays in the dialog: Shift+Tab from its first control wraps to its last.
    await page.keyboard.press("Shift+Tab")
    assert await page.evaluate("!!document.activeElement.closest('.drawer')")
    await page.keyboard.press("Escape")
    assert await drawer.count() == 0
    assert "req-trip-hotel" in (await page.evaluate("document.activeElement.ariaLabel"))

    await page.get_by_text("Columns", exact=True).click()
    await page.get_by_role("checkbox", name="Response").uncheck()
    await page.get_by_role("checkbox", name="Session").check()
    await page.keyboard.press("Escape")
    headers = await page.locator("table.data thead th").all_inner_texts()
    assert "Response" not in headers and "Session" in headers
    assert await page.get_by_role("cell", name="trip-1", exact=True).count() == 4
    await page.set_viewport_size({"width": 760, "height": 900})
    await shot(page, "requests-narrow")
