"""``/health`` (liveness) and ``/health/ready`` (readiness): JSON, no key, nothing secret.

The gateway journals every call before anything else happens to it, so it keeps taking traffic
while the store is down or the writer behind: readiness is 503 only when taking traffic would
lose records or refuse every call, so that a store outage does not take every replica out of
a load balancer's rotation at once. ``status``:

- ``ready`` (200): the store answers and the writer runs.
- ``degraded`` (200): calls are served and journalled, but the store is unreachable, or the
  writer is not running or failing: records wait in the journal (``writer.lag_*`` says how
  many, and for how long); calls with keys not seen since the outage began answer 503.
- ``unavailable`` (503): this process's journal is failing (a full disk: records are lost),
  the process is starting or shutting down, or the store has not been reached once since
  this process started (no key can be checked: every call would be refused).

``reasons`` says why, in words. ``writer`` is the log writer's state, the same from every
worker of ``serve --workers`` (``ingest._shared``); ``worker`` is this process's own counts.
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
    """Readiness: whether calls may be sent here; the store's and the writer's state."""
    services: Any = request.app.state.services
    if services.stopping or not services.is_running:
        reason = "shutting down" if services.stopping else "starting"
        return JsonResponse({"status": "unavailable", "reasons": [reason]}, status_code=503)
    store: dict[str, Any] = {"reachable": True, "error": None}
    try:
        await asyncio.wait_for(services.store.read(keys.count_orgs), timeout=_PROBE_SECONDS)
        services.outage.up()
    except Exception as exc:
        services.outage.down("the readiness probe", exc)
        store = {"reachable": False, "error": services.outage.cause or type(exc).__name__}
    writer_service = services.started.writer
    writer = await writer_service.report()
    worker = writer_service.own_counts()
    lost = []  # taking traffic would lose records, or refuse every call
    if worker["journal_failing"]:
        lost.append("this worker cannot journal (records are lost)")
    if not store["reachable"] and not services.outage.reached:
        lost.append("the store has not been reached since start (no key can be checked)")
    waiting = []  # calls are served and journalled; records wait in the journal
    if not store["reachable"]:
        waiting.append("the store is unreachable")
    if not writer["running"]:
        waiting.append("the log writer is not running")
    elif writer["failing"]:
        waiting.append("the log writer is failing")
    status = "unavailable" if lost else "degraded" if waiting else "ready"
    return JsonResponse(
        {
            "status": status,
            "reasons": lost + waiting,
            "store": store,
            "writer": writer,
            "worker": worker,
        },
        status_code=503 if lost else 200,
    )
