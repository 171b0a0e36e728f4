"""Settings' provider keys in Chromium: added, used by the AI Gateway, edited, deleted.

The key typed into the form must reach the vault (the AI Gateway then calls the fake provider
with it) and nothing else: not the URL, not the browser's storage, not the page once submitted.
"""

from __future__ import annotations

from typing import Any

import openai
import pytest

from tests.ui.conftest import SESSION_LOOP, World, api, shot, sign_in

pytestmark = SESSION_LOOP

STORED = "sk-ui-stored-7c1e9a"
CHAT: Any = [{"role": "user", "content": "hello through the AI Gateway"}]


def ai_gateway(world: World) -> openai.AsyncOpenAI:
    """OpenAI's SDK on the AI Gateway with only the Helioscope key (no provider key)."""
    return openai.AsyncOpenAI(base_url=f"{world.hs.url}/v1", api_key=world.hs.key, max_retries=0)


async def leaked(page: Any, secret: str) -> list[str]:
    """Where the page still holds ``secret``: the URL, the DOM (values included), storage."""
    where = await page.evaluate(
        """(secret) => {
            const found = [];
            if (location.href.includes(secret)) found.push("url");
            if (document.documentElement.outerHTML.includes(secret)) found.push("dom");
            if ([...document.querySelectorAll("input")].some((i) => i.value.includes(secret)))
                found.push("input");
            for (const store of [localStorage, sessionStorage])
                for (let i = 0; i < store.length; i++)
                    if (store.getItem(store.key(i)).includes(secret)) found.push("storage");
            return found;
        }""",
        secret,
    )
    return list(where)


async def test_provider_key_added_used_edited_and_deleted(world: World, page: Any) -> None:
    async with ai_gateway(world) as client:
        with pytest.raises(openai.APIStatusError):  # no key for OpenAI yet
            await client.chat.completions.create(model="gpt-4o-mini", messages=CHAT)

    await sign_in(page, world.hs.url, world.hs.key)
    await page.get_by_role("link", name="Settings").click()
    section = page.locator("#provider-keys")
    await section.get_by_role("heading", name="Provider keys").wait_for()
    await section.get_by_text("No provider keys.").wait_for()

    # A provider of one's own is named, and needs the address the catalog cannot give.
    assert not await page.get_by_label("Provider name").is_visible()
    await page.get_by_label("Provider", exact=True).select_option("")
    assert await page.get_by_label("Provider name").is_visible()
    assert await page.get_by_label("Base URL").evaluate("(input) => input.required")

    # What the API refuses is said in the form, and the key typed is gone all the same.
    await page.get_by_label("Provider", exact=True).select_option("openai")
    await page.get_by_label("Key name").fill("prod openai")
    await page.get_by_label("Provider API key").fill("x" * 10_001)
    await page.get_by_role("button", name="Add provider key").click()
    error = section.locator("#provider-key-error")
    await error.filter(has_text="providerKey").wait_for()
    assert await page.get_by_label("Provider API key").input_value() == ""

    await page.get_by_label("Provider API key").fill(STORED)
    await page.get_by_role("button", name="Add provider key").click()
    row = section.locator('tr[data-provider-key="prod openai"]')
    await row.wait_for()
    assert (await row.locator("td").first.inner_text()) == "openai"
    assert await leaked(page, STORED) == []

    [listed] = await api(world, "GET", "/v1/vault/keys")
    assert (listed["provider_name"], listed["provider_key_name"], listed["provider_key"]) == (
        "openai",
        "prod openai",
        STORED,
    )
    async with ai_gateway(world) as client:
        answer = await client.chat.completions.create(model="gpt-4o-mini", messages=CHAT)
    assert answer.choices[0].message.content
    assert world.fake.calls[-1].headers["authorization"] == f"Bearer {STORED}"
    await shot(page, "settings-provider-keys")

    await row.get_by_role("button", name="Edit prod openai").click()
    await page.get_by_label("New name for prod openai").fill("main openai")
    await page.get_by_role("button", name="Save").click()
    row = section.locator('tr[data-provider-key="main openai"]')
    await row.wait_for()
    [renamed] = await api(world, "GET", "/v1/vault/keys")
    assert (renamed["provider_key_name"], renamed["provider_key"]) == ("main openai", STORED)

    await row.get_by_role("button", name="Delete main openai").click()
    await page.get_by_role("button", name="Really delete?: Delete main openai").click()
    await row.wait_for(state="detached")
    assert await api(world, "GET", "/v1/vault/keys") == []
    async with ai_gateway(world) as client:
        with pytest.raises(openai.APIStatusError):
            await client.chat.completions.create(model="gpt-4o-mini", messages=CHAT)
