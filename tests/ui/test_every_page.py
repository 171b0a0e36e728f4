"""Every page, at once: axe finds no serious accessibility problem (light and dark), a 390 px
phone never scrolls sideways (issue 20 point 10), and screenshots of each are saved (light,
dark, phone) under tests/ui/artifacts for a person to look at."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest_asyncio

from tests.ui.conftest import AXE, PHONE, SESSION_LOOP, World, api, shot, sign_in

pytestmark = SESSION_LOOP


@dataclass
class Pages:
    """Every page of the UI: (name, hash, a selector that is there once it has loaded)."""

    world: World
    routes: list[tuple[str, str, str]]


@pytest_asyncio.fixture(loop_scope="session")
async def pages(world: World) -> Pages:
    prompt = await api(
        world,
        "POST",
        "/v1/prompt-2025",
        {
            "name": "Travel planner",
            "tags": ["travel"],
            "promptBody": {
                "model": "gpt-4o-mini",
                "messages": [
                    {"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "Plan a day in {{hc:city:string}}."},
                ],
            },
        },
    )
    await api(
        world,
        "POST",
        "/v1/prompt-2025/update",
        {
            "promptId": prompt["id"],
            "promptVersionId": prompt["versionId"],
            "commitMessage": "friendlier",
            "promptBody": {
                "model": "gpt-4o-mini",
                "messages": [
                    {"role": "system", "content": "Be brief and friendly."},
                    {"role": "user", "content": "Plan a day in {{hc:city:string}}."},
                ],
            },
        },
    )
    dataset = await api(
        world,
        "POST",
        "/v1/helicone-dataset",
        {"datasetName": "picked", "requestIds": ["req-trip-root", "req-trip-plan"]},
    )
    experiment = await api(world, "POST", "/v2/experiment/create/from-request/req-chat-1")
    rid = world.gateway_request_id
    routes = [
        ("dashboard", "#/dashboard", "svg.chart"),
        ("requests", "#/requests", "table.data tbody tr"),
        ("request-pane", "#/requests/req-trip-hotel", ".detail-pane .chat"),
        ("sessions", "#/sessions", "#session-results tbody tr"),
        ("session", "#/sessions/trip-1?span=req-trip-hotel", ".detail-pane .chat"),
        ("users", "#/users", "#user-results tbody tr"),
        ("properties", "#/properties", "#prop-detail .hbars"),
        ("prompts", "#/prompts", "table.data tbody tr"),
        ("prompt", f"#/prompts/{prompt['id']}", "#diff-out .diff-sides"),
        ("playground", f"#/playground?request={rid}", ".pg-message textarea"),
        ("experiments", "#/experiments", "table.data tbody tr"),
        ("experiment", f"#/experiments/{experiment['experimentId']}", "#experiment-grid"),
        ("datasets", "#/datasets", "table.data tbody tr"),
        ("dataset", f"#/datasets/{dataset['datasetId']}", "#dataset-rows tbody tr"),
        ("settings", "#/settings", "#alerts h2"),
    ]
    return Pages(world, routes)


async def serious_violations(page: Any) -> list[str]:
    if not await page.evaluate("typeof axe !== 'undefined'"):
        await page.evaluate(AXE.read_text())
    found = await page.evaluate(
        "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', ')))"
    )
    return list(found)


async def test_every_page_is_axe_clean_in_light_and_dark(pages: Pages, page: Any) -> None:
    url = pages.world.hs.url
    await sign_in(page, url, pages.world.hs.key)
    problems: dict[str, list[str]] = {}
    for name, target, ready in pages.routes:
        await page.goto(f"{url}/ui/{target}")
        await page.locator(ready).first.wait_for()
        await page.locator("[aria-busy=true]").first.wait_for(
            state="detached", timeout=5000
        ) if await page.locator("[aria-busy=true]").count() else None
        for scheme in ("light", "dark"):
            await page.emulate_media(color_scheme=scheme)
            if found := await serious_violations(page):
                problems[f"{name} ({scheme})"] = found
            await shot(page, f"{name}-{scheme}")
        await page.emulate_media(color_scheme="light")
    await page.goto(f"{url}/ui/#/signin")
    await page.get_by_label("API key").wait_for()
    if found := await serious_violations(page):
        problems["signin"] = found
    assert not problems, problems


async def test_phone_width_never_scrolls_sideways(pages: Pages, page: Any) -> None:
    url = pages.world.hs.url
    await page.set_viewport_size(PHONE)
    await sign_in(page, url, pages.world.hs.key)
    wide: dict[str, int] = {}
    for name, target, ready in pages.routes:
        await page.goto(f"{url}/ui/{target}")
        await page.locator(ready).first.wait_for()
        extra = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if extra > 0:
            wide[name] = extra
        await shot(page, f"{name}-phone")
    assert not wide, f"pages wider than a 390 px phone (px too wide): {wide}"
