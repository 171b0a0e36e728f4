"""What the AI Gateway refuses: OpenAI-shaped 4xx errors naming the problem, sent nowhere."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from helioscope.store import keys
from helioscope.testing import FakeProvider
from tests.ai_gateway.conftest import ai_client
from tests.conftest import Running
from tests.gateway.clients import stored

# The gateway in front of the store: its assertions hold on any engine (tests/conftest.py).
pytestmark = pytest.mark.one_engine

HELLO: Any = [{"role": "user", "content": "hello"}]


async def _post(
    hs: Running, body: Any, path: str = "/v1/chat/completions", **headers: str
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=hs.url) as http:
        content = body if isinstance(body, bytes) else None
        return await http.post(
            path,
            json=None if content is not None else body,
            content=content,
            headers={"authorization": f"Bearer {hs.key}", **headers},
        )


def _openai_error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    message: str = error["message"]
    return message


# Each list is checked in one test, against one server: a server per case would cost ~1.5 s each.
BAD_MODELS: list[tuple[Any, str]] = [
    (None, "model is required"),
    ("", "model is required"),
    (42, "model is required"),
    (
        "gpt-4o/openai,,claude-sonnet-4/anthropic",
        "an entry of the comma-separated chain is empty",
    ),
    ("/openai", "write it as <model>/<provider>"),
    ("gpt-4o/", "write it as <model>/<provider>"),
    ("gpt-4o/nosuchprovider", "unknown provider 'nosuchprovider'"),
    ("totally-unknown-model", "no known provider serves it"),
    ("mistral-large-latest", "no provider key for any of them"),
    ("llama3/ollama", "no provider key for ollama"),
    # A chain passes over an entry without a key (test_fallback); with none left, it names each.
    ("grok-3/xai,llama3/ollama", "[1] grok-3/xai: model grok-3/xai: this organization has no"),
    ("grok-3/xai,llama3/ollama", "[2] llama3/ollama: model llama3/ollama: this organization"),
    ("gpt-4o,!", "write an excluded provider as !<provider>"),
    ("!openai", "name a model besides the providers it excludes"),
    ("gpt-4o,!nosuchprovider", "!nosuchprovider excludes an unknown provider"),
    ("gpt-4o-mini/openai,!OpenAI", "every provider it names is excluded"),
]
BAD_BODIES: list[tuple[Any, str]] = [
    (b"{not json", "the body is not valid JSON"),
    (b"[1, 2]", "the body must be a JSON object"),
    ({"model": "gpt-4o"}, "messages must be a non-empty array"),
    ({"model": "gpt-4o", "messages": []}, "messages must be a non-empty array"),
    ({"model": "gpt-4o", "messages": ["hi"]}, "messages[0] must be an object"),
    ({"model": "gpt-4o", "messages": [{"role": "robot"}]}, "messages[0].role must be one of"),
    ({"model": "gpt-4o", "messages": HELLO, "stream": "yes"}, "stream must be true or false"),
]


async def test_bad_model_strings(keyed: Running, fake: FakeProvider) -> None:
    for model, problem in BAD_MODELS:
        body = {"messages": HELLO} if model is None else {"model": model, "messages": HELLO}
        message = _openai_error(await _post(keyed, body), 400)
        assert problem in message, (model, message)
    assert fake.calls == []


async def test_malformed_chat_bodies(keyed: Running, fake: FakeProvider) -> None:
    for body, problem in BAD_BODIES:
        message = _openai_error(await _post(keyed, body), 400)
        assert problem in message, (body, message)
    assert fake.calls == []


async def test_a_malformed_responses_body(keyed: Running, fake: FakeProvider) -> None:
    response = await _post(keyed, {"model": "gpt-4o"}, "/v1/responses")
    assert "input must be a string or an array" in _openai_error(response, 400)


async def test_what_a_provider_cannot_express_is_refused_before_sending(
    keyed: Running, fake: FakeProvider
) -> None:
    messages = [{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}]
    response = await _post(keyed, {"model": "claude-sonnet-4/anthropic", "messages": messages})
    message = _openai_error(response, 400)
    assert "claude-sonnet-4/anthropic" in message and "'input_audio'" in message
    assert fake.calls == []


async def test_a_provider_error_comes_back_in_openai_shape(
    keyed: Running, fake: FakeProvider
) -> None:
    """Anthropic refuses a conversation that opens with the assistant; the SDK reads why."""
    messages: Any = [{"role": "assistant", "content": "hi"}, {"role": "user", "content": "hello"}]
    async with ai_client(keyed) as client:
        with pytest.raises(openai.BadRequestError) as caught:
            await client.chat.completions.create(
                model="claude-sonnet-4/anthropic", messages=messages
            )
    assert "the first message must use the 'user' role" in caught.value.message
    body: Any = caught.value.body
    assert body["type"] == "invalid_request_error"


async def test_a_gemini_error_comes_back_in_openai_shape(
    keyed: Running, fake: FakeProvider
) -> None:
    fake.fail_next(429, path="/v1beta")
    async with ai_client(keyed) as client:
        with pytest.raises(openai.RateLimitError) as caught:
            await client.chat.completions.create(model="gemini-2.0-flash/google", messages=HELLO)
    body: Any = caught.value.body
    assert body["code"] == "resource_exhausted"
    # Neither Gemini's body nor its error names the model: the log has it all the same.
    row = await stored(keyed, caught.value.response.headers["helicone-id"])
    assert (row["status"], row["provider"]) == (429, "GOOGLE")
    assert (row["model"], row["request_model"]) == ("gemini-2.0-flash", "gemini-2.0-flash")


async def test_keys_and_scopes(keyed: Running, fake: FakeProvider) -> None:
    body = {"model": "gpt-4o-mini", "messages": HELLO}
    async with httpx.AsyncClient(base_url=keyed.url) as http:
        missing = await http.post("/v1/chat/completions", json=body)
        wrong = await http.post(
            "/v1/chat/completions", json=body, headers={"authorization": "Bearer sk-helicone-nope"}
        )
    assert "Helicone authorization is missing" in _openai_error(missing, 401)
    assert _openai_error(wrong, 401) == "Helicone API key is not valid"
    store = keyed.services.store
    read_only = await store.org(keyed.org_id).write(keys.create_api_key, "reader", "r")
    refused = await _post(Running(keyed.url, keyed.services, keyed.org_id, read_only.key), body)
    assert "needs the write scope" in _openai_error(refused, 403)
    assert fake.calls == []


async def test_a_body_mapping_header_must_be_known(keyed: Running) -> None:
    body = {"model": "gpt-4o-mini", "messages": HELLO}
    response = await _post(keyed, body, **{"Helicone-Gateway-Body-Mapping": "XML"})
    assert "must be OPENAI, RESPONSES or NO_MAPPING" in _openai_error(response, 400)


async def test_no_mapping_on_chat_needs_an_openai_format_provider(
    keyed: Running, fake: FakeProvider
) -> None:
    body = {"model": "claude-sonnet-4/anthropic", "messages": HELLO}
    response = await _post(keyed, body, **{"Helicone-Gateway-Body-Mapping": "NO_MAPPING"})
    assert "NO_MAPPING passes the body through unchanged" in _openai_error(response, 400)
    assert fake.calls == []
