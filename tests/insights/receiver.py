"""A webhook receiver on loopback that checks every body's Helicone-Signature."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web


@dataclass
class Receiver:
    """Records deliveries; answers ``statuses`` in turn (then 200), optionally after a delay."""

    secret: str = ""
    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    url: str = ""
    attempts: list[bytes] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    bad_signatures: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.attempts.append(raw)
        expected = hmac.new(self.secret.encode(), raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get("Helicone-Signature", "")):
            self.bad_signatures += 1
            return web.Response(status=401)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.statuses:
            return web.Response(status=self.statuses.pop(0))
        self.bodies.append(orjson.loads(raw))
        self.arrived.set()
        return web.Response(status=200)

    async def wait_for(self, count: int, within: float = 10.0) -> list[dict[str, Any]]:
        """Wait until ``count`` bodies were accepted."""
        deadline = asyncio.get_running_loop().time() + within
        while len(self.bodies) < count:
            assert asyncio.get_running_loop().time() < deadline, (len(self.bodies), count)
            await asyncio.sleep(0.02)
        return self.bodies


@asynccontextmanager
async def receiving(path: str = "/hook") -> AsyncIterator[Receiver]:
    """A receiver serving on a free loopback port; ``.url`` is its address."""
    receiver = Receiver()
    app = web.Application()
    app.router.add_post(path, receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    receiver.url = f"http://127.0.0.1:{port}{path}"
    try:
        yield receiver
    finally:
        await runner.cleanup()
