"""One log, written the same way to SQLite and to ClickHouse, for the parity tests."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from helioscope.store import LogRow

ORG = "org-parity"
OTHER = "org-other"
START = dt.datetime(2026, 3, 1, 0, 0, tzinfo=dt.UTC)
MODELS = ["gpt-4o-mini", "gpt-4o", "claude-3-5-sonnet", "o3-mini"]


def _properties(i: int, rng: random.Random) -> dict[str, str]:
    props = {"env": rng.choice(["prod", "staging", "dev"]), "feature": f"f-{i % 7}"}
    if i % 3:
        props["Helicone-Session-Id"] = f"session-{i % 11:02d}"
        props["Helicone-Session-Path"] = f"/step/{i % 4}"
        if i % 5:
            props["Helicone-Session-Name"] = f"Flow {i % 3}"
    if i % 13 == 0:
        props["Helicone-Rate-Limit-Status"] = "bucket_rate_limited"
    # A key in two cases: "Tier" reads the key as given, else its lower case (header names).
    if i % 4 == 0:
        props["tier"] = f"tier-{i % 3}"
    if i % 6 == 0:
        props["Tier"] = f"Tier-{i % 5}"
    return props


def log_rows(org: str = ORG, n: int = 240, seed: int = 5) -> list[LogRow]:
    """``n`` calls over three days with users, sessions, properties, bodies and prompts."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        prompt = rng.choice([None, 40, 300, 1200])
        completion = rng.choice([None, 5, 80, 400])
        cost = None if prompt is None else prompt * 150 + (completion or 0) * 600
        extra: dict[str, Any] = {}
        if i % 9 == 0:
            extra = {"prompt_id": "greeter", "prompt_version": "v1", "prompt_inputs": {"n": i}}
        rows.append(
            LogRow(
                request_id=f"{org[-5:]}-{i:05d}",
                organization_id=org,
                request_created_at=START + dt.timedelta(minutes=17 * i, microseconds=i),
                status=rng.choice([200, 200, 200, 400, 429, 500]),
                provider=rng.choice(["OPENAI", "ANTHROPIC"]),
                model=MODELS[i % len(MODELS)],
                latency=rng.choice([None, 120, 900, 4000]),
                time_to_first_token=rng.choice([None, 0, 80, 300]),
                user_id=rng.choice([None, "alice", "bob", "carol", "dave"]),
                prompt_tokens=prompt,
                completion_tokens=completion,
                cost=cost,
                threat=rng.choice([None, False, True]),
                country_code=rng.choice([None, "PT", "US"]),
                cache_enabled=i % 10 == 0,
                cache_reference_id=f"{org[-5:]}-{i - 1:05d}" if i % 10 == 0 and i else None,
                properties=_properties(i, rng),
                scores={"quality": i % 10} if i % 4 == 0 else {},
                request_body=f'{{"messages": [{{"content": "question {i}"}}]}}',
                response_body=f'{{"choices": [{{"text": "answer {i % 17}"}}]}}',
                **extra,
            )
        )
    return rows


def edits() -> list[tuple[str, tuple[Any, ...]]]:
    """Edits applied after the rows, as (method, args): the same on both engines."""
    return [
        ("set_property", (ORG, f"{ORG[-5:]}-00003", "env", "canary")),
        ("set_property", (ORG, f"{ORG[-5:]}-00004", "Helicone-Session-Id", "session-moved")),
        ("add_scores", (ORG, f"{ORG[-5:]}-00005", {"accuracy": 0.75, "quality": 3})),
        ("add_scores", (ORG, f"{ORG[-5:]}-00008", {"accuracy": 0.25})),
        ("set_feedback", (ORG, f"{ORG[-5:]}-00006", True)),
        ("set_feedback", (ORG, f"{ORG[-5:]}-00007", False)),
        ("set_session_tag", (ORG, "session-01", "important")),
        ("set_session_feedback", (ORG, "session-02", True)),
        ("set_hidden", (ORG, "feature", True)),
        ("set_hidden", (ORG, "env", True)),
        ("set_hidden", (ORG, "env", False)),
    ]
