"""The demo's showcase: a prompt with versions, feedback and scores, and an experiment.

The experiment compares two versions of a prompt with an LLM judge.

Everything goes through the public API and the gateway, exactly as a user would do it.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from helioscope.cli._demo_client import DemoClient, DemoError, openai_headers

PRODUCTS = ("Helioscope Cloud", "Helioscope Desktop", "Helioscope Mobile")
SUPPORT_QUESTIONS = (
    "How do I reset my password?",
    "Can I export my data as CSV?",
    "Why was I charged twice this month?",
    "Does the desktop app work offline?",
)
CITIES = ("Lisbon", "Oslo", "Kyoto", "Montreal")
# After 0.0: (system message, new major?, environment, commit message) of each later version.
LATER_VERSIONS: tuple[tuple[str, bool, str | None, str], ...] = (
    ("Answer questions about {{hc:product:string}} in two sentences.", False, None, "Shorter"),
    ("Support for {{hc:product:string}}: ask for the order number first.", True, "staging", "Ask"),
)
JUDGE = {
    "name": "Helpfulness",
    "scoring_type": "LLM-RANGE",
    "llm_template": {
        "model": "gpt-4o-mini",
        "min": 1,
        "max": 10,
        "messages": [
            {"role": "system", "content": "Rate how helpful the answer is, from 1 to 10."},
            {"role": "user", "content": "Request: {{inputBody}}\nAnswer: {{outputs}}"},
        ],
    },
}


def _support_body(system: str) -> dict[str, Any]:
    return {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": "{{hc:question:string}}"},
        ],
    }


async def _prompt_versions(client: DemoClient) -> tuple[str, list[str]]:
    """A 2025 prompt with three versions: 0.0 and 0.1 (production), and 1.0 (staging)."""
    created = await client.api(
        "POST",
        "/v1/prompt-2025",
        {
            "name": "support-reply",
            "tags": ["support", "demo"],
            "promptBody": _support_body(
                "You are a friendly support agent for {{hc:product:string}}."
            ),
        },
    )
    prompt_id, first = created["id"], created["versionId"]
    versions = [first]
    for system, major, environment, message in LATER_VERSIONS:
        body = {
            "promptId": prompt_id,
            "promptVersionId": versions[-1],
            "newMajorVersion": major,
            "environment": environment,
            "commitMessage": message,
            "promptBody": _support_body(system),
        }
        versions.append((await client.api("POST", "/v1/prompt-2025/update", body))["id"])
    promote = {"promptId": prompt_id, "promptVersionId": versions[1], "environment": "production"}
    await client.api("POST", "/v1/prompt-2025/update/environment", promote)
    return prompt_id, versions


async def prompt_calls(client: DemoClient, rng: random.Random, calls: int) -> list[str]:
    """Calls made with the prompt, by environment and by version; their request ids."""
    prompt_id, versions = await _prompt_versions(client)
    ids = []
    for index in range(calls):
        body: dict[str, Any] = {
            "prompt_id": prompt_id,
            "inputs": {"product": rng.choice(PRODUCTS), "question": rng.choice(SUPPORT_QUESTIONS)},
        }
        if index % 3 == 2:
            body["version_id"] = versions[0]  # an old client pinned to the first version
        elif index % 3 == 1:
            body["environment"] = "staging"
        headers = openai_headers({"helicone-property-feature": "support"})
        status, request_id = await client.gateway("/oai/v1/chat/completions", body, headers)
        if status >= 400:
            raise DemoError(f"a call with prompt {prompt_id} failed with HTTP {status}")
        ids.append(request_id)
    return ids


async def rate_and_score(client: DemoClient, rng: random.Random, request_ids: list[str]) -> int:
    """Thumbs up or down on some requests, and accuracy scores on others; how many."""
    await client.stored(request_ids)
    calls = []
    for request_id in request_ids:
        draw = rng.random()
        if draw < 0.15:
            rating = {"rating": rng.random() < 0.75}
            calls.append(client.api("POST", f"/v1/request/{request_id}/feedback", rating))
        elif draw < 0.35:
            scores = {"accuracy": rng.randint(55, 100), "on-topic": rng.random() < 0.85}
            calls.append(client.api("POST", f"/v1/request/{request_id}/score", {"scores": scores}))
    await asyncio.gather(*calls)
    return len(calls)


async def _city_calls(client: DemoClient) -> list[str]:
    """Calls made with the legacy prompt ``city-guide`` (its template is recorded)."""
    ids = []
    for city in CITIES:
        content = f'Describe <helicone-prompt-input key="city">{city}</helicone-prompt-input>.'
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}]}
        headers = openai_headers({"helicone-prompt-id": "city-guide"})
        status, request_id = await client.gateway("/oai/v1/chat/completions", body, headers)
        if status >= 400:
            raise DemoError(f"a call with the city-guide prompt failed with HTTP {status}")
        ids.append(request_id)
    await client.stored(ids)
    return ids


async def _wait_for_run(client: DemoClient, experiment_id: str) -> None:
    for _ in range(1200):
        status = await client.api("GET", f"/v2/experiment/{experiment_id}/run/status")
        if not status["running"] and status["pending"] == status["inProgress"] == 0:
            return
        await asyncio.sleep(0.05)
    raise DemoError(f"experiment {experiment_id} did not finish within a minute")


async def experiment(client: DemoClient) -> str:
    """An experiment over four city-guide calls; its id.

    A concise version of the prompt runs against the original, judged by an LLM evaluator.
    """
    requests = await _city_calls(client)
    created = await client.api("POST", f"/v2/experiment/create/from-request/{requests[0]}")
    experiment_id = created["experimentId"]
    dataset = {"datasetName": "City guide questions", "requestIds": requests[1:]}
    dataset_id = (await client.api("POST", "/v1/helicone-dataset", dataset))["datasetId"]
    await client.api("POST", f"/v2/experiment/{experiment_id}/row/insert/dataset/{dataset_id}")
    details = await client.api("GET", f"/v2/experiment/{experiment_id}")
    concise_template = {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "Be concise: one sentence."},
            {"role": "user", "content": 'Describe <helicone-prompt-input key="city" />.'},
        ],
    }
    concise = await client.api(
        "POST",
        f"/v2/experiment/{experiment_id}/prompt-version",
        {
            "parentPromptVersionId": details["copied_original_prompt_version"],
            "newHeliconeTemplate": concise_template,
        },
    )
    judge = await client.api("POST", "/v1/evaluator", JUDGE)
    await client.api(
        "POST", f"/v2/experiment/{experiment_id}/evaluators", {"evaluatorId": judge["id"]}
    )
    await client.api(
        "POST", f"/v2/experiment/{experiment_id}/run", {"promptVersionIds": [concise["id"]]}
    )
    await _wait_for_run(client, experiment_id)
    await client.api("POST", f"/v2/experiment/{experiment_id}/evaluators/run")
    return str(experiment_id)
