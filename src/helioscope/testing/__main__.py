"""``python -m helioscope.testing [--host H] [--port N]``: run the fake provider alone.

It prints where it listens once it accepts connections (``--port 0`` lets the system choose a
free port), and how to point Helioscope at it. Benchmarks and manual tries use it.
"""

from __future__ import annotations

import argparse
import asyncio
import socket

import uvicorn

from helioscope.testing import FakeProvider


def banner(url: str) -> str:
    """What the fake provider prints once it listens."""
    return (
        f"Fake LLM provider listening on {url}\n"
        f"  OpenAI:    POST {url}/v1/chat/completions  (HELIOSCOPE_OPENAI_BASE_URL={url})\n"
        f"  Anthropic: POST {url}/v1/messages  (HELIOSCOPE_ANTHROPIC_BASE_URL={url})\n"
        f"  Gemini:    POST {url}/v1beta/models/<model>:generateContent"
        f"  (HELIOSCOPE_GOOGLE_BASE_URL={url})\n"
        "Any API key is accepted. Press Ctrl-C to stop."
    )


async def _serve(host: str, port: int) -> None:
    provider = FakeProvider()
    provider.record = False  # long runs (benchmarks) keep memory flat
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:  # a port in use, an address not of this machine: one line, no trace
        sock.close()
        message = f"helioscope.testing: cannot listen on {host}:{port}: {exc.strerror}"
        raise SystemExit(message) from None
    config = uvicorn.Config(provider.app, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.01)
    if server.started:
        print(banner(f"http://{host}:{sock.getsockname()[1]}"), flush=True)
    await task


def main() -> None:
    """Serve the fake provider until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8686)
    args = parser.parse_args()
    try:
        asyncio.run(_serve(args.host, args.port))
    except KeyboardInterrupt:  # uvicorn shut down gracefully, then re-raised the signal
        pass


main()
