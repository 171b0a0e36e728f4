"""The Prompts pages in Chromium: versions, diff, promotion, and the playground's gateway run."""

from __future__ import annotations

from typing import Any

import httpx

from tests.ui.conftest import World, shot, sign_in


def chat_body(system: str) -> dict[str, Any]:
    return {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": "Plan a day in {{hc:city:string}}."},
        ],
    }


async def seed_prompt(world: World) -> tuple[str, str, str]:
    """A prompt with v0.0 (production) and v0.1; returns the prompt and both version ids."""
    headers = {"authorization": f"Bearer {world.hs.key}"}
    async with httpx.AsyncClient(base_url=world.hs.url, headers=headers) as http:
        created = await http.post(
            "/v1/prompt-2025",
            json={
                "name": "Travel planner",
                "tags": ["travel"],
                "promptBody": chat_body("Be brief."),
            },
        )
        data = created.json()["data"]
        updated = await http.post(
            "/v1/prompt-2025/update",
            json={
                "promptId": data["id"],
                "promptVersionId": data["versionId"],
                "commitMessage": "friendlier",
                "promptBody": chat_body("Be brief and friendly."),
            },
        )
        return data["id"], data["versionId"], updated.json()["data"]["id"]


async def production_version(world: World, prompt_id: str) -> str:
    async with httpx.AsyncClient(base_url=world.hs.url) as http:
        response = await http.post(
            "/v1/prompt-2025/query/production-version",
            json={"promptId": prompt_id},
            headers={"authorization": f"Bearer {world.hs.key}"},
        )
    version_id: str = response.json()["data"]["id"]
    return version_id


async def test_prompt_versions_diff_promote_and_playground(world: World, page: Any) -> None:
    prompt_id, first, second = await seed_prompt(world)
    assert await production_version(world, prompt_id) == first
    await sign_in(page, world.hs.url, world.hs.key)
    await page.get_by_role("link", name="Prompts").click()
    await page.get_by_role("row", name="Prompt Travel planner").click()
    await page.get_by_role("heading", name="Travel planner").wait_for()
    # The diff opens on the two newest versions: the changed system message.
    diff = page.locator("#diff-out")
    await diff.get_by_text("v0.0 → v0.1: 1 line removed, 1 added").wait_for()
    assert "Be brief and friendly." in await diff.locator(".add").inner_text()
    assert "Be brief." in await diff.locator(".del").inner_text()
    await shot(page, "prompt")

    await page.get_by_role("button", name="Promote v0.1 to production").click()
    await page.locator('tr[data-version="v0.1"]').get_by_text("in production").wait_for()
    assert await production_version(world, prompt_id) == second

    await page.get_by_label("Environment for v0.0").fill("staging")
    await page.get_by_role("button", name="Set environment of v0.0").click()
    await page.locator('tr[data-version="v0.0"]').get_by_text("staging").wait_for()

    # The playground runs the chosen version through the gateway, which logs the call.
    await page.get_by_label("Version", exact=True).select_option(second)
    await page.get_by_label("city").fill("Lisbon")
    await page.get_by_label("Provider API key").fill("sk-provider-secret-123")
    await page.get_by_role("button", name="Run through the gateway").click()
    await page.locator(".play-out").get_by_text("Hello from the fake provider.").wait_for()
    await shot(page, "prompt-playground")
    await world.hs.flush()
    await page.get_by_role("button", name="Open the logged request").click()
    drawer = page.get_by_role("dialog")
    await drawer.get_by_text("Plan a day in Lisbon.").wait_for()
    await drawer.get_by_text("Be brief and friendly.").wait_for()
