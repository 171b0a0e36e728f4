"""A call the gateway refuses after accepting it is logged with the body the client got.

Accepted means the key, the body and the model string were read, so the call has a log
record (and a ``Helicone-Id``); it may still end without an upstream answer: no entry of the
chain can take the body (found when the attempts are made), a body the one provider's format
cannot express, no upstream that can be reached. The log's response is then the gateway's
error as sent, with its status, and ``POST /v1/request/query`` shows it.
"""

from __future__ import annotations

from typing import Any

import openai
import pytest

from helioscope.testing import FakeProvider
from tests.ai_gateway.conftest import ai_client
from tests.conftest import Running
from tests.gateway.clients import stored

# The gateway in front of the store: its assertions hold on any engine (tests/conftest.py).
pytestmark = pytest.mark.one_engine

AUDIO: Any = [{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}]


async def _logged(hs: Running, error: openai.APIStatusError) -> dict[str, Any]:
    """The logged response of the call ``error`` answered, as the client got it."""
    got = error.response
    row = await stored(hs, got.headers["helicone-id"])
    assert row["status"] == got.status_code
    assert row["response_body"] == got.text  # the bytes the client got
    async with hs.http() as http:
        found = await http.post(
            "/v1/request/query",
            json={"filter": {"request": {"id": {"equals": got.headers["helicone-id"]}}}},
            headers={"authorization": f"Bearer {hs.key}"},
        )
    assert found.status_code == 200, found.text
    [logged] = found.json()["data"]
    assert logged["response_status"] == got.status_code
    assert logged["response_body"] == got.json()
    body: dict[str, Any] = logged["response_body"]
    return body


async def test_a_chain_none_of_whose_entries_can_take_the_body(
    keyed: Running, fake: FakeProvider
) -> None:
    """Found only as the attempts are made: each entry's mapping refuses the audio."""
    async with ai_client(keyed) as client:
        with pytest.raises(openai.BadRequestError) as caught:
            await client.chat.completions.create(
                model="claude-sonnet-4/anthropic,gemini-2.0-flash/google", messages=AUDIO
            )
    body = await _logged(keyed, caught.value)
    assert "no entry of the chain can be used" in body["error"]["message"]
    assert fake.calls == []


async def test_a_responses_body_the_provider_cannot_take(
    keyed: Running, fake: FakeProvider
) -> None:
    async with ai_client(keyed) as client:
        with pytest.raises(openai.BadRequestError) as caught:
            await client.responses.create(
                model="claude-sonnet-4/anthropic", input="And then?", previous_response_id="r_1"
            )
    body = await _logged(keyed, caught.value)
    assert "previous_response_id" in body["error"]["message"]
    assert fake.calls == []


async def test_an_upstream_that_cannot_be_reached(keyed: Running, fake: FakeProvider) -> None:
    fake.reset_next()
    async with ai_client(keyed) as client:
        with pytest.raises(openai.APIStatusError) as caught:
            await client.chat.completions.create(
                model="gpt-4o-mini/openai", messages=[{"role": "user", "content": "hello"}]
            )
    assert caught.value.status_code == 502
    body = await _logged(keyed, caught.value)
    assert "could not reach upstream" in body["error"]["message"]
