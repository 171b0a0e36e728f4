"""The demo's HTTP client: calls through the gateway and the REST API, as a user's code would."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import orjson

# The fake provider accepts any key; this one only shows where a provider key would go.
DEMO_PROVIDER_KEY = "sk-demo-provider-key"


class DemoError(Exception):
    """A call of the demo's script failed: the demo cannot show what it meant to."""


class DemoClient:
    """Talks to one running Helioscope with one API key."""

    def __init__(self, session: aiohttp.ClientSession, url: str, key: str) -> None:
        self.session = session
        self.url = url.rstrip("/")
        self.key = key

    async def gateway(
        self, path: str, body: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, str]:
        """A provider call through the gateway; its status and ``Helicone-Id``."""
        sent = {"helicone-auth": f"Bearer {self.key}", **headers}
        async with self.session.post(self.url + path, data=orjson.dumps(body), headers=sent) as r:
            await r.read()  # a stream is read to its end, as a client would
            return r.status, r.headers.get("helicone-id", "")

    async def api(self, method: str, path: str, body: Any = None) -> Any:
        """A REST API call; its ``data`` (a failure is a ``DemoError``)."""
        headers = {"authorization": f"Bearer {self.key}", "content-type": "application/json"}
        data = None if body is None else orjson.dumps(body)
        async with self.session.request(method, self.url + path, data=data, headers=headers) as r:
            raw = await r.read()
        envelope = orjson.loads(raw) if raw else {}
        if r.status >= 400 or (isinstance(envelope, dict) and envelope.get("error")):
            raise DemoError(f"{method} {path}: HTTP {r.status} {raw[:300]!r}")
        return envelope.get("data") if isinstance(envelope, dict) else envelope

    async def stored(self, request_ids: list[str], timeout: float = 30.0) -> None:
        """Wait until the log writer has stored these requests."""
        wanted = {i for i in request_ids if i}
        for _ in range(int(timeout / 0.05)):
            found = await self.api("POST", "/v1/request/query-ids", {"requestIds": list(wanted)})
            if {r["request_id"] for r in found} >= wanted:
                return
            await asyncio.sleep(0.05)
        raise DemoError(f"{len(wanted)} requests were not stored within {timeout:.0f} s")


def openai_headers(extra: dict[str, str]) -> dict[str, str]:
    """Headers of an OpenAI SDK call (the provider key is the fake's)."""
    return {
        "authorization": f"Bearer {DEMO_PROVIDER_KEY}",
        "content-type": "application/json",
        **extra,
    }


def anthropic_headers(extra: dict[str, str]) -> dict[str, str]:
    """Headers of an Anthropic SDK call."""
    return {
        "x-api-key": DEMO_PROVIDER_KEY,
        "anthropic-version": "2023-06-01",
        "content-type": "application/json",
        **extra,
    }
