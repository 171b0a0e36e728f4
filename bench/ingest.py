"""Sustained async-log ingestion: how many logs per second Helioscope takes, and whether any
accepted log is lost.

A Helioscope server runs as its own process; this process posts Helicone async-log bodies to
``/custom/v1/log`` from many connections for a fixed time, then stops the server (which drains
its queue) and counts the stored rows.

    python bench/ingest.py [--seconds 30] [--body-kb 1] [--concurrency 32] [--database-url URL]
    python bench/ingest.py --clickhouse chdb:///tmp/ch-ingest [--batch-size N] [--flush-interval S]
    python bench/ingest.py --workers 2
    python bench/ingest.py --otlp [--spans-per-request 500] [--otlp-path /v1/trace/log]

``--otlp`` sends logs in batches, as Helicone's users ship them from OpenTelemetry
instrumentations: OTLP/JSON exports of ``--spans-per-request`` GenAI spans each (one trace per
request, every span a log) to ``/v1/traces`` (or Helicone's ``/v1/trace/log``). It prints the
server's and the load generator's CPU time per log beside the rates.

With ``--clickhouse`` the server keeps its log in ClickHouse (``HELIOSCOPE_CLICKHOUSE_URL``):
rows are counted through the API while it runs (a chdb directory belongs to one process), and
in ClickHouse itself once it has stopped. Every log goes to the journal first; "stored end to
end" is when the writer has put it in the store. ``--workers 2`` runs ``serve --workers 2``
(two journals, one writer).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._procs import (
    Server,
    count_rows,
    cpu_seconds,
    helioscope,
    is_writer_process,
    process_tree,
)

# Replaced in each request's body by a trace id of its own: every span is a new log.
_TRACE = b"0123456789abcdef0123456789abcdef"


def body(kb: int, i: int) -> bytes:
    content = ("lorem ipsum dolor sit amet " * (kb * 1024 // 27 + 1))[: kb * 1024 - 300]
    now = time.time()
    payload = {
        "providerRequest": {
            "url": "https://api.openai.com/v1/chat/completions",
            "json": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}]},
            "meta": {"Helicone-Property-Bench": "ingest", "Helicone-Session-Id": f"s-{i % 500}"},
        },
        "providerResponse": {
            "status": 200,
            "json": {
                "model": "gpt-4o-mini",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}}],
                "usage": {
                    "prompt_tokens": kb * 200,
                    "completion_tokens": 1,
                    "total_tokens": kb * 200 + 1,
                },
            },
        },
        "timing": {"startTime": now - 0.5, "endTime": now},
        "provider": "OPENAI",
    }
    return orjson.dumps(payload)


def _attribute(key: str, value: str | int) -> dict[str, object]:
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


def otlp_body(kb: int, spans: int, second: int | None = None) -> bytes:
    """An OTLP/JSON export of ``spans`` GenAI chat spans of one trace (id ``_TRACE``).

    Its spans start within ``second`` (Unix time; default now) and last 500 ms each: every
    time is that second's digits then nine more (``at_second`` moves them to another second).
    """
    content = ("lorem ipsum dolor sit amet " * (kb * 1024 // 27 + 1))[: kb * 1024 - 300]
    second = int(time.time()) if second is None else second
    association = "traceloop.association.properties."
    items = [
        {
            "traceId": _TRACE.decode(),
            "spanId": f"{j + 1:016x}",
            "name": "openai.chat",
            "kind": 3,
            "startTimeUnixNano": f"{second}{j:09d}",
            "endTimeUnixNano": f"{second}{500_000_000 + j:09d}",
            "attributes": [
                _attribute("gen_ai.system", "openai"),
                _attribute("gen_ai.request.model", "gpt-4o-mini"),
                _attribute("gen_ai.response.model", "gpt-4o-mini"),
                _attribute("gen_ai.usage.prompt_tokens", kb * 200),
                _attribute("gen_ai.usage.completion_tokens", 1),
                _attribute("gen_ai.prompt.0.role", "user"),
                _attribute("gen_ai.prompt.0.content", content),
                _attribute("gen_ai.completion.0.role", "assistant"),
                _attribute("gen_ai.completion.0.content", "ok"),
                _attribute(f"{association}Helicone-Session-Id", f"s-{j % 500}"),
                _attribute(f"{association}Helicone-Property-Bench", "ingest"),
            ],
        }
        for j in range(spans)
    ]
    scope = {"scope": {"name": "opentelemetry.instrumentation.openai"}, "spans": items}
    return orjson.dumps({"resourceSpans": [{"resource": {}, "scopeSpans": [scope]}]})


def at_second(body: bytes, second: int, now: int) -> bytes:
    """``otlp_body(…, second)`` with its spans moved to the second ``now`` (one replace)."""
    return body.replace(b'Nano":"%d' % second, b'Nano":"%d' % now)


def _main_threads_cpu(pid: int) -> dict[int, float]:
    """CPU time of the main thread (the event loop's) of each process of the server."""
    return {member: cpu_seconds(member, thread=member) for member in process_tree(pid)}


def _busiest_first(before: dict[int, float], after: dict[int, float]) -> list[tuple[float, str]]:
    """Each process's main-thread CPU between the two readings, named, largest first.

    Per process (a worker, the writer process): each one's loop is a ceiling of its own.
    """
    spent = [
        (after[pid] - before.get(pid, 0.0), "writer" if is_writer_process(pid) else "serving")
        for pid in after
    ]
    return sorted(spent, reverse=True)


async def load(
    url: str, key: str, args: argparse.Namespace, requests: int | None = None, first: int = 0
) -> tuple[int, int]:
    """Requests for ``args.seconds`` (or ``requests`` of them); the logs accepted and refused."""
    accepted = failed = sent = 0
    deadline = time.monotonic() + args.seconds
    headers = {"authorization": f"Bearer {key}", "content-type": "application/json"}
    if args.otlp:
        second = int(time.time())
        template = otlp_body(args.body_kb, args.spans_per_request, second)
        per_request, path = args.spans_per_request, args.otlp_path

        def make(i: int) -> bytes:
            # Spans of the second they are sent in, as an exporter sends them: the writer's
            # replaced-row check reads the log over a batch's time span, and every export
            # timed as the first one made that span the whole log (its cost grew with it).
            body = template.replace(_TRACE, f"{i:032x}".encode())
            return at_second(body, second, int(time.time()))
    else:
        bodies = [body(args.body_kb, i) for i in range(64)]
        per_request, path = 1, "/custom/v1/log"

        def make(i: int) -> bytes:
            return bodies[i % 64]

    async def worker(n: int) -> None:
        nonlocal accepted, failed, sent
        i = first + n
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as session:
            while time.monotonic() < deadline if requests is None else sent < requests:
                sent += 1
                async with session.post(f"{url}{path}", data=make(i), headers=headers) as r:
                    await r.read()
                    if r.status in (200, 204):
                        accepted += per_request
                    else:
                        failed += per_request
                i += args.concurrency

    await asyncio.gather(*(worker(n) for n in range(args.concurrency)))
    return accepted, failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--body-kb", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--workers", type=int, default=1, help="serve --workers N")
    parser.add_argument(
        "--writer-process", action="store_true", help="serve --writer-process (the writer apart)"
    )
    parser.add_argument("--clickhouse", default=None, help="keep the log in ClickHouse (URL)")
    parser.add_argument("--otlp", action="store_true", help="OTLP/JSON exports, many spans each")
    parser.add_argument("--spans-per-request", type=int, default=500)
    parser.add_argument("--otlp-path", default="/v1/traces", help="or /v1/trace/log")
    parser.add_argument("--batch-size", default=None, help="HELIOSCOPE_LOG_BATCH_SIZE")
    parser.add_argument(
        "--flush-interval", default=None, help="HELIOSCOPE_LOG_FLUSH_INTERVAL_SECONDS"
    )
    parser.add_argument(
        "--memory-bytes",
        default=None,
        help="HELIOSCOPE_LOG_MEMORY_BYTES (a batch holds at most a 32nd of it in payloads)",
    )
    args = parser.parse_args()
    settings = {"shutdown_drain_seconds": "600"}
    if args.clickhouse:
        settings["clickhouse_url"] = args.clickhouse
    if args.batch_size:
        settings["log_batch_size"] = args.batch_size
    if args.flush_interval:
        settings["log_flush_interval_seconds"] = args.flush_interval
    if args.memory_bytes:
        settings["log_memory_bytes"] = args.memory_bytes
    with tempfile.TemporaryDirectory() as tmp:
        # A long drain: at shutdown the server writes everything it accepted before exiting.
        with helioscope(
            "http://127.0.0.1:9",
            Path(tmp),
            args.database_url,
            workers=args.workers,
            writer_process=args.writer_process,
            **settings,
        ) as server:
            count = count_rows if not args.clickhouse else api_count
            # One request first, stored before the clock starts: the first log loads the price
            # table and the first insert imports the rest (seconds, once per process).
            empty = count(server)
            warm, _ = asyncio.run(load(server.url, server.key, args, requests=1, first=10**9))
            catch_up(server, empty + warm, count, deadline=120)
            before = count(server)
            server_cpu = sum(cpu_seconds(pid) for pid in process_tree(server.pid))
            main_cpu = _main_threads_cpu(server.pid)
            load_cpu = time.process_time()
            started = time.perf_counter()
            accepted, failed = asyncio.run(load(server.url, server.key, args))
            elapsed = time.perf_counter() - started
            load_cpu = time.process_time() - load_cpu
            # How far the writer lags the load: the time until every accepted log is in the
            # store, with the server still running (process shutdown is not ingestion).
            poll = 0.5 if args.clickhouse else 0.05
            caught_up = catch_up(server, before + accepted, count, deadline=300, poll=poll)
            server_cpu = sum(cpu_seconds(pid) for pid in process_tree(server.pid)) - server_cpu
            mains = _busiest_first(main_cpu, _main_threads_cpu(server.pid))
            stopping = time.perf_counter()
        shutdown = time.perf_counter() - stopping
        # The server has stopped: its queue is drained.
        after = count_rows(server) if not args.clickhouse else clickhouse_count(args.clickhouse)
        stored = after - before
    where = "ClickHouse" if args.clickhouse else "the database"
    shape = (
        f"OTLP {args.otlp_path}, {args.spans_per_request} spans a request"
        if args.otlp
        else ("one POST a log")
    )
    print(
        f"{shape}; CPU per log stored: server {server_cpu / max(stored, 1) * 1e6:,.0f} us "
        f"(while loading and catching up; its processes' main threads, where the event loop "
        "runs: "
        + ", ".join(f"{name} {m / max(stored, 1) * 1e6:,.0f} us" for m, name in mains if m > 0.05)
        + "), "
        f"load generator {load_cpu / max(accepted, 1) * 1e6:,.0f} us"
    )
    print(
        f"log in {where}, batches of {args.batch_size or 'default'}, "
        f"flush interval {args.flush_interval or 'default'}, {args.workers} worker(s): "
        f"{args.body_kb} KB bodies, {args.concurrency} connections, {elapsed:.0f} s: "
        f"{accepted / elapsed:,.0f} logs/s accepted, {failed} refused; "
        f"{stored / (elapsed + caught_up):,.0f} logs/s stored end to end "
        f"(the store caught up {caught_up:.2f} s after the load stopped; shutdown took "
        f"{shutdown:.1f} s; counting shutdown too: {stored / (elapsed + caught_up + shutdown):,.0f}"
        f" logs/s); {stored:,} stored of {accepted:,} accepted, lost: {accepted - stored}"
    )


