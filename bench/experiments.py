"""Experiment throughput: cells run through the gateway, and Python evaluations in the sandbox.

One Helioscope (a separate process, SQLite, logging on) and the fake provider. An experiment
with ``--rows`` rows and one prompt version is run as a whole (``POST …/run``) once with
``HELIOSCOPE_EXPERIMENT_CONCURRENCY=1`` and once with ``--concurrency``; then a Python code
evaluator scores every output (one sandboxed process per evaluation).

    python bench/experiments.py [--rows 200] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._procs import fake_provider, helioscope

TEMPLATE = {
    "model": "gpt-4o-mini",
    "messages": [
        {"role": "user", "content": 'Tell me about <helicone-prompt-input key="city" />.'}
    ],
}


def call(http: httpx.Client, method: str, path: str, body: Any = None) -> Any:
    response = http.request(method, path, json=body)
    response.raise_for_status()
    return response.json()["data"]


def experiment(http: httpx.Client, rows: int) -> str:
    version = call(
        http, "POST", "/v1/prompt/create", {"userDefinedId": "bench", "prompt": TEMPLATE}
    )["prompt_version_id"]
    experiment_id: str = call(
        http, "POST", "/v2/experiment/new", {"name": "bench", "originalPromptVersion": version}
    )["experimentId"]
    inputs = [{"city": f"city {i}"} for i in range(rows)]
    call(http, "POST", f"/v2/experiment/{experiment_id}/add-manual-rows-batch", {"inputs": inputs})
    return experiment_id


def run_all(http: httpx.Client, experiment_id: str) -> float:
    started = time.perf_counter()
    cells = call(http, "POST", f"/v2/experiment/{experiment_id}/run", {})["cells"]
    while True:
        status = call(http, "GET", f"/v2/experiment/{experiment_id}/run/status")
        if not status["running"] and status["succeeded"] + status["failed"] >= cells:
            break
        time.sleep(0.02)
    assert status["failed"] == 0, status
    return float(cells) / (time.perf_counter() - started)


def evaluate_all(http: httpx.Client, experiment_id: str) -> float:
    evaluator = call(
        http,
        "POST",
        "/v1/evaluator",
        {
            "name": "Long",
            "scoring_type": "BOOLEAN",
            "code_template": "print(len(response_body) > 10)",
        },
    )
    call(
        http, "POST", f"/v2/experiment/{experiment_id}/evaluators", {"evaluatorId": evaluator["id"]}
    )
    started = time.perf_counter()
    call(http, "POST", f"/v2/experiment/{experiment_id}/evaluators/run")
    elapsed = time.perf_counter() - started
    status = call(http, "GET", f"/v2/experiment/{experiment_id}/run/status")
    assert status["unscoredOutputs"] == 0, status
    return float(status["succeeded"]) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    results: dict[int, float] = {}
    evaluations = 0.0
    with fake_provider() as upstream:
        for concurrency in (1, args.concurrency):
            with (
                tempfile.TemporaryDirectory() as tmp,
                helioscope(
                    upstream.url, Path(tmp), experiment_concurrency=str(concurrency)
                ) as server,
            ):
                headers = {"authorization": f"Bearer {server.key}"}
                with httpx.Client(base_url=server.url, headers=headers, timeout=600) as http:
                    experiment_id = experiment(http, args.rows)
                    results[concurrency] = run_all(http, experiment_id)
                    if concurrency == args.concurrency:
                        evaluations = evaluate_all(http, experiment_id)
    print(f"cells through the gateway, {args.rows} rows:")
    for concurrency, rate in results.items():
        print(f"  concurrency {concurrency:>2}: {rate:7.1f} cells/s")
    print(f"  ratio: {results[args.concurrency] / results[1]:.2f}x")
    print(f"python evaluations (one sandboxed process each): {evaluations:.1f} per second")


if __name__ == "__main__":
    main()
