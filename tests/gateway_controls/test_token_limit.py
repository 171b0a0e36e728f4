from __future__ import annotations

from typing import Any

import pytest

from helioscope.gateway.controls._tokens import context_length, estimate_tokens, fit_to_context
from helioscope.testing import FakeProvider
from tests.conftest import Running
from tests.gateway.clients import PROVIDER_KEY, stored

# The gateway in front of the store: its assertions hold on any engine (tests/conftest.py).
pytestmark = pytest.mark.one_engine


@pytest.fixture
def backend() -> str:
    return "embedded"


def chat(model: str, *texts: str, **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": t} for t in texts], **extra}


def prompt_chars(body: dict[str, Any]) -> int:
    return sum(len(m["content"]) for m in body["messages"])


def test_context_lengths_and_estimates() -> None:
    assert context_length("gpt-4o-mini-2024-07-18") == 128_000
    assert context_length("gpt-4-0613") == 8_192
    assert context_length("openai/gpt-4") == 8_192
    assert context_length("claude-3-5-sonnet-20241022") == 200_000
    assert context_length("my-own-model") is None
    assert estimate_tokens(10) == 3


def test_truncate_normalises_and_trims_to_fit() -> None:
    # gpt-4: 8192 tokens, 192 for the answer -> 8000 tokens -> 32000 characters.
    body = chat("gpt-4", "a  b\n\n" + "x" * 40_000, max_tokens=192)
    fitted = fit_to_context(body, "truncate")
    assert fitted["messages"][0]["content"].startswith("a b x")
    assert prompt_chars(fitted) == 32_000


def test_middle_out_keeps_the_ends_and_drops_the_middle() -> None:
    text = "START" + "m" * 60_000 + "END"
    fitted = fit_to_context(chat("gpt-4", text), "middle-out")  # no max_tokens: 10 % reserved
    content = fitted["messages"][0]["content"]
    assert content.startswith("START") and content.endswith("END")
    assert estimate_tokens(len(content)) <= 8192 - 819


def test_a_prompt_that_fits_is_left_alone() -> None:
    body = chat("gpt-4", "short  text")
    assert fit_to_context(dict(body), "truncate") == body


def test_fallback_switches_to_the_second_model_only_when_needed() -> None:
    assert fit_to_context(chat("gpt-4,gpt-4o", "x" * 40_000), "fallback")["model"] == "gpt-4o"
    assert fit_to_context(chat("gpt-4, gpt-4o", "short"), "fallback")["model"] == "gpt-4"


async def test_the_gateway_sends_the_fitted_body(helioscope: Running, fake: FakeProvider) -> None:
    async with helioscope.http() as http:
        response = await http.post(
            "/oai/v1/chat/completions",
            json=chat("gpt-4,gpt-4o", "word " * 9000),
            headers={
                "authorization": f"Bearer {PROVIDER_KEY}",
                "helicone-auth": f"Bearer {helioscope.key}",
                "helicone-token-limit-exception-handler": "fallback",
            },
        )
        assert response.status_code == 200
        assert fake.last.json()["model"] == "gpt-4o"
        row = await stored(helioscope, response.headers["helicone-id"])
        assert row["request_model"] == "gpt-4o"

        bad = await http.post(
            "/oai/v1/chat/completions",
            json=chat("gpt-4", "hi"),
            headers={
                "helicone-auth": f"Bearer {helioscope.key}",
                "helicone-token-limit-exception-handler": "squeeze",
            },
        )
    assert bad.status_code == 400
    assert "truncate, middle-out, fallback" in bad.json()["error"]


def test_context_length_reads_ai_gateway_model_strings() -> None:
    assert context_length("gpt-4o/openai") == context_length("openai/gpt-4o") == 128_000
    assert context_length("claude-sonnet-4/anthropic") == 200_000
