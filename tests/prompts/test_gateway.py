"""Prompts applied at the gateway, end to end: the real openai SDK, the fake provider, the log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anthropic
import openai
import orjson
import pytest
from openai.types.chat import ChatCompletionMessageParam

from helioscope.testing import FakeProvider
from tests.conftest import Running
from tests.gateway.clients import anthropic_client, openai_client, stored
from tests.prompts.api import Api

STORED = {
    "model": "gpt-4o-mini",
    "temperature": 0.2,
    "messages": [
        {"role": "system", "content": "You help {{hc:customer:string}}, aged {{hc:age:number}}."}
    ],
    "tools": [{"type": "function", "function": {"name": "lookup", "parameters": {}}}],
}


@pytest.fixture
async def api(helioscope: Running) -> AsyncIterator[Api]:
    client = Api(helioscope)
    yield client
    await client.aclose()


async def _create(api: Api, body: dict[str, Any] = STORED) -> tuple[str, str]:
    created = await api.call(
        "POST", "/v1/prompt-2025", {"name": "n", "tags": [], "promptBody": body}, status=201
    )
    return created["id"], created["versionId"]


async def test_a_2025_prompt_is_expanded_before_forwarding_and_logged(
    helioscope: Running, fake: FakeProvider, api: Api
) -> None:
    prompt_id, version_id = await _create(api)
    user: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Where is my order?"}]
    inputs = {"customer": "Ada", "age": 0}
    async with openai_client(helioscope) as client:
        raw = await client.chat.completions.with_raw_response.create(
            model="",  # no model: the prompt's is used
            messages=user,
            temperature=0.7,
            extra_body={"prompt_id": prompt_id, "inputs": inputs},
        )
    assert raw.parse().choices[0].message.content
    sent = fake.last.json()
    assert sent["model"] == "gpt-4o-mini"
    assert sent["temperature"] == 0.7  # the call's parameter wins
    assert sent["messages"] == [
        {"role": "system", "content": "You help Ada, aged 0."},
        {"role": "user", "content": "Where is my order?"},
    ]
    assert [t["function"]["name"] for t in sent["tools"]] == ["lookup"]
    assert not {"prompt_id", "inputs", "environment", "version_id"} & sent.keys()

    request_id = raw.headers["helicone-id"]
    row = await stored(helioscope, request_id)
    assert (row["prompt_id"], row["prompt_version"]) == (prompt_id, version_id)
    assert row["model"] == "gpt-4o-mini"
    # The version's inputs and the request filters see the call.
    got = await api.call(
        "GET", f"/v1/prompt-2025/id/{prompt_id}/{version_id}/inputs?requestId={request_id}"
    )
    assert got == {"request_id": request_id, "version_id": version_id, "inputs": inputs}
    records = await api.call("POST", f"/v1/prompt/version/{version_id}/inputs/query", {"limit": 10})
    assert [(r["source_request"], r["inputs"]) for r in records] == [(request_id, inputs)]
    matching = await api.call(
        "POST",
        "/v1/request/query",
        {"filter": {"request_response_rmt": {"prompt_id": {"equals": prompt_id}}}},
    )
    assert [r["request_id"] for r in matching] == [request_id]
    by_value = await api.call(
        "POST", "/v1/request/query", {"filter": {"values": {"customer": {"equals": "Ada"}}}}
    )
    assert [r["request_id"] for r in by_value] == [request_id]


async def test_environment_version_and_streaming(
    helioscope: Running, fake: FakeProvider, api: Api
) -> None:
    prompt_id, first = await _create(api)
    staged = await api.call(
        "POST",
        "/v1/prompt-2025/update",
        {
            "promptId": prompt_id,
            "promptVersionId": first,
            "newMajorVersion": True,
            "environment": "staging",
            "commitMessage": "terse",
            "promptBody": {**STORED, "messages": [{"role": "system", "content": "Be terse."}]},
        },
    )
    async with openai_client(helioscope) as client:
        stream = await client.chat.completions.create(
            model="gpt-4o",
            messages=[],
            stream=True,
            extra_body={"prompt_id": prompt_id, "environment": "staging"},
        )
        chunks = [chunk async for chunk in stream]
        assert chunks
        assert fake.last.json()["messages"] == [{"role": "system", "content": "Be terse."}]
        assert fake.last.json()["model"] == "gpt-4o"
        await client.chat.completions.create(
            model="gpt-4o",
            messages=[],
            extra_body={"prompt_id": prompt_id, "version_id": first, "inputs": {"age": "3"}},
        )
        # A missing variable stays in place; a given one is substituted.
        assert fake.last.json()["messages"][0]["content"] == (
            "You help {{hc:customer:string}}, aged 3."
        )
    assert staged["id"] != first


async def test_bad_prompt_calls_are_refused_before_going_upstream(
    helioscope: Running, fake: FakeProvider, api: Api
) -> None:
    prompt_id, _ = await _create(api)
    before = len(fake.calls)
    async with openai_client(helioscope) as client:
        with pytest.raises(openai.BadRequestError) as wrong_type:
            await client.chat.completions.create(
                model="m",
                messages=[],
                extra_body={"prompt_id": prompt_id, "inputs": {"age": "old"}},
            )
        with pytest.raises(openai.NotFoundError) as unknown:
            await client.chat.completions.create(
                model="m", messages=[], extra_body={"prompt_id": "nope00"}
            )
    assert wrong_type.value.response.json() == {
        "data": None,
        "error": "variable 'age' expects a number, got 'old'",
    }
    assert unknown.value.response.json()["error"] == "prompt nope00 not found"
    assert len(fake.calls) == before


async def test_partials_come_from_other_prompts(
    helioscope: Running, fake: FakeProvider, api: Api
) -> None:
    rules_id, _ = await _create(
        api, {"model": "m", "messages": [{"role": "system", "content": "Never lie."}]}
    )
    main_id, _ = await _create(
        api,
        {
            "model": "m",
            "messages": [{"role": "system", "content": f"{{{{hcp:{rules_id}:0}}}} Be kind."}],
        },
    )
    async with openai_client(helioscope) as client:
        await client.chat.completions.create(
            model="m", messages=[], extra_body={"prompt_id": main_id}
        )
    assert fake.last.json()["messages"][0]["content"] == "Never lie. Be kind."


async def test_a_warm_gateway_reads_prompts_from_memory(
    helioscope: Running, fake: FakeProvider, api: Api
) -> None:
    prompt_id, _ = await _create(api)
    cache = helioscope.services.store.prompts.selected
    async with openai_client(helioscope) as client:
        for _ in range(5):
            await client.chat.completions.create(
                model="m", messages=[], extra_body={"prompt_id": prompt_id, "inputs": {"age": 1}}
            )
        assert cache.misses == 1
        # A change through the API is seen by the next call.
        versions = await api.call("POST", "/v1/prompt-2025/query/versions", {"promptId": prompt_id})
        new = await api.call(
            "POST",
            "/v1/prompt-2025/update",
            {
                "promptId": prompt_id,
                "promptVersionId": versions[0]["id"],
                "newMajorVersion": False,
                "environment": "production",
                "commitMessage": "v2",
                "promptBody": {"model": "m", "messages": [{"role": "system", "content": "v2"}]},
            },
        )
        await client.chat.completions.create(
            model="m", messages=[], extra_body={"prompt_id": prompt_id}
        )
    assert fake.last.json()["messages"] == [{"role": "system", "content": "v2"}]
    assert new["id"]


def _input(key: str, value: str) -> str:
    return f'<helicone-prompt-input key="{key}">{value}</helicone-prompt-input>'


def _tagged(topic: str, audience: str) -> list[ChatCompletionMessageParam]:
    text = f"Write about {_input('topic', topic)} for {_input('audience', f' {audience} ')}."
    return [{"role": "user", "content": text}]


async def test_legacy_tags_are_stripped_and_the_template_versioned(
    helioscope: Running, fake: FakeProvider, api: Api
) -> None:
    async with openai_client(helioscope, **{"Helicone-Prompt-Id": "essay"}) as client:
        first = await client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=_tagged("cats", "kids")
        )
        assert fake.last.json()["messages"][0]["content"] == "Write about cats for  kids ."
        second = await client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=_tagged("dogs", "adults")
        )
        changed = _tagged("owls", "birds")
        changed.insert(0, {"role": "system", "content": "Be brief."})
        third = await client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=changed
        )
    rows = [await stored(helioscope, r.headers["helicone-id"]) for r in (first, second, third)]
    assert all(row["prompt_id"] == "essay" for row in rows)
    assert rows[0]["prompt_version"] == rows[1]["prompt_version"] != rows[2]["prompt_version"]
    assert rows[0]["prompt_inputs"] == {"topic": "cats", "audience": "kids"}
    assert orjson.loads(rows[0]["request_body"])["messages"][0]["content"] == (
        "Write about cats for  kids ."
    )

    prompts = await api.call(
        "POST",
        "/v1/prompt/query",
        {"filter": {"prompt_v2": {"user_defined_id": {"equals": "essay"}}}},
    )
    assert len(prompts) == 1 and prompts[0]["major_version"] == 1
    versions = await api.call("POST", f"/v1/prompt/{prompts[0]['id']}/versions/query", {})
    assert [(v["major_version"], v["id"]) for v in versions] == [
        (1, rows[2]["prompt_version"]),
        (0, rows[0]["prompt_version"]),
    ]
    assert [v["metadata"].get("isProduction") for v in versions] == [True, None]
    template = orjson.loads(versions[1]["helicone_template"])
    assert template["messages"][0]["content"] == (
        'Write about <helicone-prompt-input key="topic" /> for '
        '<helicone-prompt-input key="audience" />.'
    )
    inputs = await api.call(
        "POST", f"/v1/prompt/version/{versions[1]['id']}/inputs/query", {"limit": 10}
    )
    assert sorted(i["inputs"]["topic"] for i in inputs) == ["cats", "dogs"]
    assert {i["source_request"] for i in inputs} == {rows[0]["request_id"], rows[1]["request_id"]}
    compiled = await api.call("POST", "/v1/prompt/essay/compile", {"inputs": {"topic": "bees"}})
    assert compiled["id"] == rows[2]["prompt_version"]


async def test_a_responses_call_gets_the_prompt_too(
    helioscope: Running, fake: FakeProvider, api: Api
) -> None:
    prompt_id, version_id = await _create(api)
    async with openai_client(helioscope) as client:
        raw = await client.responses.with_raw_response.create(
            model="gpt-4o-mini",
            input="Where is my order?",
            extra_body={"prompt_id": prompt_id, "inputs": {"customer": "Bo", "age": 30}},
        )
    sent = fake.last
    assert sent.path == "/v1/responses"
    assert sent.json()["input"] == [
        {"role": "system", "content": "You help Bo, aged 30."},
        {"role": "user", "content": "Where is my order?"},
    ]
    assert sent.json()["tools"] == [{"type": "function", "name": "lookup", "parameters": {}}]
    row = await stored(helioscope, raw.headers["helicone-id"])
    assert row["prompt_version"] == version_id


async def test_an_anthropic_call_cannot_name_a_stored_prompt(
    helioscope: Running, fake: FakeProvider, api: Api
) -> None:
    prompt_id, _ = await _create(api)
    before = len(fake.calls)
    async with anthropic_client(helioscope) as client:
        with pytest.raises(anthropic.BadRequestError) as refused:
            await client.messages.create(
                model="claude-3-5-haiku-latest",
                max_tokens=10,
                messages=[{"role": "user", "content": "hi"}],
                extra_body={"prompt_id": prompt_id},
            )
    assert "OpenAI-format" in refused.value.response.json()["error"]
    assert len(fake.calls) == before
