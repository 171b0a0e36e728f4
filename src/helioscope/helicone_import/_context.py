"""What every step of an import shares: the source, the store, the window, counts, progress."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from helioscope.helicone_import._client import HeliconeClient
from helioscope.store import Store

_T = TypeVar("_T")
_U = TypeVar("_U")


class Progress(Protocol):
    """Reports progress to a person (the CLI draws a bar; tests record the calls)."""

    def phase(self, name: str, total: int | None) -> None:
        """A new step starts; ``total`` is how many items it will take, when known."""
        ...

    def advance(self, count: int) -> None:
        """``count`` more items of the current step are done."""
        ...

    def retrying(self, message: str) -> None:
        """A call failed and will be tried again: what failed, and when it is tried."""
        ...


class SilentProgress:
    """Progress that shows nothing."""

    def phase(self, name: str, total: int | None) -> None:
        """Nothing."""

    def advance(self, count: int) -> None:
        """Nothing."""

    def retrying(self, message: str) -> None:
        """Nothing."""


@dataclass(slots=True)
class Tally:
    """What an import brought in (and what it had to leave out), for its report."""

    requests: int = 0
    bodies_from_urls: int = 0
    feedback: int = 0
    scored: int = 0
    session_tags: int = 0
    prompts: int = 0
    prompt_versions: int = 0
    datasets: int = 0
    dataset_rows: int = 0
    skipped: list[str] = field(default_factory=list)


def iso(value: dt.datetime) -> str:
    """A bound of the window as Helicone's filters take it (ISO 8601, UTC)."""
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def both(left: Any, right: Any) -> Any:
    """Two filter trees ANDed (``"all"`` is the identity)."""
    if left == "all":
        return right
    if right == "all":
        return left
    return {"left": left, "operator": "and", "right": right}


def created(operator: str, value: str) -> Any:
    """A leaf on the request's creation time."""
    return {"request_response_rmt": {"request_created_at": {operator: value}}}


@dataclass(slots=True)
class Context:
    """One import's shared state."""

    client: HeliconeClient
    store: Store
    org_id: str
    progress: Progress
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    tally: Tally = field(default_factory=Tally)
    concurrency: int = 8
    # Whether the source answers Helioscope's full-shape request route (None: not asked yet).
    full_shape: bool | None = None

    def window(self) -> Any:
        """The source filter for the import's time window."""
        tree: Any = "all"
        if self.since is not None:
            tree = both(tree, created("gte", iso(self.since)))
        if self.until is not None:
            tree = both(tree, created("lt", iso(self.until)))
        return tree

    async def each(self, items: Iterable[_T], work: Callable[[_T], Awaitable[_U]]) -> list[_U]:
        """``work`` over ``items``, ``concurrency`` at a time, results in order."""
        gate = asyncio.Semaphore(self.concurrency)

        async def one(item: _T) -> _U:
            async with gate:
                return await work(item)

        return list(await asyncio.gather(*(one(item) for item in items)))
