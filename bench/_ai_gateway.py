"""The AI Gateway's targets for ``bench/gateway.py --ai-gateway``.

A translated call (OpenAI's chat format in, Anthropic's Messages API upstream, the answer mapped
back) against the same call made directly to the (fake) Anthropic upstream, with the very body
the gateway sends it, so the two differ only by the gateway.
"""

from __future__ import annotations

import httpx
import orjson

from helioscope.providers.anthropic_chat import chat_to_anthropic

SECRET = "bench-vault-secret-0123456789abcdef"  # the server's HELIOSCOPE_SECRET_KEY
MODEL = "claude-3-5-sonnet-20241022"
_CHAT = {
    "model": f"{MODEL}/anthropic",
    "messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Give me one word for happy, please."},
    ],
}

AiTarget = tuple[str, dict[str, str], int, bytes, str]  # url, headers, status, body, baseline


def store_key(gateway: str, key: str) -> None:
    """Store the Anthropic key the AI Gateway calls use (through Helicone's route)."""
    response = httpx.post(
        f"{gateway}/v1/api-keys/provider-key",
        json={
            "providerName": "anthropic",
            "providerKey": "sk-ant-bench",
            "providerKeyName": "bench",
            "config": {},
        },
        headers={"authorization": f"Bearer {key}"},
    )
    response.raise_for_status()


def ai_targets(direct: str, gateway: str, key: str, stream: bool) -> dict[str, AiTarget]:
    """The direct Anthropic call (the baseline) and the translated one through the gateway."""
    chat = {**_CHAT, "stream": True} if stream else _CHAT
    anthropic = chat_to_anthropic({**chat, "model": MODEL}, MODEL)
    direct_headers = {
        "content-type": "application/json",
        "x-api-key": "sk-ant-bench",
        "anthropic-version": "2023-06-01",
    }
    gateway_headers = {"content-type": "application/json", "authorization": f"Bearer {key}"}
    return {
        "anthropic-direct": (
            f"{direct}/v1/messages",
            direct_headers,
            200,
            orjson.dumps(anthropic),
            "anthropic-direct",
        ),
        "ai-gateway": (
            f"{gateway}/v1/chat/completions",
            gateway_headers,
            200,
            orjson.dumps(chat),
            "anthropic-direct",
        ),
    }
