"""Calls Helioscope makes through its own gateway, over HTTP to its own port.

Going through the gateway (not around it) means experiment and judge calls are logged like any
other call, with their ``Helicone-*`` properties, costs and bodies. Each batch of work uses a
temporary API key of the organization, deleted afterwards (as Helicone does). The provider key
comes from settings and is sent with each call only: it is not stored, and the gateway does not
log headers.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from helioscope.store import Store, keys


@dataclass(slots=True)
class GatewayReply:
    """What the gateway answered: the logged request's id, status and parsed body."""

    request_id: str
    status: int
    body: Any

    @property
    def error(self) -> str | None:
        """The provider's error text, or None for a success."""
        if 200 <= self.status < 300:
            return None
        detail = self.body
        if isinstance(detail, dict):
            inner = detail.get("error")
            detail = inner.get("message") if isinstance(inner, dict) else inner or detail
        return f"provider answered {self.status}: {str(detail)[:500]}"


# Each provider's chat route on the gateway, and the header its key travels in.
_ROUTES: dict[str, tuple[str, str, str]] = {
    "OPENAI": ("/oai/v1/chat/completions", "authorization", "Bearer {}"),
    "ANTHROPIC": ("/anthropic/v1/messages", "x-api-key", "{}"),
}


def route_of(provider: str | None) -> str:
    """The provider whose route a call takes: its own if the gateway has one, else OpenAI's.

    OpenAI's is the OpenAI-compatible route, the one Helicone's prompts default to.
    """
    name = (provider or "").upper()
    return name if name in _ROUTES else "OPENAI"


class SelfGateway:
    """Posts chat calls to the gateway's route of their provider, as the organization."""

    def __init__(
        self, store: Store, session: aiohttp.ClientSession, provider_keys: Mapping[str, str]
    ) -> None:
        self.store = store
        self.session = session
        self.provider_keys = dict(provider_keys)  # provider name -> key, e.g. {"OPENAI": ...}
        self.base_url: str | None = None

    @asynccontextmanager
    async def key_for(self, org_id: str) -> AsyncIterator[str]:
        """A temporary API key of ``org_id``, deleted when the block ends."""
        org = self.store.org(org_id)
        new = await org.write(keys.create_api_key, name="experiment run (temporary)")
        try:
            yield new.key
        finally:
            await org.write(keys.purge_api_key, new.id)

    async def chat(
        self,
        key: str,
        body: Mapping[str, Any],
        headers: Mapping[str, str],
        provider: str | None = None,
    ) -> GatewayReply:
        """One chat call through the gateway route of ``provider`` (OpenAI's by default).

        A transport failure is a 502 reply.
        """
        if self.base_url is None:
            raise RuntimeError("Helioscope does not know its own URL yet (set HELIOSCOPE_SELF_URL)")
        request_id = str(uuid.uuid4())
        sent = {
            "content-type": "application/json",
            "helicone-auth": f"Bearer {key}",
            "helicone-request-id": request_id,
            **headers,
        }
        path, header, form = _ROUTES[route_of(provider)]
        provider_key = self.provider_keys.get(route_of(provider))
        if provider_key:
            sent[header] = form.format(provider_key)
        url = f"{self.base_url}{path}"
        try:
            async with self.session.post(url, data=orjson.dumps(body), headers=sent) as response:
                raw = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            return GatewayReply(request_id, 502, {"error": f"gateway unreachable: {exc!r}"})
        try:
            parsed: Any = orjson.loads(raw)
        except orjson.JSONDecodeError:
            parsed = raw.decode(errors="replace")
        return GatewayReply(request_id, status, parsed)
