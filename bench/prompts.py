"""What applying a prompt at the gateway costs: plain calls against prompt calls.

Three kinds of call go through the same Helioscope (a separate process, SQLite, logging on),
in alternating rounds: a plain chat body, a body naming a 2025 prompt (expanded from the
stored version, read from the cache once warm), and a legacy body with
``<helicone-prompt-input>`` tags and ``Helicone-Prompt-Id`` (stripped; template recorded).

    python bench/prompts.py [--concurrency 8] [--rounds 6] [--per-round 400]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from pathlib import Path

import aiohttp
import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._procs import fake_provider, helioscope
from bench.gateway import BODY, pct, run_round

STORED = {
    "model": "gpt-4o-mini",
    "messages": [
        {"role": "system", "content": "You are terse. You answer {{hc:customer:string}}."},
    ],
}
LEGACY_BODY = orjson.dumps(
    {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "You are terse."},
            {
                "role": "user",
                "content": 'One word for <helicone-prompt-input key="mood">happy'
                "</helicone-prompt-input>, please.",
            },
        ],
    }
)


def create_prompt(url: str, key: str) -> str:
    response = httpx.post(
        f"{url}/v1/prompt-2025",
        json={"name": "bench", "tags": [], "promptBody": STORED},
        headers={"authorization": f"Bearer {key}"},
    )
    response.raise_for_status()
    prompt_id: str = response.json()["data"]["id"]
    return prompt_id


async def bench(url: str, key: str, prompt_id: str, args: argparse.Namespace) -> None:
    base = {"content-type": "application/json", "authorization": "Bearer sk-bench"}
    auth = {**base, "helicone-auth": f"Bearer {key}"}
    prompt_body = orjson.dumps(
        {
            "prompt_id": prompt_id,
            "inputs": {"customer": "Ada"},
            "messages": [{"role": "user", "content": "Give me one word for happy, please."}],
        }
    )
    target = f"{url}/oai/v1/chat/completions"
    kinds = {
        "plain": (auth, BODY),
        "prompt 2025": (auth, prompt_body),
        "legacy tags": ({**auth, "helicone-prompt-id": "bench-legacy"}, LEGACY_BODY),
    }
    latencies: dict[str, list[float]] = {k: [] for k in kinds}
    rates: dict[str, list[float]] = {k: [] for k in kinds}
    connector = aiohttp.TCPConnector(limit=args.concurrency * 2)
    async with aiohttp.ClientSession(connector=connector) as session:
        for headers, body in kinds.values():  # warm up connections and the prompt cache
            await run_round(session, target, headers, 100, args.concurrency, body)
        for _ in range(args.rounds):
            for name, (headers, body) in kinds.items():
                lat, rate = await run_round(
                    session, target, headers, args.per_round, args.concurrency, body
                )
                latencies[name] += lat
                rates[name].append(rate)
    print(f"\n{'':14}{'p50 ms':>10}{'p99 ms':>10}{'req/s':>10}{'vs plain':>10}")
    plain = statistics.median(rates["plain"])
    for name, values in latencies.items():
        rate = statistics.median(rates[name])
        print(
            f"{name:14}{pct(values, 50):10.3f}{pct(values, 99):10.3f}{rate:10.0f}"
            f"{rate / plain:10.2f}"
        )
    print(f"({args.concurrency} connections, {len(latencies['plain'])} calls of each kind)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--per-round", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, fake_provider() as upstream:
        with helioscope(upstream.url, Path(tmp)) as server:
            prompt_id = create_prompt(server.url, server.key)
            asyncio.run(bench(server.url, server.key, prompt_id, args))


if __name__ == "__main__":
    main()
