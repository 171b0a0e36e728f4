"""Failures the fake provider serves on demand: error statuses, stalls and reset connections.

Each queued failure may name a path prefix (``/v1/messages``, ``/v1beta``): then only calls to
that path take it, so one fake can play a failing provider and a healthy one in the same
fallback chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from starlette.types import Message, Send

Kind = Literal["status", "stall", "reset"]


@dataclass(slots=True)
class Failure:
    """One queued failure."""

    kind: Kind
    status: int = 0
    retry_after: str | None = None
    seconds: float = 0.0
    path: str | None = None

    def applies_to(self, path: str) -> bool:
        """True when a call to ``path`` takes this failure."""
        return path != "/v1/moderations" and (self.path is None or path.startswith(self.path))


class Failures:
    """The queue, taken in order by the calls it applies to."""

    def __init__(self) -> None:
        self.queued: list[Failure] = []

    def add(self, failure: Failure, times: int) -> None:
        """Queue ``failure`` for the next ``times`` calls it applies to."""
        self.queued.extend([failure] * times)  # never mutated: one object may fill many slots

    def take(self, path: str, kind: Kind | None = None) -> Failure | None:
        """The first queued failure for ``path`` (of ``kind``, if given), removed from the queue."""
        for index, failure in enumerate(self.queued):
            if failure.applies_to(path) and (kind is None or failure.kind == kind):
                return self.queued.pop(index)
        return None

    def __bool__(self) -> bool:
        return bool(self.queued)


async def reset(send: Send) -> None:
    """Close the connection before a byte of the response is written.

    ASGI has no "reset" message, so this starts a response uvicorn refuses to write (a header
    value with a line break): uvicorn checks the headers before writing anything and, the
    application having failed after starting its response, closes the connection. The client
    sees its request go unanswered, as with a provider that drops connections.
    """
    start: Message = {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"x-fake-reset", b"\n")],
    }
    try:
        await send(start)
    except RuntimeError:
        return  # uvicorn refused the header: the connection closes when the app returns
