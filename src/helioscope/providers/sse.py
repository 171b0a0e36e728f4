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
    """Splits a stream of bytes into event payloads as they arrive, whatever the chunking.

    Translation reads a provider's stream event by event: a chunk may end mid-event (kept for
    the next one) or hold several. It works on bytes and yields each event's ``data`` only (a
    provider's event name is repeated in its JSON ``type``): this runs for every event of every
    translated stream, so it does no more than that.
    """

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> list[bytes]:
        """The ``data`` of each event completed by ``data``."""
        buffer = self._buffer + data if self._buffer else data
        if b"\r" in buffer:
            buffer = buffer.replace(b"\r\n", b"\n")
        end = buffer.rfind(b"\n\n")
        if end < 0:
            self._buffer = buffer
            return []
        self._buffer = buffer[end + 2 :]
        return _payloads(buffer[:end])

    def close(self) -> list[bytes]:
        """The last event, when the stream ended without its blank line."""
        rest, self._buffer = self._buffer, b""
        return _payloads(rest) if rest.strip() else []


def _payloads(blocks: bytes) -> list[bytes]:
    out = []
    for block in blocks.split(b"\n\n"):
        start = block.find(b"data:")
        if start < 0 or (start and block[start - 1] != 10):  # 10: a data line starts a line
            if b"\ndata:" not in block:
                continue
            start = block.find(b"\ndata:") + 1
        if b"\ndata:" in block[start + 5 :]:  # several data lines (rare): joined by newlines
            lines = [line[5:] for line in block.split(b"\n") if line.startswith(b"data:")]
            out.append(b"\n".join(line.removeprefix(b" ") for line in lines))
            continue
        line_end = block.find(b"\n", start)
        line = block[start + 5 : line_end] if line_end >= 0 else block[start + 5 :]
        out.append(line[1:] if line[:1] == b" " else line)
    return out


def sse_data(payload: Any, event: str | None = None) -> bytes:
    """One event as bytes: ``event:`` when named, then ``data:`` holding ``payload`` as JSON."""
    data = b"data: " + orjson.dumps(payload) + b"\n\n"
    return b"event: " + event.encode() + b"\n" + data if event else data


SSE_DONE = b"data: [DONE]\n\n"
