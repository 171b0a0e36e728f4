"""Server-sent events: just enough of the format to read provider streams back for logging."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson


@dataclass(slots=True)
class SseEvent:
    """One event: its ``event:`` name (may be empty) and its ``data:`` payload."""

    event: str
    data: str


def parse_sse(text: str, *, complete: bool = True) -> list[SseEvent]:
    """Split an SSE body into events.

    With ``complete=False`` (a stream cut short) the last, possibly partial, event is dropped,
    as Helicone does for cancelled streams.
    """
    blocks = text.replace("\r\n", "\n").split("\n\n")
    if not complete and blocks and not text.endswith("\n\n"):
        blocks = blocks[:-1]
    events: list[SseEvent] = []
    for block in blocks:
        name = ""
        data_lines: list[str] = []
        for line in block.split("\n"):
            if line.startswith("data:"):
                data_lines.append(line[5:].removeprefix(" "))
            elif line.startswith("event:"):
                name = line[6:].strip()
        if data_lines:
            events.append(SseEvent(name, "\n".join(data_lines)))
    return events


def json_events(events: list[SseEvent]) -> list[dict[str, Any]]:
    """The JSON objects among the events' data (skips ``[DONE]`` and keep-alive noise)."""
    out: list[dict[str, Any]] = []
    for ev in events:
        if not ev.data or ev.data == "[DONE]":
            continue
        try:
            value = orjson.loads(ev.data)
        except orjson.JSONDecodeError:
            continue
        if isinstance(value, dict):
            out.append(value)
    return out


class SseDecoder:
    """Splits a stream of bytes into events as they arrive, whatever the network's chunking.

    Translation reads a provider's stream event by event: a chunk may end mid-event (kept for
    the next one) or hold several.
    """

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> list[SseEvent]:
        """The events completed by ``data``."""
        buffer = self._buffer + data
        if b"\r" in buffer:
            buffer = buffer.replace(b"\r\n", b"\n")
        end = buffer.rfind(b"\n\n")
        if end < 0:
            self._buffer = buffer
            return []
        self._buffer = buffer[end + 2 :]
        return parse_sse(buffer[: end + 2].decode("utf-8", "replace"))

    def close(self) -> list[SseEvent]:
        """The last event, when the stream ended without its blank line."""
        rest, self._buffer = self._buffer, b""
        return parse_sse(rest.decode("utf-8", "replace")) if rest.strip() else []


def sse_data(payload: Any, event: str | None = None) -> bytes:
    """One event as bytes: ``event:`` when named, then ``data:`` holding ``payload`` as JSON."""
    data = b"data: " + orjson.dumps(payload) + b"\n\n"
    return b"event: " + event.encode() + b"\n" + data if event else data


SSE_DONE = b"data: [DONE]\n\n"
