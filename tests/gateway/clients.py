"""The official SDKs, pointed at a running Helioscope as a user would point them."""

from __future__ import annotations

import asyncio
from typing import Any

from anthropic import AsyncAnthropic
from openai import AsyncOpenAI

from helioscope.store.log import requests
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


async def stored(hs: Running, request_id: str, *, within: float = 5.0) -> dict[str, Any]:
    """The logged row of ``request_id``, waiting for the server to finish the call if need be
    (a call whose client hung up ends on the server a moment after the client stops)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        await hs.flush()
        row = await hs.services.store.log.org(hs.org_id).read(requests.get_request, request_id)
        if row is not None:
            return row
        assert asyncio.get_running_loop().time() < deadline, f"{request_id} was not logged"
        await asyncio.sleep(0.02)
