"""Test helpers shipped with Helioscope, shared by its tests, its benchmarks and its users.

- ``FakeProvider``: an LLM provider on loopback that speaks the OpenAI, Anthropic and Gemini
  wire formats (JSON and server-sent events, tool calls, usage, errors, slow first tokens) and
  fails on demand (error statuses, stalls, connections closed unanswered).
- ``serve``: run any ASGI app under uvicorn on a port the OS picks, inside the current event loop.
"""

from helioscope.testing._fake_provider import FakeProvider, ReceivedCall
from helioscope.testing._server import serve

__all__ = ["FakeProvider", "ReceivedCall", "serve"]
