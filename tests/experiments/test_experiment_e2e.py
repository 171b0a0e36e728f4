"""An experiment from three logged production requests, two prompt versions, an LLM judge and
a Python evaluator, run to completion through the fake provider and scored."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from helioscope.testing import FakeProvider
from tests.conftest import Running
from tests.experiments.conftest import EXPERIMENT_KEY
from tests.experiments.helpers import Api

SYSTEM = "You are a helpful assistant."
QUESTIONS = ["What is the capital of France?", "How tall is Everest?", "Who wrote Hamlet?"]

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
CONCISE = {
    "name": "Concise",
    "scoring_type": "BOOLEAN",
    "code_template": (
        "def evaluate(request, response, inputs):\n"
        "    return 'concise' in request['messages'][0]['content'].lower()\n"
    ),
}


async def production_call(hs: Running, question: str) -> str:
    async with Api(hs) as api:
        response = await api.http.post(
            "/oai/v1/chat/completions",
            headers={"helicone-auth": f"Bearer {hs.key}", "authorization": "Bearer sk-user"},
            json={
                "model": "gpt-4o-mini",
                "messages": [
                    {"role": "system", "content": SYSTEM},
                    {"role": "user", "content": question},
                ],
            },
        )
    assert response.status_code == 200, response.text
    return response.headers["helicone-id"]


async def wait_for_run(api: Api, experiment_id: str) -> dict[str, Any]:
    for _ in range(300):
        status: dict[str, Any] = await api.get(f"/v2/experiment/{experiment_id}/run/status")
        if not status["running"] and status["pending"] == status["inProgress"] == 0:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"the run did not finish: {status}")


async def build_experiment(api: Api, requests: list[str]) -> tuple[str, str, str, list[str]]:
    """From production requests to an experiment with two versions and two evaluators."""
    experiment_id = (await api.post(f"/v2/experiment/create/from-request/{requests[0]}"))[
        "experimentId"
    ]
    dataset_id = (
        await api.post("/v1/helicone-dataset", {"datasetName": "prod", "requestIds": requests[1:]})
    )["datasetId"]
    await api.post(f"/v2/experiment/{experiment_id}/row/insert/dataset/{dataset_id}")

    details = await api.get(f"/v2/experiment/{experiment_id}")
    original = details["copied_original_prompt_version"]
    assert [r["auto_prompt_inputs"][0]["content"] for r in details["rows"]] == QUESTIONS
    originals = [
        [(c["request_id"], c["is_original"]) for c in r["requests"]] for r in details["rows"]
    ]
    assert originals == [[(request_id, True)] for request_id in requests]

    versions = await api.get(f"/v2/experiment/{experiment_id}/prompt-versions")
    assert [v["id"] for v in versions] == [original]
    template = versions[0]["helicone_template"]
    assert template["messages"][0] == {"role": "system", "content": SYSTEM}
    concise_template = {
        **template,
        "messages": [
            {"role": "system", "content": "Be concise: answer in one short sentence."},
            *template["messages"][1:],
        ],
    }
    created = await api.post(
        f"/v2/experiment/{experiment_id}/prompt-version",
        {"newHeliconeTemplate": concise_template, "parentPromptVersionId": original},
    )
    assert orjson.loads(created["helicone_template"]) == concise_template
    assert created["experiment_id"] == experiment_id

    for evaluator in (JUDGE, CONCISE):
        created_evaluator = await api.post("/v1/evaluator", evaluator)
        await api.post(
            f"/v2/experiment/{experiment_id}/evaluators", {"evaluatorId": created_evaluator["id"]}
        )
    attached = await api.get(f"/v2/experiment/{experiment_id}/evaluators")
    assert [e["name"] for e in attached] == ["Helpfulness", "Concise"]
    return experiment_id, original, created["id"], [r["id"] for r in details["rows"]]


async def check_scores(api: Api, experiment_id: str, original: str, concise: str) -> None:
    # Helioscope's route adds each score's count to Helicone's ScoreV2.
    base = f"/v1/helioscope/experiments/{experiment_id}"
    original_scores = await api.get(f"{base}/{original}/scores")
    concise_scores = await api.get(f"{base}/{concise}/scores")
    assert set(original_scores) == set(concise_scores) == {"helpfulness", "concise-hcone-bool"}
    assert original_scores["concise-hcone-bool"] == {
        "valueType": "number",
        "value": 0.0,
        "min": 0.0,
        "max": 0.0,
        "count": 3,
    }
    assert concise_scores["concise-hcone-bool"]["value"] == 1.0
    for scores in (original_scores, concise_scores):
        helpful = scores["helpfulness"]
        assert helpful["count"] == 3
        assert 1 <= helpful["min"] <= helpful["value"] <= helpful["max"] <= 10


async def test_experiment_from_production_requests_to_scores(
    helioscope: Running, fake: FakeProvider
) -> None:
    requests = [await production_call(helioscope, q) for q in QUESTIONS]
    await helioscope.flush()
    async with Api(helioscope) as api:
        experiment_id, original, concise, rows = await build_experiment(api, requests)
        # One cell by hand, the other two as a background run.
        first = await api.post(
            f"/v2/experiment/{experiment_id}/run-hypothesis",
            {"inputRecordId": rows[0], "promptVersionId": concise},
        )
        started = await api.post(
            f"/v2/experiment/{experiment_id}/run",
            {"promptVersionIds": [concise], "inputRecordIds": rows[1:]},
        )
        assert started == {"cells": 2}
        status = await wait_for_run(api, experiment_id)
        assert (status["total"], status["succeeded"], status["failed"]) == (6, 6, 0)
        assert status["unscoredOutputs"] == 12  # 6 outputs x 2 evaluators

        # Each call went through the gateway with its row's question under the new prompt.
        bodies = [c.json() for c in fake.calls]
        sent = [b for b in bodies if b["messages"][0]["content"].startswith("Be concise")]
        assert sorted(m["messages"][1]["content"] for m in sent) == sorted(QUESTIONS)
        assert all(c.headers["authorization"] == f"Bearer {EXPERIMENT_KEY}" for c in fake.calls[3:])
        logged = await api.get(f"/v1/request/{first}")
        assert logged["properties"]["Helicone-Experiment-Id"] == experiment_id
        assert logged["properties"]["helicone-experiment-row-id"] == rows[0]
        assert logged["properties"]["helicone-experiment-prompt-version"] == concise

        assert await api.get(f"/v2/experiment/{experiment_id}/should-run-evaluators") is True
        await api.post(f"/v2/experiment/{experiment_id}/evaluators/run")
        assert await api.get(f"/v2/experiment/{experiment_id}/should-run-evaluators") is False
        await check_scores(api, experiment_id, original, concise)

        # Scores are on the output requests, keyed as Helicone keys them.
        details = await api.get(f"/v2/experiment/{experiment_id}")
        cells = details["rows"][0]["requests"]
        output = next(c for c in cells if c["prompt_version_id"] == concise)
        assert output["request_id"] == first and output["status"] == "success"
        one = await api.get(f"/v2/experiment/{experiment_id}/{first}/concise-hcone-bool")
        assert one == {"valueType": "number", "value": 1.0, "min": 1.0, "max": 1.0}
        assert await api.get(f"/v2/experiment/{experiment_id}/{first}/nope") is None
        assert (await api.get(f"/v1/request/{first}"))["scores"]["concise-hcone-bool"] == 1

        # The judge's calls are logged like any other, marked as the evaluator's.
        evaluator_filter = {"properties": {"helicone-evaluator": {"equals": "Helpfulness"}}}
        judged = await api.post(
            "/v1/request/query", {"filter": {"request_response_rmt": evaluator_filter}}
        )
        assert len(judged) == 6
        assert all(r["request_body"]["tool_choice"]["function"]["name"] == "score" for r in judged)
        assert set(await api.get("/v1/evals/scores")) == {"helpfulness", "concise-hcone-bool"}
        # The provider key went upstream and nowhere else.
        everything = await api.post("/v1/request/query", {"filter": "all", "limit": 100})
        assert EXPERIMENT_KEY not in orjson.dumps(everything).decode()


async def test_experiment_over_calls_made_with_a_legacy_prompt(helioscope: Running) -> None:
    """Production calls tagged with Helicone-Prompt-Id: the experiment reuses their prompt
    version and each row gets the call's recorded inputs."""
    cities = ["Paris", "Rome", "Oslo"]
    requests = []
    async with Api(helioscope) as api:
        for city in cities:
            response = await api.http.post(
                "/oai/v1/chat/completions",
                headers={
                    "helicone-auth": f"Bearer {helioscope.key}",
                    "helicone-prompt-id": "city-guide",
                },
                json={
                    "model": "gpt-4o-mini",
                    "messages": [
                        {
                            "role": "user",
                            "content": "Describe "
                            f'<helicone-prompt-input key="city">{city}</helicone-prompt-input>.',
                        }
                    ],
                },
            )
            assert response.status_code == 200
            requests.append(response.headers["helicone-id"])
        await helioscope.flush()
        experiment_id = (await api.post(f"/v2/experiment/create/from-request/{requests[0]}"))[
            "experimentId"
        ]
        dataset_id = (
            await api.post("/v1/helicone-dataset", {"datasetName": "d", "requestIds": requests[1:]})
        )["datasetId"]
        await api.post(f"/v2/experiment/{experiment_id}/row/insert/dataset/{dataset_id}")
        details = await api.get(f"/v2/experiment/{experiment_id}")
        assert [r["inputs"] for r in details["rows"]] == [{"city": c} for c in cities]
        assert await api.get(f"/v2/experiment/{experiment_id}/input-keys") == ["city"]
        original = details["copied_original_prompt_version"]
        shout = await api.post(
            f"/v2/experiment/{experiment_id}/prompt-version",
            {
                "parentPromptVersionId": original,
                "newHeliconeTemplate": {
                    "model": "gpt-4o-mini",
                    "messages": [
                        {"role": "system", "content": "Be concise."},
                        {
                            "role": "user",
                            "content": 'Describe <helicone-prompt-input key="city" />.',
                        },
                    ],
                },
            },
        )
        evaluator = await api.post("/v1/evaluator", CONCISE)
        await api.post(
            f"/v2/experiment/{experiment_id}/evaluators", {"evaluatorId": evaluator["id"]}
        )
        await api.post(f"/v2/experiment/{experiment_id}/run", {"promptVersionIds": [shout["id"]]})
        status = await wait_for_run(api, experiment_id)
        assert (status["succeeded"], status["failed"]) == (6, 0)
        await api.post(f"/v2/experiment/{experiment_id}/evaluators/run")
        scores = await api.get(f"/v1/helioscope/experiments/{experiment_id}/{shout['id']}/scores")
        assert scores["concise-hcone-bool"]["count"] == 3
        helicone = await api.get(f"/v2/experiment/{experiment_id}/{shout['id']}/scores")
        assert helicone["concise-hcone-bool"] == {
            k: v for k, v in scores["concise-hcone-bool"].items() if k != "count"
        }
        assert scores["concise-hcone-bool"]["value"] == 1.0
        rows = (await api.get(f"/v2/experiment/{experiment_id}"))["rows"]
        outputs = [c for r in rows for c in r["requests"] if c["prompt_version_id"] == shout["id"]]
        sent = [await api.get(f"/v1/request/{c['request_id']}") for c in outputs]
        assert sorted(s["request_body"]["messages"][1]["content"] for s in sent) == sorted(
            f"Describe {c}." for c in cities
        )
