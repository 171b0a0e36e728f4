"""CPU per proxied call of two versions, run side by side in alternating rounds (a fair A/B).

Run one after the other, two versions meet different neighbours: on a shared machine
``bench/gateway.py``'s CPU per call moves by 5-10% from one run to the next, more than most
changes are worth. Here both servers run at once (each with its own SQLite file and journal,
against one fake provider), and the rounds alternate between them, the order swapped every
round, so both see the same load and the same growth of their log. A round's CPU is the
server's whole process (every thread, user and system time), from its first call until its
writer has stored the round's last row, so the writer is counted.

    python bench/cpu_ab.py --a-src ../main/src                 # main against this tree
    python bench/cpu_ab.py --a-env HELIOSCOPE_LOG_WRITER=false  # serving alone against all

``--a-src``/``--b-src`` run a server from another source tree (default: this one);
``--a-env``/``--b-env`` give it more environment (``NAME=VALUE``, repeatable). With
``HELIOSCOPE_LOG_WRITER=false`` nothing is stored, and a round ends a second after its last call.
``--a-writer-process``/``--b-writer-process`` run that server with ``serve --writer-process``
(the log writer in a process of its own, counted with the server's).

    python bench/cpu_ab.py --b-writer-process   # the writer in the serving process or apart
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _procs as procs
from bench._load import LoadClient
from bench.gateway import BODY

WARM_UP = 1000


@dataclass
class Side:
    """One of the two servers, and the CPU per call of each of its rounds."""

    name: str
    server: procs.Server
    stores: bool
    calls: int = 0
    rounds: list[float] = field(default_factory=list)


def _environment(src: str | None, pairs: list[str]) -> dict[str, str]:
    env = dict(pair.split("=", 1) for pair in pairs)
    if src is not None:
        env["PYTHONPATH"] = str(Path(src).resolve())
    return env


async def _round(client: LoadClient, side: Side, calls: int) -> float:
    """Run ``calls`` through ``side``; its CPU seconds, up to the round's rows stored."""
    server = side.server
    headers = {
        "content-type": "application/json",
        "authorization": "Bearer sk-bench",
        "helicone-auth": f"Bearer {server.key}",
    }
    before = sum(procs.cpu_seconds(pid) for pid in procs.process_tree(server.pid))
    await client.run_round(f"{server.url}/oai/v1/chat/completions", headers, calls, BODY, 200)
    side.calls += calls
    if side.stores:
        while await asyncio.to_thread(procs.count_rows, server) < side.calls:
            await asyncio.sleep(0.1)
    else:
        await asyncio.sleep(1.0)
    return sum(procs.cpu_seconds(pid) for pid in procs.process_tree(server.pid)) - before


async def _compare(sides: list[Side], rounds: int, per_round: int, concurrency: int) -> None:
    client = LoadClient(concurrency)
    try:
        for side in sides:
            await _round(client, side, WARM_UP)
        for number in range(rounds):
            for side in sides if number % 2 == 0 else sides[::-1]:
                side.rounds.append(await _round(client, side, per_round) / per_round * 1e6)
    finally:
        client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--a-src", default=None, help="A's source tree (default: this one)")
    parser.add_argument("--b-src", default=None, help="B's source tree (default: this one)")
    parser.add_argument("--a-env", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--b-env", action="append", default=[], metavar="NAME=VALUE")
    for letter in ("a", "b"):
        parser.add_argument(f"--{letter}-writer-process", action="store_true")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--per-round", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    specs = [
        ("A", args.a_src, args.a_env, args.a_writer_process),
        ("B", args.b_src, args.b_env, args.b_writer_process),
    ]
    with contextlib.ExitStack() as stack:
        direct = stack.enter_context(procs.fake_provider())
        sides = []
        for name, src, pairs, apart in specs:
            env = _environment(src, pairs)
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            server = stack.enter_context(
                procs.launch(direct.url, workdir, None, 1, apart, {}, extra_env=env)
            )
            stores = env.get("HELIOSCOPE_LOG_WRITER", "true").lower() != "false"
            label = " ".join([src or "this tree", *pairs, *(["--writer-process"] if apart else [])])
            sides.append(Side(f"{name} ({label})", server, stores))
        load = Path("/proc/loadavg").read_text().split()[:3]
        uvloop.run(_compare(sides, args.rounds, args.per_round, args.concurrency))
        load += Path("/proc/loadavg").read_text().split()[:3]
    print(f"load average (1, 5, 15 min) before {' '.join(load[:3])}, after {' '.join(load[3:])}")
    for side in sides:
        each = " ".join(f"{cpu:.0f}" for cpu in side.rounds)
        median = statistics.median(side.rounds)
        print(f"{side.name}: {median:.1f} µs of CPU a call (median; rounds: {each})")


if __name__ == "__main__":
    main()
