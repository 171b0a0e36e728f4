"""``helioscope demo``: started, seeded through the real gateway, queried, stopped."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from helioscope.cli.demo import DemoOptions, demo_server, seed

FAST = DemoOptions(port=0, calls=40, latency_scale=0, concurrency=8)


async def api(http: httpx.AsyncClient, method: str, path: str, body: Any = None) -> Any:
    response = await http.request(method, path, json=body)
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def test_the_demo_logs_what_a_first_run_should_show() -> None:
    async with demo_server(FAST) as server:
        summary = await seed(server, FAST)
        directory = server.directory
        assert directory.exists()
        auth = {"authorization": f"Bearer {server.key}"}
        async with httpx.AsyncClient(base_url=server.url, headers=auth, timeout=30) as http:
            rows = await api(http, "POST", "/v1/request/query", {"filter": "all", "limit": 1000})
            # 40 calls, the prompt's, the experiment's (4 logged, 4 run, 8 judged).
            assert len(rows) >= 40 + summary.prompt_calls + 4
            assert summary.calls == 40 and 0 < summary.failed < 10
            assert {r["provider"] for r in rows} >= {"OPENAI", "ANTHROPIC"}
            assert any(r["response_status"] >= 400 for r in rows)
            # Helicone's shape has no stream flag; Helioscope's own route has every field.
            full = await api(http, "POST", "/v1/helioscope/requests/query", {"limit": 500})
            assert any(r["is_stream"] for r in full["requests"])
            assert len({r["request_user_id"] for r in rows} - {None}) >= 5
            assert any(r["feedback_rating"] is not None for r in rows)
            assert any(r["scores"].get("accuracy") for r in rows)

            properties = {p["property"] for p in await api(http, "POST", "/v1/property/query", {})}
            assert {"environment", "feature", "plan"} <= {p.lower() for p in properties}

            sessions = await api(http, "POST", "/v1/session/query", {"limit": 100})
            assert sessions
            paths = set()
            for session in sessions:
                trace = await api(http, "GET", f"/v1/session/{session['session_id']}/trace")
                paths |= {r["properties"]["Helicone-Session-Path"] for r in trace}
            assert max(p.count("/") for p in paths) >= 3  # nested, as agents nest them

            [prompt] = await api(http, "POST", "/v1/prompt-2025/query", {})
            versions = await api(
                http, "POST", "/v1/prompt-2025/query/versions", {"promptId": prompt["id"]}
            )
            assert len(versions) == 3
            used = {r["prompt_version"] for r in full["requests"] if r["prompt_id"] == prompt["id"]}
            assert len(used) == 3  # production, staging and a pinned version were all called

            details = await api(http, "GET", f"/v2/experiment/{summary.experiment_id}")
            versions_run = await api(
                http, "GET", f"/v2/experiment/{summary.experiment_id}/prompt-versions"
            )
            scores = await api(
                http,
                "GET",
                # Helioscope's route: Helicone's scores with their counts.
                f"/v1/helioscope/experiments/{summary.experiment_id}/{versions_run[-1]['id']}/scores",
            )
            assert scores["helpfulness"]["count"] == len(details["rows"]) == 4
    assert not directory.exists()  # the temporary store is gone with the demo


def test_no_terminal_browser_is_started_on_a_headless_machine(tmp_path: Path) -> None:
    # A headless machine with w3m installed: webbrowser would run it in this terminal.
    marker = tmp_path / "w3m-ran"
    w3m = tmp_path / "w3m"
    w3m.write_text(f"#!/bin/sh\ntouch {marker}\n")
    w3m.chmod(0o755)
    script = (
        "from helioscope.cli.demo import open_browser; print(open_browser('http://127.0.0.1:1/'))"
    )
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path)}  # no DISPLAY, no BROWSER
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False" and not marker.exists()


async def test_the_demo_command_prints_a_url_and_key_and_stops_on_ctrl_c() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "helioscope",
        "demo",
        "--port",
        "0",
        "--calls",
        "20",
        "--latency-scale",
        "0",
        "--no-browser",
        env=os.environ.copy(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    try:
        url = (await asyncio.wait_for(proc.stdout.readline(), 120)).decode().split()[-1]
        key = (await proc.stdout.readline()).decode().split()[-1]
        assert url.startswith("http://127.0.0.1:") and key.startswith("sk-helicone-")
        async with httpx.AsyncClient(headers={"authorization": f"Bearer {key}"}) as http:
            count = await api(http, "POST", f"{url}v1/request/count/query", {"filter": "all"})
        assert count >= 20
        proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.wait(), 60) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
