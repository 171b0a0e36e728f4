"""``python -m helioscope.testing`` prints where it listens, and answers there."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys

import httpx


async def test_the_fake_provider_prints_its_url_and_serves_there() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "helioscope.testing",
        "--port",
        "0",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    try:
        first = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        assert first.startswith("Fake LLM provider listening on http://127.0.0.1:")
        url = first.split()[-1]
        assert f"HELIOSCOPE_OPENAI_BASE_URL={url}" in (await proc.stdout.readline()).decode()
        async with httpx.AsyncClient() as http:
            response = await http.post(
                f"{url}/v1/chat/completions",
                json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
            )
        assert response.json()["choices"][0]["message"]["content"]
        proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_a_port_in_use_is_one_line_and_a_failed_exit() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "helioscope.testing",
            "--port",
            str(port),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 1
    assert out == b""
    assert err.decode().splitlines() == [
        f"helioscope.testing: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]
