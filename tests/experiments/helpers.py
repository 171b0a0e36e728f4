"""Shared helpers: log real calls through the gateway, and call the API as a client would."""

from __future__ import annotations

from typing import Any

from tests.conftest import Running
from tests.gateway.clients import openai_client, stored
from tests.running import loopback_client


async def log_call(hs: Running, content: str = "one two three", **headers: str) -> str:
    """Make one chat call through the gateway; return its logged request id."""
    async with openai_client(hs, **headers) as client:
        raw = await client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": content}]
        )
    request_id = str(raw.headers["helicone-id"])
    await stored(hs, request_id)
    return request_id


class Api:
    """The REST API with the organization's key; every answer is checked for the envelope."""

    def __init__(self, hs: Running, key: str | None = None) -> None:
        # Over the socket: experiment runs call the gateway back at the URL the API was called on.
        self.http = loopback_client(
            hs.url,
            headers={"authorization": f"Bearer {key or hs.key}"},
            timeout=30,
        )

    async def __aenter__(self) -> Api:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()

    async def call(self, method: str, path: str, json: Any = None, status: int = 200) -> Any:
        response = await self.http.request(method, path, json=json)
        assert response.status_code == status, (response.status_code, response.text)
        body = response.json()
        if status >= 400:
            assert body["data"] is None and body["error"]
            return body["error"]
        assert body["error"] is None
        return body["data"]

    async def post(self, path: str, json: Any = None, status: int = 200) -> Any:
        return await self.call("POST", path, json, status)

    async def get(self, path: str, status: int = 200) -> Any:
        return await self.call("GET", path, None, status)
