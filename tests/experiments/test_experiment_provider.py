"""A cell goes to the provider of its prompt version: an experiment from an Anthropic request
runs Claude through the Anthropic route (logged as ANTHROPIC, priced), with the Anthropic key."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from helioscope import Settings
from helioscope.testing import FakeProvider
from tests.conftest import Running
from tests.experiments.helpers import Api
from tests.gateway.clients import anthropic_client, stored

ANTHROPIC_KEY = "sk-ant-experiment-77"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Both experiment keys, so the test sees which one each route sends."""
    return settings.model_copy(update={"experiment_anthropic_api_key": SecretStr(ANTHROPIC_KEY)})


async def test_experiment_from_an_anthropic_request_runs_through_anthropic(
    helioscope: Running, fake: FakeProvider
) -> None:
    async with anthropic_client(helioscope) as client:
        raw = await client.messages.with_raw_response.create(
            model="claude-3-5-haiku-latest",
            max_tokens=64,
            system="Answer in French.",
            messages=[{"role": "user", "content": "Name a river."}],
        )
    request_id = raw.headers["helicone-id"]
    await stored(helioscope, request_id)
    async with Api(helioscope) as api:
        experiment_id = (await api.post(f"/v2/experiment/create/from-request/{request_id}"))[
            "experimentId"
        ]
        details = await api.get(f"/v2/experiment/{experiment_id}")
        (row,) = details["rows"]
        version = details["copied_original_prompt_version"]
        before = len(fake.calls)
        cell_request = await api.post(
            f"/v2/experiment/{experiment_id}/run-hypothesis",
            {"inputRecordId": row["id"], "promptVersionId": version},
        )
        await stored(helioscope, cell_request)
        logged = await api.get(f"/v1/request/{cell_request}")
    (upstream,) = fake.calls[before:]
    assert upstream.path == "/v1/messages"
    assert upstream.headers["x-api-key"] == ANTHROPIC_KEY
    assert upstream.json()["system"] == "Answer in French."
    assert logged["provider"] == "ANTHROPIC" and logged["response_status"] == 200
    assert logged["costUSD"] and logged["costUSD"] > 0
