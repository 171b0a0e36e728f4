"""What Helicone's parity fields cost a page of ``/v1/request/query``: ``llmSchema`` and
``signed_body_url`` on every row.

Shapes the same page of stored rows (OpenAI chat calls with a system prompt, a few turns and a
tool call, as the store returns them) as ``HeliconeRequest``s with and without the two fields,
alternating within each round so both see the same machine load. Pure CPU: no store, no HTTP.

Prints p50/p95 per page in µs and the ratio.

    python bench/request_shape.py [--rows 100] [--rounds 400]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._alternate import Call, alternate
from helioscope.api import _request_shape
from helioscope.api._request_shape import to_helicone_request
from helioscope.body_links import BodyLinks

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def row(i: int) -> dict[str, Any]:
    """A stored row of an OpenAI chat call, as the store's request queries return it."""
    request = {
        "model": "gpt-4o-mini",
        "temperature": 0.3,
        "messages": [
            {"role": "system", "content": "You are a helpful assistant. " * 10},
            {"role": "user", "content": f"Question {i}: " + "what is the weather like? " * 8},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "weather", "arguments": '{"city": "Oslo"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "rain, 7 degrees"},
        ],
        "tools": [{"type": "function", "function": {"name": "weather", "parameters": {}}}],
    }
    response = {
        "id": f"chatcmpl-{i}",
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Rain. " * 30}}],
        "usage": {"prompt_tokens": 120, "completion_tokens": 40, "total_tokens": 160},
    }
    return {
        "request_id": f"00000000-0000-4000-8000-{i:012d}",
        "status": 200,
        "response_created_at": NOW,
        "request_created_at": NOW,
        "response_model": "gpt-4o-mini-2024-07-18",
        "request_model": "gpt-4o-mini",
        "model_override": None,
        "model": "gpt-4o-mini",
        "path": "/v1/chat/completions",
        "user_id": "alice",
        "properties": {"environment": "prod"},
        "provider": "OPENAI",
        "latency": 800,
        "time_to_first_token": None,
        "total_tokens": 160,
        "prompt_tokens": 120,
        "prompt_cache_write_tokens": None,
        "prompt_cache_read_tokens": None,
        "completion_tokens": 40,
        "cost": 0.00004,
        "prompt_id": None,
        "country_code": "DE",
        "scores": {},
        "target_url": "https://api.openai.com/v1/chat/completions",
        "request_body": orjson.dumps(request).decode(),
        "response_body": orjson.dumps(response).decode(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=400)
    args = parser.parse_args()
    page = [row(i) for i in range(args.rows)]
    links = BodyLinks("bench-secret-" + "s" * 20, 3600)

    def body_url(request_id: str) -> str:
        return "http://127.0.0.1:8585" + links.path("org", request_id)

    async def without_fields() -> Any:
        # The shape before this change: no llmSchema (null) and no link.
        with mock.patch.object(_request_shape, "llm_schema", lambda *_: None):
            return [to_helicone_request(r) for r in page]

    async def with_fields() -> Any:
        return [to_helicone_request(r, body_url=body_url) for r in page]

    baseline: Call = without_fields
    measured: Call = with_fields
    (b50, b95), (m50, m95) = asyncio.run(alternate(args.rounds, baseline, measured))
    print(f"page of {args.rows} rows, {args.rounds} rounds (µs per page)")
    print(f"  shape only (no llmSchema, no link)         p50 {b50:9.0f}  p95 {b95:9.0f}")
    print(f"  with llmSchema and signed_body_url         p50 {m50:9.0f}  p95 {m95:9.0f}")
    print(
        f"  ratio                                      p50 {m50 / b50:9.2f}  p95 {m95 / b95:9.2f}"
    )


if __name__ == "__main__":
    main()
