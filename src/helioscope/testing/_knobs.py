"""How the fake provider shapes an answer: status, delays, gzip, and the responses it sends."""

from __future__ import annotations

import asyncio
import gzip
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse


def sse(events: Sequence[tuple[str | None, Any]]) -> list[bytes]:
    """Server-sent events: ``event:`` when named, then ``data:`` (JSON, or a string as is)."""
    out = []
    for name, data in events:
        payload = data if isinstance(data, str) else orjson.dumps(data).decode()
        prefix = f"event: {name}\n" if name else ""
        out.append(f"{prefix}data: {payload}\n\n".encode())
    return out


def json_response(payload: Any, status: int = 200) -> Response:
    """A JSON response."""
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json")


@dataclass(slots=True)
class Knobs:
    """The steering a request carries (``x-fake-*`` headers, or a queued failure)."""

    status: int
    first_delay: float
    chunk_delay: float
    cache_read: int
    gzip: bool
    retry_after: str | None = None

    @classmethod
    def from_request(cls, request: Request) -> Knobs:
        """Read the ``x-fake-*`` headers."""
        h = request.headers
        return cls(
            status=int(h.get("x-fake-status", "200")),
            first_delay=int(h.get("x-fake-first-token-delay-ms", "0")) / 1000,
            chunk_delay=int(h.get("x-fake-chunk-delay-ms", "0")) / 1000,
            cache_read=int(h.get("x-fake-cache-read-tokens", "0")),
            gzip=h.get("x-fake-gzip") == "1",
        )

    def error(self, payload: Any) -> Response:
        """The error answer, with ``Retry-After`` when one was asked for."""
        response = json_response(payload, self.status)
        if self.retry_after is not None:
            response.headers["retry-after"] = self.retry_after
        return response

    async def json(self, payload: Any) -> Response:
        """A JSON answer after the first-token delay (gzipped when asked)."""
        if self.first_delay:
            await asyncio.sleep(self.first_delay)
        body = orjson.dumps(payload)
        if self.gzip:
            return Response(
                gzip.compress(body),
                media_type="application/json",
                headers={"content-encoding": "gzip"},
            )
        return Response(body, media_type="application/json")

    def stream(self, chunks: list[bytes]) -> Response:
        """An SSE answer, chunk by chunk, with the configured delays."""

        async def body() -> AsyncIterator[bytes]:
            if self.first_delay:
                await asyncio.sleep(self.first_delay)
            for index, chunk in enumerate(chunks):
                if index and self.chunk_delay:
                    await asyncio.sleep(self.chunk_delay)
                yield chunk

        return StreamingResponse(
            body(),
            media_type="text/event-stream",
            headers={"cache-control": "no-cache", "x-fake-started": str(time.time())},
        )
