"""``/health`` (liveness) and ``/health/ready`` (readiness): JSON, no key, nothing secret.

Ready means the store answers and the log writer is running; the body says how far behind the
writer is (seconds and records), how much the journal holds, and what it had to skip or drop,
so that an operator sees a writer in trouble instead of a gateway answering 200 while storing
nothing.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request

from helioscope.api.envelope import JsonResponse
from helioscope.store import keys

public = APIRouter(tags=["Health"])

_PROBE_SECONDS = 2.0


@public.get("/health", operation_id="GetHealth")
async def health() -> JsonResponse:
    """Liveness: the process serves requests."""
    return JsonResponse({"status": "ok"})


@public.get("/health/ready", operation_id="GetHealthReady")
async def ready(request: Request) -> JsonResponse:
    """Readiness: the store is reachable and the writer runs; its lag and the journal's state."""
    services: Any = request.app.state.services
    store: dict[str, Any] = {"reachable": True, "error": None}
    try:
        await asyncio.wait_for(services.store.read(keys.count_orgs), timeout=_PROBE_SECONDS)
        services.outage.up()
    except Exception as exc:
        services.outage.down("the readiness probe", exc)
        store = {"reachable": False, "error": services.outage.cause or type(exc).__name__}
    writer = await services.started.writer.report()
    ok = store["reachable"] and writer["running"]
    return JsonResponse(
        {"status": "ready" if ok else "unavailable", "store": store, "writer": writer},
        status_code=200 if ok else 503,
    )
