"""Settings in Chromium: keys with scopes (a revoked key stops working), webhooks, alerts."""

from __future__ import annotations

from typing import Any

import httpx

from tests.ui.conftest import SESSION_LOOP, World, shot, sign_in

pytestmark = SESSION_LOOP


async def status_with(world: World, key: str) -> int:
    async with httpx.AsyncClient(base_url=world.hs.url) as http:
        response = await http.post(
            "/v1/request/count/query",
            json={"filter": "all"},
            headers={"authorization": f"Bearer {key}"},
        )
    return response.status_code


async def test_keys_webhooks_and_alerts(world: World, page: Any) -> None:
    await sign_in(page, world.hs.url, world.hs.key)
    await page.get_by_role("link", name="Settings").click()
    await page.get_by_role("heading", name="API keys").wait_for()

    await page.get_by_label("Name", exact=True).first.fill("reader")
    await page.get_by_label("Scope", exact=True).select_option("r")
    await page.get_by_role("button", name="Create key").click()
    new_key = await page.locator("#new-key-value").inner_text()
    assert new_key.startswith("sk-") and await status_with(world, new_key) == 200
    row = page.locator('tr[data-key="reader"]')
    assert "Read only" in await row.inner_text()

    await row.get_by_role("button", name="Rename reader").click()
    await page.get_by_label("New name for reader").fill("dashboards")
    await page.get_by_role("button", name="Save").click()
    await page.locator('tr[data-key="dashboards"]').wait_for()

    revoke = page.get_by_role("button", name="Revoke dashboards")
    await revoke.click()
    await page.get_by_role("button", name="Really revoke?: Revoke dashboards").click()
    await page.locator('tr[data-key="dashboards"]').wait_for(state="detached")
    assert await status_with(world, new_key) == 401

    await page.get_by_label("URL", exact=True).fill("https://hooks.example.com/helioscope")
    await page.get_by_label("Sample %").fill("50")
    await page.get_by_role("button", name="Add webhook").click()
    await page.locator("#webhooks").get_by_text("https://hooks.example.com/helioscope").wait_for()
    assert await page.locator("#webhooks").get_by_text("50%").count() == 1
    # The signing key stays hidden until asked for.
    assert not await page.locator("#webhooks code.secret").is_visible()

    await page.locator("#alert-name").fill("Too many errors")
    await page.get_by_label("Threshold").fill("10")
    await page.get_by_label("Notify webhook").select_option(
        label="https://hooks.example.com/helioscope"
    )
    await page.get_by_role("button", name="Create alert").click()
    await page.locator("#alerts").get_by_role("cell", name="Too many errors", exact=True).wait_for()
    async with httpx.AsyncClient(base_url=world.hs.url) as http:
        alerts = await http.get(
            "/v1/alert/query", headers={"authorization": f"Bearer {world.hs.key}"}
        )
    [alert] = alerts.json()["data"]["alerts"]
    assert (alert["metric"], alert["threshold"], alert["time_window"]) == (
        "response.status",
        10,
        3_600_000,
    )
    await shot(page, "settings")
