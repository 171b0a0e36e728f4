"""Datasets and experiments in Chromium: a dataset from selected requests, an experiment from a
request, a new version, one cell run, all cells run, an evaluator attached and scored."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from helioscope import Settings
from tests.ui.conftest import World, open_requests, shot, sign_in

SHOUTY = {
    "name": "Shouty",
    "scoring_type": "BOOLEAN",
    "code_template": (
        "def evaluate(request, response, inputs):\n"
        "    return 'SHOUT' in request['messages'][0]['content']\n"
    ),
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A provider key for experiment calls, as an operator would configure it."""
    return settings.model_copy(
        update={
            "experiment_openai_api_key": SecretStr("sk-experiment-ui"),
            "evaluator_memory_mb": 128,
        }
    )


async def api(world: World, method: str, path: str, body: Any = None) -> Any:
    async with httpx.AsyncClient(base_url=world.hs.url) as http:
        response = await http.request(
            method, path, json=body, headers={"authorization": f"Bearer {world.hs.key}"}
        )
    assert response.status_code < 300, response.text
    return response.json()["data"]


async def test_dataset_then_experiment_grid(world: World, page: Any) -> None:
    evaluator = await api(world, "POST", "/v1/evaluator", SHOUTY)
    await sign_in(page, world.hs.url, world.hs.key)
    await open_requests(page)
    for rid in ("req-trip-root", "req-trip-plan"):
        await page.get_by_role("checkbox", name=re.compile(f"Select Request {rid}")).check()
    await page.get_by_text("2 selected").wait_for()
    await page.get_by_label("New dataset name").fill("picked")
    await page.get_by_role("button", name="Add to dataset").click()
    await page.get_by_text("2 selected").wait_for(state="detached")
    [dataset] = await api(world, "POST", "/v1/helicone-dataset/query", {})
    assert (dataset["name"], dataset["requests_count"]) == ("picked", 2)

    await page.get_by_role("link", name="Datasets").click()
    await page.get_by_role("row", name="Dataset picked").click()
    await page.locator("#dataset-rows tbody tr").nth(1).wait_for()
    assert await page.locator("#dataset-rows tbody tr").count() == 2
    await shot(page, "dataset")

    await open_requests(page)
    await page.get_by_role("row", name=re.compile("Request req-chat-1")).click()
    await page.get_by_role("button", name="Experiment from this request").click()
    grid = page.locator("#experiment-grid")
    await grid.wait_for()
    assert await grid.locator("tbody tr").count() == 1
    await page.get_by_label("Add rows from dataset").select_option(label="picked (2)")
    await page.get_by_role("button", name="Add rows").click()
    await grid.locator("tbody tr").nth(2).wait_for()

    # A hypothesis: the same template with a system message in front.
    await page.get_by_text(re.compile(r"New version from v\d+\.\d+")).click()
    area = page.get_by_label("Template (JSON)")
    template = json.loads(await area.input_value())
    template["messages"].insert(0, {"role": "system", "content": "SHOUT your answers."})
    await area.fill(json.dumps(template))
    await page.get_by_role("button", name="Add version").click()
    await grid.locator("thead th").nth(2).wait_for()
    header = await grid.locator("thead th").nth(2).inner_text()
    new = re.findall(r"v\d+\.\d+", header)[0]

    await page.get_by_role("button", name=f"Run row 1 with {new}").click()
    cell = grid.locator("tbody tr").first.locator(f'td[data-version="{new}"]')
    await cell.get_by_text("Hello from the fake provider.").wait_for()
    await shot(page, "experiment-cell")

    await page.get_by_label("Add evaluator").select_option(evaluator["id"])
    await page.get_by_role("button", name="Attach").click()
    await page.get_by_role("button", name="Detach Shouty").wait_for()
    await page.get_by_role("button", name="Run all cells").click()
    await page.locator("#run-status").get_by_text("Run finished: 6 succeeded, 0 failed").wait_for()
    await page.locator(f'td.cell[data-version="{new}"]').filter(has_text="Hello").nth(2).wait_for()
    await page.get_by_role("button", name="Run evaluators").click()
    await grid.get_by_text("shouty: 100%").wait_for()
    await grid.get_by_text("shouty: 0%").wait_for()
    experiment_id = page.url.rsplit("/", 1)[1]
    status = await api(world, "GET", f"/v2/experiment/{experiment_id}/run/status")
    assert (status["succeeded"], status["failed"]) == (6, 0)
    await shot(page, "experiment")
