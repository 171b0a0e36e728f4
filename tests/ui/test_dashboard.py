"""Issue 20 point 6: the Dashboard shows the API's numbers; top tables fit their cards; latency
charts leave empty hours blank; 7-day labels do not collide; p95/p99 are charted; an empty
organization gets the getting-started snippet (point 9)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from tests.ui.conftest import SESSION_LOOP, World, api, new_org, shot, sign_in

pytestmark = SESSION_LOOP


def card(page: Any, metric: str) -> Any:
    return page.locator(f'[data-metric="{metric}"] .stat-value')


async def test_dashboard_numbers_match_the_api(world: World, page: Any) -> None:
    await sign_in(page, world.hs.url, world.hs.key)
    end = dt.datetime.now(dt.UTC)
    window = {"start": (end - dt.timedelta(hours=24)).isoformat(), "end": end.isoformat()}
    totals = await api(world, "POST", "/v1/metrics/totals", {"filter": "all", "timeFilter": window})
    assert (totals["total_requests"], totals["total_errors"], totals["active_users"]) == (12, 1, 4)
    await card(page, "requests").filter(has_text="12").wait_for()
    assert await card(page, "errors").inner_text() == "1"
    assert await card(page, "users").inner_text() == "4"
    assert await card(page, "cost").inner_text() == f"${totals['total_cost']:.6f}"
    # Eight charts, two per row: "Active users" no longer sits alone.
    assert await page.locator("svg.chart").count() == 8
    await page.get_by_role("img", name=re.compile(r"^Latency p95 \/ p99: \d+ points")).wait_for()
    requests_chart = page.locator("figure", has_text="Requests").first
    assert (await requests_chart.locator("figcaption .muted").inner_text()) == "12"
    top_users = page.locator("section", has_text="Top users")
    assert (await top_users.locator("tbody tr").first.inner_text()).split("\t")[:2] == ["dave", "6"]
    top_props = page.locator("section", has_text="Top properties")
    assert (await top_props.locator("tbody tr").first.inner_text()).split("\t") == [
        "env",
        "dev",
        "7",
    ]
    # Every top table fits inside its card.
    overflow = await page.locator(".top-card").evaluate_all(
        "cards => cards.map(c => c.scrollWidth - c.clientWidth)"
    )
    assert max(overflow) <= 1, overflow
    # The seeded hour has requests; the other 23 hours have none: the latency line has gaps
    # (a new "M" segment), never a drop to 0 ms.
    latency = page.locator("figure", has_text="Average latency").locator("path.series-line")
    path = await latency.get_attribute("d")
    assert path.count("M") >= 1 and path.count("L") < 23
    hidden = page.locator("figure", has_text="Average latency").locator("table")
    assert "no data" in await hidden.inner_text()
    await shot(page, "dashboard")


async def test_seven_day_labels_do_not_collide(world: World, page: Any) -> None:
    await sign_in(page, world.hs.url, world.hs.key)
    await page.goto(f"{world.hs.url}/ui/#/dashboard?r=7d")
    chart = page.locator("figure", has_text="Requests").first.locator("svg.chart")
    await chart.wait_for()
    labels = await chart.locator("text.axis[text-anchor=middle]").all_text_contents()
    assert 4 <= len(labels) <= 7 and len(set(labels)) == len(labels), labels
    boxes = await chart.locator("text.axis[text-anchor=middle]").evaluate_all(
        "ts => ts.map(t => { const b = t.getBoundingClientRect(); return [b.left, b.right]; })"
    )
    assert all(a[1] <= b[0] for a, b in zip(boxes, boxes[1:], strict=False)), boxes


async def test_an_empty_organization_gets_the_getting_started_snippet(
    world: World, page: Any
) -> None:
    empty = await new_org(world.hs, "empty")
    await sign_in(page, empty.url, empty.key)
    start = page.get_by_role("heading", name="Send your first request")
    await start.wait_for()
    snippet = await page.locator(".getting-started pre").inner_text()
    assert f'base_url="{empty.url}/oai/v1"' in snippet
    assert empty.key[:12] in snippet and empty.key not in snippet
    assert await page.get_by_text("0 ms").count() == 0
    await shot(page, "dashboard-empty")
    await page.get_by_role("link", name="Requests").click()
    await page.get_by_role("heading", name="Send your first request").wait_for()
