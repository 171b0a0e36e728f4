"""The official SDKs, pointed at a running Helioscope as a user would point them.

They call the app in process, or through its real socket when given ``hs.on_socket()``: tests
of the gateway's wire (streams, disconnects, the SDKs' own HTTP stack) need the socket.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx2
from anthropic import AsyncAnthropic
from openai import AsyncOpenAI

from helioscope.store.log import requests
from tests.conftest import Running
from tests.running import IN_PROCESS_URL

PROVIDER_KEY = "sk-provider-secret-123"


def _sdk_http(hs: Running) -> tuple[str, httpx2.AsyncClient | None]:
    """The base URL and HTTP client for an SDK: in process, or the SDK's own over the socket.

    Both SDKs bring their own fork of httpx (httpx2), whose client they insist on.
    """
    if hs.app is None:
        return hs.url, None
    transport = httpx2.ASGITransport(app=hs.app)
    return IN_PROCESS_URL, httpx2.AsyncClient(transport=transport, base_url=IN_PROCESS_URL)


def openai_client(hs: Running, *, prefix: str = "/oai", **headers: str) -> AsyncOpenAI:
    base, http = _sdk_http(hs)
    return AsyncOpenAI(
        base_url=f"{base}{prefix}/v1",
        api_key=PROVIDER_KEY,
        max_retries=0,
        default_headers={"Helicone-Auth": f"Bearer {hs.key}", **headers},
        http_client=http,
    )


def anthropic_client(hs: Running, **headers: str) -> AsyncAnthropic:
    base, http = _sdk_http(hs)
    return AsyncAnthropic(
        base_url=f"{base}/anthropic",
        api_key=PROVIDER_KEY,
        max_retries=0,
        default_headers={"Helicone-Auth": f"Bearer {hs.key}", **headers},
        http_client=http,
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
