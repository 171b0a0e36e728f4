"""Helicone's worker-style async log routes: ``POST /{custom,oai,openai,anthropic,…}/v1/log``.

Ingestion is the busiest route there is: a client logging every call sends thousands of bodies a
second, and FastAPI's routing and dependency machinery cost as much as the work itself. So these
are raw routes (``RawRoutes``): ``HelioscopeApp`` dispatches their paths straight here, after
the same check as every operation (``access.admit``), and the OpenAPI document describes them
from the same declaration. The trace routes (``trace``) share every step after the HTTP
plumbing (``ingest_async_log``).
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.types import ASGIApp

from helioscope._asgi import Receive, Scope, Send, read_body, send_error, send_text
from helioscope.api.access import RawRoute, RawRoutes, caller
from helioscope.errors import BadRequest, HelioscopeError
from helioscope.ingest import LogWriter
from helioscope.ingest.asynclog import build_async_row, read_async_log
from helioscope.providers import ANTHROPIC, CUSTOM, GOOGLE, OPENAI, ProviderFormat
from helioscope.store import ApiKey

# Worker-style log routes: `timing` is required there, as in Helicone's worker.
WORKER_LOG_ROUTES: dict[str, ProviderFormat] = {
    "/custom/v1/log": CUSTOM,
    "/oai/v1/log": OPENAI,
    "/openai/v1/log": OPENAI,
    "/anthropic/v1/log": ANTHROPIC,
    "/googleapis/v1/log": GOOGLE,
}


async def ingest_async_log(
    body: bytes,
    helicone_headers: list[tuple[str, str]],
    key: ApiKey,
    writer: LogWriter,
    provider: ProviderFormat | None,
    timing_required: bool,
) -> str:
    """Validate an async log body, build its row, queue it; return its request id."""
    try:
        payload: Any = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"body: malformed JSON ({exc})") from exc
    log = read_async_log(payload, route_provider=provider, timing_required=timing_required)
    row = build_async_row(log, helicone_headers, key.organization_id, key.id)
    writer.enqueue(row)
    return row.request_id


def _serve(provider: ProviderFormat) -> ASGIApp:
    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 200 ``ok`` with the ``helicone-id`` header, or an envelope."""
        services = scope["app"].state.services
        helicone = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in scope["headers"]
            if name.startswith(b"helicone-")
        ]
        try:
            body = await read_body(receive, services.settings.max_request_body_bytes)
            request_id = await ingest_async_log(
                body, helicone, caller(scope), services.started.writer, provider, True
            )
        except HelioscopeError as exc:
            await send_error(send, exc.status, exc.message)
            return
        await send_text(send, 200, "ok", [(b"helicone-id", request_id.encode())])

    return serve


def _operation(path: str, provider: ProviderFormat) -> dict[str, Any]:
    return {
        "operationId": f"log_{path.strip('/').replace('/', '_')}",
        "summary": f"Log a {provider.name} call made without the proxy",
        "description": (
            "Helicone's async log (`AsyncLogModel`: `providerRequest`, `providerResponse`, "
            "`timing`), as its worker takes it: `timing` is required."
        ),
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        "responses": {
            "200": {
                "description": "Logged: `ok`, with the request's id in the `helicone-id` header.",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            }
        },
    }


ROUTES = RawRoutes(
    tag="Trace",
    routes=tuple(
        RawRoute(path, "POST", _serve(provider), _operation(path, provider))
        for path, provider in WORKER_LOG_ROUTES.items()
    ),
)
