"""Evaluator CRUD, tests, statistics, online evaluators; evals; scores in the request API."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from tests.conftest import Running
from tests.experiments.helpers import Api, log_call

# These routes read the log: they run with it in ClickHouse too (tests/conftest.py).
pytestmark = pytest.mark.clickhouse

CODE = {
    "name": "Has Hello",
    "scoring_type": "BOOLEAN",
    "code_template": "print('hello' in response_body.lower())",
}
JUDGE_TEXT = '{"messages": [{"role": "user", "content": "{{outputs}}"}]}'
JUDGE = {
    "name": "Quality",
    "scoring_type": "LLM-CHOICE",
    "llm_template": {
        "choices": [1, 2, 3],
        "messages": [{"role": "user", "content": "Grade: {{outputs}}"}],
    },
}


async def test_evaluator_crud_and_bad_input(helioscope: Running) -> None:
    async with Api(helioscope) as api:
        created = await api.post("/v1/evaluator", CODE)
        assert created["name"] == "Has Hello" and created["organization_id"] == helioscope.org_id
        assert created["code_template"] == CODE["code_template"]
        assert created["created_at"].endswith("Z")
        evaluator_id = created["id"]
        assert (await api.get(f"/v1/evaluator/{evaluator_id}"))["id"] == evaluator_id
        updated = await api.call("PUT", f"/v1/evaluator/{evaluator_id}", {"name": "Greets"})
        assert updated["name"] == "Greets" and updated["code_template"] == CODE["code_template"]
        judge = await api.post("/v1/evaluator", JUDGE)
        listed = await api.post("/v1/evaluator/query", {})
        assert {e["id"] for e in listed} == {evaluator_id, judge["id"]}
        assert await api.get(f"/v1/evaluator/{evaluator_id}/experiments") == []

        error = await api.post("/v1/evaluator", {"name": "x", "scoring_type": "LLM-NOPE"}, 400)
        assert "code_template or an llm_template" in error
        error = await api.post("/v1/evaluator", {**JUDGE, "scoring_type": "LLM-MAYBE"}, status=400)
        assert "scoring_type must be one of" in error
        await api.post("/v1/evaluator", {**JUDGE, "llm_template": "not json"}, 400)

        _, other_key = await helioscope.add_org("other")
        async with Api(helioscope, other_key) as other:
            await other.get(f"/v1/evaluator/{evaluator_id}", 404)
            assert await other.post("/v1/evaluator/query", {}) == []
        await api.call("DELETE", f"/v1/evaluator/{evaluator_id}")
        await api.get(f"/v1/evaluator/{evaluator_id}", 404)


async def test_python_and_llm_tests(helioscope: Running) -> None:
    test_input = {
        "inputBody": '{"messages": [{"role": "user", "content": "hi"}]}',
        "outputBody": '{"choices": [{"message": {"content": "Hello there"}}]}',
        "inputs": {"inputs": {"topic": "greetings"}},
    }
    async with Api(helioscope) as api:
        ok = await api.post(
            "/v1/evaluator/python/test",
            {
                "code": "print(inputs['topic'])\nprint(len(response['choices']))",
                "testInput": test_input,
            },
        )
        assert ok == {"output": "1", "traces": ["greetings", "1"], "statusCode": 200}
        looped = await api.post(
            "/v1/evaluator/python/test", {"code": "while True: pass", "testInput": test_input}
        )
        assert looped["statusCode"] == 400 and "time limit" in looped["output"]
        scored = await api.post(
            "/v1/evaluator/llm/test",
            {
                "evaluatorName": "Quality",
                "testInput": test_input,
                "evaluatorConfig": {
                    "evaluator_scoring_type": "LLM-BOOLEAN",
                    "evaluator_llm_template": JUDGE_TEXT,
                },
            },
        )
        assert isinstance(scored["score"], bool)
        error = await api.post(
            "/v1/evaluator/lastmile/test", {"testInput": test_input, "config": {}}, status=400
        )
        assert "LastMile" in error


async def wait_for_score(api: Api, request_id: str, key: str) -> dict[str, Any]:
    for _ in range(200):
        row = await api.get(f"/v1/request/{request_id}")
        if key in row["scores"]:
            return dict(row["scores"])
        await asyncio.sleep(0.05)
    raise AssertionError(f"{key} never scored {request_id}")


async def test_online_evaluators_score_matching_logs(helioscope: Running) -> None:
    async with Api(helioscope) as api:
        code = await api.post("/v1/evaluator", CODE)
        judge = await api.post("/v1/evaluator", JUDGE)
        await api.post(
            f"/v1/evaluator/{code['id']}/onlineEvaluators",
            {
                "config": {
                    "sampleRate": 100,
                    "filter": {"request_response_rmt": {"model": {"equals": "gpt-4o-mini"}}},
                    "propertyFilters": [{"key": "team", "value": "search"}],
                }
            },
        )
        await api.post(
            f"/v1/evaluator/{judge['id']}/onlineEvaluators", {"config": {"sampleRate": 0}}
        )
        online = await api.get(f"/v1/evaluator/{code['id']}/onlineEvaluators")
        assert len(online) == 1 and online[0]["config"]["sampleRate"] == 100
        await api.post(
            f"/v1/evaluator/{code['id']}/onlineEvaluators", {"config": {"sampleRate": 101}}, 400
        )
        await api.post(
            f"/v1/evaluator/{code['id']}/onlineEvaluators",
            {"config": {"filter": {"request_response_rmt": {"nope": {"equals": 1}}}}},
            400,
        )

        matching = await log_call(helioscope, "hi", **{"Helicone-Property-Team": "search"})
        other = await log_call(helioscope, "hi", **{"Helicone-Property-Team": "ads"})
        scores = await wait_for_score(api, matching, "has_hello-hcone-bool")
        assert scores == {"has_hello-hcone-bool": 1}
        await asyncio.sleep(0.3)
        assert (await api.get(f"/v1/request/{other}"))["scores"] == {}

        await api.call("DELETE", f"/v1/evaluator/{code['id']}/onlineEvaluators/{online[0]['id']}")
        assert await api.get(f"/v1/evaluator/{code['id']}/onlineEvaluators") == []
        stats = await api.get(f"/v1/evaluator/{code['id']}/stats")
        assert (stats["averageScore"], stats["totalUses"]) == (1.0, 1)
        assert stats["scoreDistribution"] == [{"range": "1", "count": 1}]


async def test_evals_and_score_filters(helioscope: Running) -> None:
    a = await log_call(helioscope, "one")
    b = await log_call(helioscope, "two")
    async with Api(helioscope) as api:
        await api.post(f"/v1/evals/{a}", {"name": "accuracy", "score": 0.5})
        await api.post(f"/v1/evals/{b}", {"name": "accuracy", "score": 1.0})
        await api.post(f"/v1/request/{a}/score", {"scores": {"safe": True}})
        await api.post("/v1/evals/missing", {"name": "accuracy", "score": 1}, status=404)
        assert await api.get("/v1/evals/scores") == ["accuracy", "safe-hcone-bool"]

        now = dt.datetime.now(dt.UTC)
        window = {
            "start": (now - dt.timedelta(hours=1)).isoformat(),
            "end": (now + dt.timedelta(hours=1)).isoformat(),
        }
        evals = await api.post("/v1/evals/query", {"filter": "all", "timeFilter": window})
        accuracy = next(e for e in evals if e["name"] == "accuracy")
        assert (accuracy["averageScore"], accuracy["minScore"], accuracy["maxScore"]) == (
            0.75,
            0.5,
            1.0,
        )
        assert accuracy["count"] == 2
        assert accuracy["overTime"] == [{"date": now.date().isoformat(), "count": 2}]
        assert accuracy["averageOverTime"] == [{"date": now.date().isoformat(), "value": 0.75}]
        only_a = await api.post(
            "/v1/evals/query",
            {
                "filter": {"request_response_rmt": {"request_id": {"equals": a}}},
                "timeFilter": window,
            },
        )
        assert {e["name"]: e["count"] for e in only_a} == {"accuracy": 1, "safe-hcone-bool": 1}
        distributions = await api.post(
            "/v1/evals/score-distributions/query", {"filter": "all", "timeFilter": window}
        )
        safe = next(d for d in distributions if d["name"] == "safe-hcone-bool")
        assert safe["distribution"] == [
            {"lower": 0.0, "upper": 0.0, "value": 0.0},
            {"lower": 1.0, "upper": 1.0, "value": 1.0},
        ]
        await api.post("/v1/evals/query", {"filter": "all", "timeFilter": {"start": "x"}}, 400)

        # Score filters in the request API see the same scores.
        high = await api.post(
            "/v1/request/query",
            {"filter": {"request_response_rmt": {"scores": {"accuracy": {"gte": 0.9}}}}},
        )
        assert [r["request_id"] for r in high] == [b]
