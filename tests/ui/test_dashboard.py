"""The Dashboard in Chromium shows the same numbers as the metrics API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from tests.ui.conftest import World, shot, sign_in


async def totals(world: World) -> dict[str, Any]:
    end = dt.datetime.now(dt.UTC)
    window = {"start": (end - dt.timedelta(hours=24)).isoformat(), "end": end.isoformat()}
    async with httpx.AsyncClient(base_url=world.hs.url) as http:
        response = await http.post(
            "/v1/metrics/totals",
            json={"filter": "all", "timeFilter": window},
            headers={"authorization": f"Bearer {world.hs.key}"},
        )
    data: dict[str, Any] = response.json()["data"]
    return data


async def test_dashboard_numbers_match_the_api(world: World, page: Any) -> None:
    await sign_in(page, world.hs.url, world.hs.key)
    api = await totals(world)
    assert (api["total_requests"], api["total_errors"], api["active_users"]) == (12, 1, 4)

    def card(metric: str) -> Any:
        return page.locator(f'[data-metric="{metric}"] .stat-value')

    await card("requests").filter(has_text="12").wait_for()
    assert await card("errors").inner_text() == "1"
    assert await card("users").inner_text() == "4"
    assert await card("cost").inner_text() == f"${api['total_cost']:.6f}"
    assert await page.locator("svg.chart").count() == 7
    # Twelve requests in the last 24 hours: the hourly bars add up to the same total.
    requests_chart = page.locator("figure", has_text="Requests").first
    assert (await requests_chart.locator("figcaption .muted").inner_text()) == "12"
    await page.get_by_role("cell", name="gpt-4o-mini").wait_for()
    top_users = page.locator("section", has_text="Top users")
    assert (await top_users.locator("tbody tr").first.inner_text()).split("\t")[:2] == ["dave", "6"]
    top_props = page.locator("section", has_text="Top properties")
    assert (await top_props.locator("tbody tr").first.inner_text()).split("\t") == [
        "env",
        "dev",
        "7",
    ]
    await shot(page, "dashboard")
    await page.emulate_media(color_scheme="dark")
    await shot(page, "dashboard-dark")
    await page.emulate_media(color_scheme="light")
    await page.get_by_label("Time range").select_option("1h")
    await page.locator('#dash-body[aria-busy="false"]').wait_for()
    assert await card("requests").inner_text() == "12"
    await shot(page, "dashboard-hour")
