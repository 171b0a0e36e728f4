"""The app in process (its lifespan running, no socket), with organizations and keys by scope."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from helioscope import Settings, create_app
from helioscope.app import HelioscopeApp
from helioscope.services import Services
from helioscope.store import keys

SCOPES = ("r", "w", "rw")


@dataclass
class Org:
    """An organization and one key of each scope."""

    id: str
    keys: dict[str, str] = field(default_factory=dict)  # "r" | "w" | "rw" -> clear key
    key_ids: dict[str, int] = field(default_factory=dict)


@dataclass
class InProcess:
    """An in-process client of a running app."""

    app: HelioscopeApp
    services: Services
    http: httpx.AsyncClient

    async def add_org(self, name: str) -> Org:
        """Create an organization with an ``r``, a ``w`` and an ``rw`` key."""
        store = self.services.store
        org = await store.write(keys.get_or_create_org, name)
        made = Org(org.id)
        for scope in SCOPES:
            new = await store.org(org.id).write(keys.create_api_key, f"{name}-{scope}", scope)
            made.keys[scope], made.key_ids[scope] = new.key, new.id
        return made

    async def call(
        self, method: str, path: str, key: str | None = None, json: Any = None
    ) -> httpx.Response:
        """One request, with ``key`` as a bearer token (none if ``None``)."""
        headers = {"authorization": f"Bearer {key}"} if key else {}
        return await self.http.request(method, path, json=json, headers=headers)

    async def data(self, method: str, path: str, key: str, json: Any = None) -> Any:
        """The envelope's data of a call that must succeed."""
        response = await self.call(method, path, key, json)
        assert response.status_code < 300, (method, path, response.status_code, response.text)
        return response.json()["data"] if response.content else None


@asynccontextmanager
async def in_process(settings: Settings) -> AsyncIterator[InProcess]:
    """The app built from ``settings``, running, with an httpx client bound to it."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hs") as http:
            yield InProcess(app, app.state.services, http)


def operations(app: HelioscopeApp) -> list[tuple[str, str, dict[str, Any]]]:
    """Every operation of the app's OpenAPI document: (method, path template, operation)."""
    return [
        (method.upper(), path, operation)
        for path, item in sorted(app.openapi()["paths"].items())
        for method, operation in sorted(item.items())
    ]


def fill(path: str, values: dict[str, str] | None = None, default: str = "zz-param") -> str:
    """``path`` with each ``{param}`` replaced by ``values[param]``, else ``default``."""
    values = values or {}
    return re.sub(r"\{([^}]+)\}", lambda m: values.get(m.group(1), default), path)
