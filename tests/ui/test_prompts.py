"""Issue 20 point 8: prompt versions with a side-by-side word diff, promotion, a playground
that edits messages, model and parameters; prompts recorded through Helicone-Prompt-Id are
listed; the experiment grid shows each cell's scores; experiments can be renamed."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from tests.ui.conftest import SESSION_LOOP, World, api, open_requests, shot, sign_in

pytestmark = SESSION_LOOP

TAGGED_NAME = '<helicone-prompt-input key="name">Ann</helicone-prompt-input>'
SHOUTY = {
    "name": "Shouty",
    "scoring_type": "BOOLEAN",
    "code_template": (
        "def evaluate(request, response, inputs):\n"
        "    return 'SHOUT' in request['messages'][0]['content']\n"
    ),
}


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
    data = await api(
        world,
        "POST",
        "/v1/prompt-2025",
        {"name": "Travel planner", "tags": ["travel"], "promptBody": chat_body("Be brief.")},
    )
    updated = await api(
        world,
        "POST",
        "/v1/prompt-2025/update",
        {
            "promptId": data["id"],
            "promptVersionId": data["versionId"],
            "commitMessage": "friendlier",
            "promptBody": chat_body("Be brief and friendly."),
        },
    )
    return data["id"], data["versionId"], updated["id"]


async def test_prompt_versions_diff_promote_and_playground(world: World, page: Any) -> None:
    prompt_id, first, second = await seed_prompt(world)
    await sign_in(page, world.hs.url, world.hs.key)
    await page.get_by_role("link", name="Prompts").click()
    await page.get_by_role("row", name="Prompt Travel planner").click()
    await page.get_by_role("heading", name="Travel planner").wait_for()
    # The diff opens on the two newest versions, word by word, side by side.
    diff = page.locator("#diff-out")
    await diff.get_by_text("v0.0 → v0.1: 0 words removed, 2 words added").wait_for()
    assert await diff.locator("ins").all_inner_texts() == [
        " and",
        " friendly",
    ] or "friendly" in "".join(await diff.locator("ins").all_inner_texts())
    assert await diff.locator("del").count() == 0
    await shot(page, "prompt")

    # v0.1's body comes slowly from here on: the playground must not take what is typed into
    # the previous version's editor while it loads (it once sent v0.0 with v0.1 chosen).
    async def slowly(route: Any) -> None:
        await asyncio.sleep(1.5)
        await route.continue_()

    await page.route(f"**/v1/prompt-2025/{second}/prompt-body", slowly)
    await page.get_by_role("button", name="Promote v0.1 to production").click()
    await page.locator('tr[data-version="v0.1"]').get_by_text("in production").wait_for()
    production = await api(
        world, "POST", "/v1/prompt-2025/query/production-version", {"promptId": prompt_id}
    )
    assert production["id"] == second

    # Unedited, the gateway expands the version: the logged call has the variables filled in.
    await page.get_by_label("Version", exact=True).select_option(second)
    await page.get_by_label("city").fill("Lisbon")
    await page.get_by_label("Provider API key").fill("sk-provider-secret-123")
    await page.get_by_role("button", name="Run through the gateway").click()
    await page.locator(".play-out").get_by_text("Hello from the fake provider.").wait_for()
    await world.hs.flush()
    await page.get_by_role("link", name="Open the logged request").click()
    pane = page.locator(".detail-pane")
    await pane.get_by_text("Plan a day in Lisbon.").wait_for()
    await pane.get_by_text("Be brief and friendly.").wait_for()

    # Edited: messages and model as typed, variables filled in by the page.
    await page.go_back()
    await page.get_by_label("Message 1 (system)").fill("Be terse.")
    await page.get_by_label("Model").fill("gpt-4o")
    await page.get_by_label("city").fill("Porto")
    before = len(world.fake.calls)
    await page.get_by_role("button", name="Run through the gateway").click()
    await page.locator(".play-out").get_by_text("Hello from the fake provider.").wait_for()
    sent = world.fake.calls[before].json()
    assert sent["model"] == "gpt-4o"
    assert [m["content"] for m in sent["messages"]] == ["Be terse.", "Plan a day in Porto."]
    await shot(page, "prompt-playground")


async def test_legacy_prompts_are_listed(world: World, page: Any) -> None:
    async with world_client(world) as http:
        response = await http.post(
            "/oai/v1/chat/completions",
            headers={"helicone-prompt-id": "support-reply"},
            json={
                "model": "gpt-4o-mini",
                "messages": [
                    {
                        "role": "user",
                        "content": f"Reply to {TAGGED_NAME}",
                    }
                ],
            },
        )
        assert response.status_code == 200, response.text
    await world.hs.flush()
    await sign_in(page, world.hs.url, world.hs.key)
    await page.get_by_role("link", name="Prompts").click()
    await page.get_by_role("heading", name="Prompts from Helicone-Prompt-Id").wait_for()
    await page.get_by_role("row", name="Prompt support-reply").click()
    await page.get_by_role("heading", name="support-reply").wait_for()
    await page.locator("#versions tbody tr").first.wait_for()


def world_client(world: World) -> Any:
    import httpx

    return httpx.AsyncClient(
        base_url=world.hs.url, headers={"helicone-auth": f"Bearer {world.hs.key}"}
    )


async def test_experiment_grid_scores_and_rename(world: World, page: Any) -> None:
    evaluator = await api(world, "POST", "/v1/evaluator", SHOUTY)
    await sign_in(page, world.hs.url, world.hs.key)
    await open_requests(page)
    for rid in ("req-trip-root", "req-trip-plan"):
        await page.get_by_role("checkbox", name=re.compile(f"Select Request {rid}")).check()
    await page.get_by_text("2 selected").wait_for()
    await page.get_by_label("New dataset name").fill("picked")
    await page.get_by_role("button", name="Add to dataset").click()
    await page.get_by_text("2 selected").wait_for(state="detached")

    await page.get_by_role("row", name=re.compile("Request req-chat-1")).click()
    await page.get_by_role("button", name="Experiment from this request").click()
    grid = page.locator("#experiment-grid")
    await grid.wait_for()
    await page.get_by_label("Add rows from dataset").select_option(label="picked (2)")
    await page.get_by_role("button", name="Add rows").click()
    await grid.locator("tbody tr").nth(2).wait_for()

    await page.get_by_text(re.compile(r"New version from v\d+\.\d+")).click()
    area = page.get_by_label("Template (JSON)")
    template = json.loads(await area.input_value())
    template["messages"].insert(0, {"role": "system", "content": "SHOUT your answers."})
    await area.fill(json.dumps(template))
    await page.get_by_role("button", name="Add version").click()
    await grid.locator("thead th").nth(2).wait_for()
    await page.get_by_label("Add evaluator").select_option(evaluator["id"])
    await page.get_by_role("button", name="Attach").click()
    await page.get_by_role("button", name="Detach Shouty").wait_for()
    await page.get_by_role("button", name="Run all cells").click()
    await page.locator("#run-status").get_by_text("Run finished: 6 succeeded, 0 failed").wait_for()
    await page.get_by_role("button", name="Run evaluators").click()
    # Each cell shows its own score, as people read it (no -hcone-bool suffix).
    await grid.locator(".cell-scores").get_by_text("shouty: true").first.wait_for()
    assert await grid.locator(".cell-scores").get_by_text("shouty: false").count() >= 3
    assert await grid.get_by_text("hcone").count() == 0

    await page.get_by_role("button", name=re.compile("^Rename experiment")).click()
    await page.get_by_label("Experiment name").fill("Shouting test")
    await page.get_by_role("button", name="Save name").click()
    await page.get_by_role("heading", name="Shouting test").wait_for()
    experiment_id = page.url.rsplit("/", 1)[1]
    assert (await api(world, "GET", f"/v2/experiment/{experiment_id}"))["name"] == "Shouting test"
    await shot(page, "experiment")


async def test_an_evaluator_that_fails_says_so_on_the_experiment(world: World, page: Any) -> None:
    template = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": 'About <helicone-prompt-input key="city" />.'}],
    }
    created = await api(
        world, "POST", "/v1/prompt/create", {"userDefinedId": "fails", "prompt": template}
    )
    experiment = await api(
        world,
        "POST",
        "/v2/experiment/new",
        {"name": "failing", "originalPromptVersion": created["prompt_version_id"]},
    )
    experiment_id = experiment["experimentId"]
    row = await api(
        world,
        "POST",
        f"/v2/experiment/{experiment_id}/add-manual-row",
        {"inputs": {"city": "Paris"}},
    )
    details = await api(world, "GET", f"/v2/experiment/{experiment_id}")
    await api(
        world,
        "POST",
        f"/v2/experiment/{experiment_id}/run-hypothesis",
        {"inputRecordId": row, "promptVersionId": details["copied_original_prompt_version"]},
    )
    broken = {
        "name": "Broken",
        "scoring_type": "NUMERIC",
        "code_template": "def evaluate(request, response, inputs):\n    raise ValueError('no')\n",
    }
    evaluator = await api(world, "POST", "/v1/evaluator", broken)
    await api(
        world,
        "POST",
        f"/v2/experiment/{experiment_id}/evaluators",
        {"evaluatorId": evaluator["id"]},
    )
    await sign_in(page, world.hs.url, world.hs.key)
    await page.goto(f"{world.hs.url}/ui/#/experiments/{experiment_id}")
    await page.get_by_role("button", name="Detach Broken").wait_for()
    assert await page.locator("#evaluator-errors").count() == 0
    await page.get_by_role("button", name="Run evaluators").click()
    errors = page.locator("#evaluator-errors")
    await errors.get_by_text("1 evaluation failed in the last run").wait_for()
    assert "Broken on " in await errors.inner_text()
    assert "ValueError" in await errors.inner_text()
