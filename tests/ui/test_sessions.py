"""Issue 20 point 7: the session list has totals, sorting and errors; a session is one aligned
trace (a row per span, its bar on a shared timeline) with the span's detail beside it."""

from __future__ import annotations

import re
from typing import Any

from tests.ui.conftest import SESSION_LOOP, World, shot, sign_in

pytestmark = SESSION_LOOP


async def test_session_list_sorts_and_counts_errors(world: World, page: Any) -> None:
    await sign_in(page, world.hs.url, world.hs.key)
    await page.get_by_role("link", name="Sessions").click()
    trip = page.get_by_role("row", name=re.compile("trip-1"))
    await trip.wait_for()
    assert await page.locator("#session-results tbody tr").count() == 2
    cells = await trip.locator("td").all_inner_texts()
    # Trip planner: 4 requests, one of them a 500.
    assert cells[4:6] == ["4", "1"]
    await page.locator("#session-metrics").get_by_text("average 2.5").wait_for()
    await page.get_by_role("button", name="Requests", exact=True).click()
    await page.wait_for_url(re.compile("s=total_requests"))
    await page.locator("#session-results[aria-busy=false] tbody tr").first.wait_for()
    names = await page.locator("#session-results tbody tr td:first-child").all_inner_texts()
    assert names == ["Trip planner", "Support chat"]  # most requests first
    await page.get_by_label("Search sessions").fill("support")
    await page.get_by_role("button", name="Search").click()
    await trip.wait_for(state="detached")
    await shot(page, "sessions")
    # Searched by id, the charts describe the one session listed (Support chat: 1 request).
    await page.get_by_label("Search sessions").fill("chat-9")
    await page.get_by_role("button", name="Search").click()
    await page.locator("#session-results[aria-busy=false]").get_by_text("chat-9").wait_for()
    metrics = page.locator("#session-metrics")
    await metrics.get_by_text("Requests per session").wait_for()
    await metrics.get_by_text("average 1", exact=True).wait_for()
    assert await metrics.get_by_text("No sessions.").count() == 0


async def test_a_session_is_one_aligned_trace_with_detail_beside_it(
    world: World, page: Any
) -> None:
    await sign_in(page, world.hs.url, world.hs.key)
    await page.goto(f"{world.hs.url}/ui/#/sessions/trip-1")
    trace = page.locator("#trace")
    await trace.wait_for()
    rows = await trace.locator("tbody th").all_inner_texts()
    # The root is the session's name (not "/ /"); children are indented under their path.
    assert rows[0].startswith("Trip planner")
    assert [r.split()[0] for r in rows] == ["Trip", "plan", "hotel", "flight"] or rows[
        1
    ].startswith("plan")
    assert len(rows) == 4
    # Every bar sits in the same timeline column, in order of start.
    lefts = await trace.locator(".trace-bar").evaluate_all(
        "bars => bars.map(b => b.getBoundingClientRect().left)"
    )
    tracks = await trace.locator(".trace-track").evaluate_all(
        "ts => ts.map(t => Math.round(t.getBoundingClientRect().left))"
    )
    assert len(set(tracks)) == 1 and lefts == sorted(lefts)
    assert await trace.locator(".trace-bar.bad").count() == 1
    await page.get_by_role("row", name=re.compile(r"^\/plan\/hotel")).click()
    pane = page.locator(".detail-pane")
    await pane.get_by_text("lookup_city").wait_for()
    assert "span=req-trip-hotel" in page.url
    assert await page.get_by_role("dialog").count() == 0 and await trace.is_visible()
    await page.keyboard.press("Control+k")  # the browser's shortcut, not the page's K
    await page.wait_for_timeout(100)
    assert "span=req-trip-hotel" in page.url
    await page.keyboard.press("j")
    await page.wait_for_url(re.compile("span=req-trip-flight"))
    await shot(page, "session")
    await page.keyboard.press("Escape")
    await pane.wait_for(state="hidden")
