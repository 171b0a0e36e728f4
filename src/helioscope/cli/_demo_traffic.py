"""The demo's everyday traffic: users, properties, sessions with nested paths, streams, errors.

The plan is drawn from a seeded random generator, so every demo shows the same shape of data:
a dozen users of three plans on four features, two thirds OpenAI and one third Anthropic, a
quarter streamed, a few calls failing upstream (429, 500, 503), a few answered from the cache,
and agent sessions whose calls follow a trace (``/plan`` → ``/plan/flights`` →
``/plan/flights/search`` …) one after another.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from helioscope.cli._demo_client import DemoClient, anthropic_headers, openai_headers

USERS = [
    f"{name}@example.com"
    for name in ("ada", "grace", "alan", "edsger", "barbara", "ken", "margaret", "linus")
    + ("frances", "john", "radia", "tim")
]
PLANS = ("free", "pro", "enterprise")
FEATURES = ("chat", "search", "summarise", "support")
OPENAI_MODELS = ("gpt-4o-mini", "gpt-4o-mini", "gpt-4o", "gpt-4.1-mini")
ANTHROPIC_MODELS = ("claude-3-5-haiku-20241022", "claude-sonnet-4-20250514")
QUESTIONS = (
    "What is the refund policy for annual plans?",
    "Summarise this support thread in two sentences.",
    "Which flights leave Lisbon for Oslo on Friday morning?",
    "Draft a polite reply asking for the order number.",
    "Explain the difference between a mutex and a semaphore.",
    "Find three hotels near the conference centre under 150 euros.",
    "Translate 'where is the station' into Norwegian.",
    "What changed in the latest release notes?",
    "Write a haiku about observability.",
    "List the open invoices for customer 4411.",
)
FLOWS: dict[str, tuple[str, ...]] = {
    "Trip planner": (
        "/plan",
        "/plan/flights",
        "/plan/flights/search",
        "/plan/hotels",
        "/plan/hotels/search",
        "/plan/itinerary",
    ),
    "Support agent": ("/triage", "/triage/lookup", "/triage/lookup/orders", "/answer"),
    "Research agent": (
        "/question",
        "/question/search",
        "/question/search/read",
        "/question/search/read/summarise",
        "/report",
    ),
}
ERROR_STATUSES = (429, 500, 503)


@dataclass(frozen=True, slots=True)
class Call:
    """One planned call through the gateway."""

    anthropic: bool
    model: str
    question: str
    stream: bool
    headers: dict[str, str]


@dataclass(slots=True)
class Traffic:
    """What the traffic produced: the ids of the calls that reached the log, by outcome."""

    succeeded: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def _call(rng: random.Random, latency_scale: float, extra: dict[str, str]) -> Call:
    user = rng.choice(USERS)
    anthropic = rng.random() < 0.33
    headers = {
        "helicone-user-id": user,
        "helicone-property-environment": "production" if rng.random() < 0.8 else "staging",
        "helicone-property-feature": rng.choice(FEATURES),
        "helicone-property-plan": PLANS[USERS.index(user) % len(PLANS)],
        "helicone-property-app-version": rng.choice(("1.4.2", "1.5.0")),
        # Log-normal latency, median 200 ms with a long tail, as real providers answer.
        "x-fake-first-token-delay-ms": str(
            int(min(rng.lognormvariate(5.3, 0.6), 2500) * latency_scale)
        ),
        **extra,
    }
    if rng.random() < 0.06:
        headers["x-fake-status"] = str(rng.choice(ERROR_STATUSES))
    return Call(
        anthropic=anthropic,
        model=rng.choice(ANTHROPIC_MODELS if anthropic else OPENAI_MODELS),
        question=rng.choice(QUESTIONS),
        stream=rng.random() < 0.25,
        headers=headers,
    )


def plan(calls: int, latency_scale: float, seed: int = 7) -> list[list[Call]]:
    """Chains of calls: each session's calls in trace order, every other call a chain of one."""
    rng = random.Random(seed)
    chains: list[list[Call]] = []
    planned = 0
    while planned < calls:
        if rng.random() < 0.2:  # a session: its calls follow its flow, one after another
            name = rng.choice(list(FLOWS))
            session = {"helicone-session-id": str(uuid.UUID(int=rng.getrandbits(128)))}
            session["helicone-session-name"] = name
            chain = [
                _call(rng, latency_scale, {**session, "helicone-session-path": path})
                for path in FLOWS[name]
            ]
        elif rng.random() < 0.08:  # a frequently asked question, answered from the cache
            chain = [_call(rng, latency_scale, {"helicone-cache-enabled": "true"})]
            chain[0] = Call(False, "gpt-4o-mini", QUESTIONS[0], False, chain[0].headers)
        else:
            chain = [_call(rng, latency_scale, {})]
        chains.append(chain[: calls - planned])
        planned += len(chains[-1])
    return chains


async def _send(client: DemoClient, call: Call) -> tuple[int, str]:
    messages = [{"role": "user", "content": call.question}]
    if call.anthropic:
        body = {"model": call.model, "max_tokens": 512, "messages": messages, "stream": call.stream}
        return await client.gateway("/anthropic/v1/messages", body, anthropic_headers(call.headers))
    body = {"model": call.model, "messages": messages, "stream": call.stream}
    if call.stream:
        body["stream_options"] = {"include_usage": True}
    return await client.gateway("/oai/v1/chat/completions", body, openai_headers(call.headers))


async def send(client: DemoClient, chains: Sequence[list[Call]], concurrency: int) -> Traffic:
    """Send every chain, ``concurrency`` chains at a time (a chain's calls in order)."""
    traffic = Traffic()
    gate = asyncio.Semaphore(concurrency)

    async def run(chain: list[Call]) -> None:
        async with gate:
            for call in chain:
                status, request_id = await _send(client, call)
                (traffic.succeeded if status < 400 else traffic.failed).append(request_id)

    await asyncio.gather(*(run(chain) for chain in chains))
    return traffic
