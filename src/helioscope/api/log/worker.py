"""The async log endpoints' hot path, as raw ASGI.

Ingestion is the busiest route there is: a client logging every call sends thousands of bodies a
second. FastAPI's routing and dependency machinery cost as much as the work itself, so
``HelioscopeApp`` sends ``POST /{custom,oai,openai,anthropic,googleapis}/v1/log`` here. The
FastAPI routes in ``asynclog`` describe the same endpoints in the OpenAPI document and share
every step below (``ingest_async_log``); only the HTTP plumbing differs.
"""

from __future__ import annotations

from typing import Any

import orjson

from helioscope._asgi import Receive, Scope, Send, read_body, send_error, send_text
from helioscope.auth import WRITE, KeyCache, api_key_text
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
    await writer.put(row)
    return row.request_id


async def serve_worker_log(
    scope: Scope,
    receive: Receive,
    send: Send,
    *,
    keys: KeyCache,
    writer: LogWriter,
    limit: int,
) -> None:
    """Serve one ``POST …/v1/log``: 200 ``ok`` with the ``helicone-id`` header, or an envelope."""
    helicone: list[tuple[str, str]] = []
    helicone_auth = authorization = None
    for name, value in scope["headers"]:
        if name.startswith(b"helicone-"):
            helicone.append((name.decode("latin-1"), value.decode("latin-1")))
            if name == b"helicone-auth":
                helicone_auth = helicone[-1][1]
        elif name == b"authorization":
            authorization = value.decode("latin-1")
    try:
        key = await keys.resolve(api_key_text(helicone_auth, authorization), WRITE)
        body = await read_body(receive, limit)
        provider = WORKER_LOG_ROUTES[scope["path"]]
        request_id = await ingest_async_log(body, helicone, key, writer, provider, True)
    except HelioscopeError as exc:
        await send_error(send, exc.status, exc.message)
        return
    await send_text(send, 200, "ok", [(b"helicone-id", request_id.encode())])