def catch_up(
    server: Server,
    target: int,
    count: Callable[[Server], int],
    deadline: float,
    poll: float = 0.05,
) -> float:
    """Seconds until the request log holds ``target`` rows (polled), or ``deadline``.

    Polled every ``poll`` seconds: on ClickHouse a count is a query on the writer's engine
    (chdb runs one statement at a time), so polling every 50 ms slowed the writer it waits for.
    """
    started = time.perf_counter()
    while time.perf_counter() - started < deadline and count(server) < target:
        time.sleep(poll)
    return time.perf_counter() - started


def api_count(server: Server) -> int:
    """Rows in the request log, asked of the running server (``/v1/request/count/query``)."""

    async def ask() -> int:
        async with aiohttp.ClientSession() as session:
            async with session.post(
                f"{server.url}/v1/request/count/query",
                json={"filter": "all"},
                headers={"authorization": f"Bearer {server.key}"},
            ) as r:
                return int((await r.json())["data"])

    return asyncio.run(ask())


def clickhouse_count(url: str) -> int:
    """Distinct rows in ClickHouse's log (the server has stopped and let go of chdb)."""
    from helioscope.store.clickhouse import ClickHouse

    async def count() -> int:
        clickhouse = await ClickHouse.connect(url)
        found = await clickhouse.query("SELECT count() FROM request_response FINAL")
        await clickhouse.close()
        return int(found.rows[0][0])

    return asyncio.run(count())


if __name__ == "__main__":
    main()
