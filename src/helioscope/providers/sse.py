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
