"""The official SDKs, pointed at a running Helioscope as a user would point them."""

from __future__ import annotations

from typing import Any

from anthropic import AsyncAnthropic
from openai import AsyncOpenAI

from tests.conftest import Running

PROVIDER_KEY = "sk-provider-secret-123"


def openai_client(hs: Running, *, prefix: str = "/oai", **headers: str) -> AsyncOpenAI:
    return AsyncOpenAI(
        base_url=f"{hs.url}{prefix}/v1",
        api_key=PROVIDER_KEY,
        max_retries=0,
        default_headers={"Helicone-Auth": f"Bearer {hs.key}", **headers},
    )


def anthropic_client(hs: Running, **headers: str) -> AsyncAnthropic:
    return AsyncAnthropic(
        base_url=f"{hs.url}/anthropic",
        api_key=PROVIDER_KEY,
        max_retries=0,
        default_headers={"Helicone-Auth": f"Bearer {hs.key}", **headers},
    )


async def stored(hs: Running, request_id: str) -> dict[str, Any]:
    await hs.flush()
    row = await hs.services.store.get_request(hs.org_id, request_id)
    assert row is not None, f"request {request_id} was not logged"
    return row
