"""Instructions per proxied call, counted by callgrind: a measure the neighbours cannot move.

On a shared machine the CPU time per call (``bench/gateway.py``) swings by 10-15% from one round
to the next with the other processes' load, so a change worth a few per cent cannot be read
from it. This counts the instructions instead: the server runs under valgrind's callgrind
(counting off while it starts and warms up), ``--calls`` calls go through it from the lean
client, and the count stops once the writer has stored every one of them. Every thread of the
server is counted (the event loop, SQLite's, the journal's), in user space only: the kernel's
share (mostly delivering socket writes on loopback, a fifth of the CPU time) is not.

The server runs ~50x slower than natively, so the writer's batches are smaller; the linger is
raised to 5 s so that they hold a few hundred rows, as under a saturating load.

    python bench/instructions.py [--calls 2000] [--no-writer] [--src OTHER/src] [--keep OUT]

``--src`` runs the server from another source tree (say a ``git worktree`` of main), to compare
two versions; ``--no-writer`` counts the serving side alone (the calls are journalled, not
stored). Needs valgrind (``apt-get install valgrind``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _procs as procs
from bench._load import LoadClient
from bench.gateway import BODY

WARM_UP = 300


def _counting(pid: int, on: bool) -> None:
    subprocess.run(["callgrind_control", "-i", "on" if on else "off", str(pid)], check=True)


async def _load(server: procs.Server, calls: int, writer: bool) -> None:
    async def stored(n: int) -> None:
        if not writer:
            await asyncio.sleep(2)
            return
        while await asyncio.to_thread(procs.count_rows, server) < n:
            await asyncio.sleep(0.5)

    client = LoadClient(4)
    headers = {
        "content-type": "application/json",
        "authorization": "Bearer sk-bench",
        "helicone-auth": f"Bearer {server.key}",
    }
    url = f"{server.url}/oai/v1/chat/completions"
    try:
        await client.run_round(url, headers, WARM_UP, BODY, 200)
        await stored(WARM_UP)
        _counting(server.pid, True)
        started = time.monotonic()
        await client.run_round(url, headers, calls, BODY, 200)
        await stored(WARM_UP + calls)
        _counting(server.pid, False)
        print(f"{calls} calls counted in {time.monotonic() - started:.0f} s")
    finally:
        client.close()


def _total(out: Path) -> int:
    for line in out.read_text().splitlines():
        if line.startswith("totals:"):
            return int(line.split()[1])
    raise RuntimeError(f"no totals in {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--no-writer", action="store_true", help="journal the calls only")
    parser.add_argument("--src", default=None, help="run the server from this source tree")
    parser.add_argument(
        "--keep", default=None, help="copy callgrind's output here (for callgrind_annotate)"
    )
    args = parser.parse_args()
    writer = not args.no_writer
    os.environ["HELIOSCOPE_LOG_WRITER"] = "true" if writer else "false"
    os.environ["HELIOSCOPE_LOG_FLUSH_INTERVAL_SECONDS"] = "5"
    if args.src:
        os.environ["PYTHONPATH"] = str(Path(args.src).resolve())
    with tempfile.TemporaryDirectory() as tmp, procs.fake_provider() as direct:
        out = Path(tmp) / "callgrind.out"
        # Counting off until the warm-up is over: startup is not counted.
        valgrind = ("valgrind", "--tool=callgrind", "--instr-atstart=no")
        under = (*valgrind, f"--callgrind-out-file={out}")
        with procs.launch(direct.url, Path(tmp), None, 1, False, {}, under, 900) as server:
            uvloop.run(_load(server, args.calls, writer))
        per_call = _total(out) / args.calls
        if args.keep:
            shutil.copyfile(out, args.keep)
    side = "serving, journal and writer" if writer else "serving and journal (no writer)"
    print(f"instructions per proxied call: {per_call:,.0f} ({side}; {args.src or 'this tree'})")


if __name__ == "__main__":
    main()
