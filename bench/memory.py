"""Memory under load: the server's RSS sampled over many calls, with small and large bodies.

The fake provider and a Helioscope server (SQLite) run as their own processes; this process
sends ``--calls`` chat completions through the gateway with request bodies of each size in
``--body-kb`` and samples the server's resident memory (every worker's, with ``--workers``)
twice a second. Flat means the last quarter's peak is close to the second quarter's: memory
does not grow with traffic, whatever the body size (the journal takes the records, not RAM).

    python bench/memory.py [--calls 100000] [--body-kb 1 200] [--concurrency 16] [--workers 1]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._load import LoadClient
from bench._procs import fake_provider, helioscope


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its children (the workers), in MB."""
    total = 0.0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except FileNotFoundError:
            continue
    return total


class RssSampler:
    """Samples a process tree's RSS twice a second on a thread, until ``stop``."""

    def __init__(self, pid: int) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(pid,), daemon=True)
        self._thread.start()

    def _run(self, pid: int) -> None:
        while not self._stop.is_set():
            self.samples.append(rss_mb(pid))
            time.sleep(0.5)

    def stop(self) -> list[float]:
        self._stop.set()
        self._thread.join()
        return self.samples


def body(kb: int) -> bytes:
    content = "x" * max(1, kb * 1024 - 120)
    return orjson.dumps(
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}]}
    )


async def drive(url: str, key: str, kb: int, calls: int, concurrency: int) -> float:
    client = LoadClient(concurrency)
    headers = {
        "helicone-auth": f"Bearer {key}",
        "authorization": "Bearer sk-fake",
        "content-type": "application/json",
    }
    started = time.perf_counter()
    done = 0
    try:
        while done < calls:
            n = min(2000, calls - done)
            await client.run_round(f"{url}/oai/v1/chat/completions", headers, n, body(kb), 200)
            done += n
    finally:
        client.close()
    return calls / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--body-kb", type=int, nargs="+", default=[1, 200])
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    with fake_provider() as upstream:
        for kb in args.body_kb:
            with (
                tempfile.TemporaryDirectory() as tmp,
                helioscope(upstream.url, Path(tmp), workers=args.workers) as server,
            ):
                sampler = RssSampler(server.pid)
                rate = asyncio.run(drive(server.url, server.key, kb, args.calls, args.concurrency))
                samples = sampler.stop()
                quarter = max(1, len(samples) // 4)
                second, last = samples[quarter : 2 * quarter], samples[-quarter:]
                print(
                    f"{kb} KB bodies, {args.calls:,} calls at {rate:,.0f}/s, "
                    f"{args.workers} worker(s): RSS MB min {min(samples):.0f}, "
                    f"median {statistics.median(samples):.0f}, max {max(samples):.0f}; "
                    f"peak of the 2nd quarter {max(second or samples):.0f}, "
                    f"of the last {max(last):.0f} (every process of the server together)",
                    flush=True,
                )


if __name__ == "__main__":
    main()
