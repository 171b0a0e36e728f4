"""What the route table costs: the one check on the async-log hot path, and a new app's start.

1. ``POST /custom/v1/log`` through the whole app (dispatch table, the check: key from headers,
   body bound, then the raw handler) against the same raw handler called with the key already
   admitted, in process, alternating within each round so both see the same machine load.
2. A new app's first API answer against its second, on a route near the end of the table:
   the table's routes are built once per process and shared, so a new app (every in-process
   test builds one) answers at once. (FastAPI 0.165's ``include_router`` built each included
   route again on an app's first request that reached it: 1.8 s for the last ones here.)

Prints p50/p95 in µs and the ratios.

    python bench/route_table.py [--rounds 3000] [--apps 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._alternate import Call, alternate
from bench.ingest import body
from helioscope import Settings, create_app
from helioscope.api.access import CALLER
from helioscope.api.log import worker
from helioscope.store import keys


def _caller(asgi: Any, path: str, key: str, payload: bytes, **extra: Any) -> Call:
    """One POST as raw ASGI to ``asgi``, with ``extra`` entries in its scope; returns the status."""
    headers = [
        (b"authorization", f"Bearer {key}".encode()),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]

    async def call() -> int:
        scope = {"type": "http", "method": "POST", "path": path, "headers": headers, **extra}
        scope.update(query_string=b"", root_path="", state=dict(extra.get("state", {})))
        sent: list[Any] = []
        messages = [{"type": "http.request", "body": payload, "more_body": False}]

        async def receive() -> Any:
            return messages.pop() if messages else {"type": "http.disconnect"}

        async def send(message: Any) -> None:
            sent.append(message)

        await asgi(scope, receive, send)
        status: int = sent[0]["status"]
        return status

    return call


async def compare(rounds: int, baseline: Call, checked: Call) -> None:
    """Alternate the two calls; print p50/p95 (µs) and the checked path's ratio."""
    assert await baseline() == 200 and await checked() == 200
    (b50, b95), (c50, c95) = await alternate(rounds, baseline, checked, warm=50)
    print(
        f"POST /custom/v1/log, {rounds} rounds: handler alone p50 {b50:.0f} µs p95 {b95:.0f} µs;"
        f" through the dispatch table and the check p50 {c50:.0f} µs p95 {c95:.0f} µs "
        f"(x{c50 / b50:.2f} at p50, +{c50 - b50:.0f} µs)"
    )


async def first_answers(settings: Settings, apps: int) -> None:
    """Build ``apps`` apps; time each one's first and second answer to an API read."""
    first: list[float] = []
    second: list[float] = []
    for _ in range(apps):
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            store = app.state.services.store
            org = await store.write(keys.get_or_create_org, "bench")
            key = (await store.org(org.id).write(keys.create_api_key)).key
            # A route near the end of the table: routes are matched in order.
            count = _caller(app, "/v1/helioscope/requests/query", key, b"{}")
            for samples in (first, second):
                start = time.perf_counter()
                assert await count() == 200
                samples.append((time.perf_counter() - start) * 1e3)
    f50, s50 = statistics.median(first), statistics.median(second)
    print(
        f"a new app, {apps} apps: first API answer p50 {f50:.1f} ms, second {s50:.1f} ms "
        f"(x{f50 / s50:.1f})"
    )


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=f"sqlite:///{tmp}/bench.db",
            bootstrap_default_org=False,
            journal_dir=Path(tmp) / "journal",
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            store = app.state.services.store
            org = await store.write(keys.get_or_create_org, "bench")
            new = await store.org(org.id).write(keys.create_api_key)
            admitted = await app.state.services.keys.resolve(new.key)
            payload = body(1, 0)
            handler = next(r.app for r in worker.ROUTES.routes if r.path == "/custom/v1/log")
            state = {CALLER: admitted}
            baseline = _caller(handler, "/custom/v1/log", new.key, payload, app=app, state=state)
            checked = _caller(app, "/custom/v1/log", new.key, payload)
            await compare(args.rounds, baseline, checked)
        await first_answers(settings, args.apps)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3000)
    parser.add_argument("--apps", type=int, default=5)
    asyncio.run(main(parser.parse_args()))
