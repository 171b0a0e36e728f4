"""Noticing a client that goes away while its call waits on the upstream, and ending the call.

A client that hangs up must not keep an upstream connection (a descriptor, a provider's slot)
for up to the upstream timeout: that is how one tenant dropping its sockets exhausted the
process's descriptors (issue 16). uvicorn silently drops writes to a closed connection and says
nothing until the app calls ``receive``; so, once the request body is read, a watcher task
waits on ``receive`` for the whole call (the upstream request, a JSON body, a stream) and
cancels the call's task when ``http.disconnect`` comes before the response is complete. The
cancellation aborts the upstream connection wherever the call is waiting.

The watcher starts after a short grace (``_GRACE_SECONDS``): most calls through a fast
upstream are over by then and pay a timer instead of a task (~15 us of the gateway's
~350 us of CPU per call, bench/gateway.py), while a call that outlives the grace, where a
descriptor can be held for long, is watched. A client gone during the grace is noticed when
it ends (``receive`` then says ``http.disconnect`` at once). The calls in their grace share
one timer (``Grace``): an event-loop timer made and cancelled per call cost ~1.8 us of it.

The watcher's ``send`` is also where a call is journalled: ``on_last`` runs just before the
response's last message is handed to the server, so that a process killed once the client has
its complete answer cannot lose the call's record (issue 19: journalling after the last byte
left a window where a SIGKILL lost a call the client saw answered).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from helioscope._asgi import Message, Receive, Send

_GRACE_SECONDS = 0.1

Subject = TypeVar("Subject")  # what ``on_last`` is called with (the gateway's: the capture)


class Grace:
    """The watchers still in their grace, started when it ends, with one timer for them all.

    Watchers are kept in the order they were made, which is the order their grace ends in:
    the timer is armed for the oldest, and when it fires it starts every watcher whose grace
    is over and is armed again for the next one.
    """

    def __init__(self) -> None:
        self._pending: dict[DisconnectWatcher[Any], float] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def loop(self) -> asyncio.AbstractEventLoop:
        """The running event loop.

        Kept, not asked for per call: ``asyncio.get_running_loop()`` (and ``current_task()``
        without a loop) makes a ``getpid()`` system call each time on CPython 3.11, to notice
        a fork; a call asked three times.
        """
        loop = self._loop
        if loop is None or not loop.is_running():  # first use, or a new loop (tests)
            loop = asyncio.get_running_loop()
            if loop is not self._loop:  # nothing carries over
                self._loop, self._timer = loop, None
                self._pending.clear()
        return loop

    def add(self, watcher: DisconnectWatcher[Any], loop: asyncio.AbstractEventLoop) -> None:
        """Start ``watcher`` once its grace is over (unless it is discarded first).

        ``loop`` is ``self.loop()``, which the watcher has already asked for.
        """
        due = loop.time() + _GRACE_SECONDS
        self._pending[watcher] = due
        if self._timer is None:
            self._timer = loop.call_at(due, self._fire)

    def discard(self, watcher: DisconnectWatcher[Any]) -> None:
        """Forget ``watcher`` (its call is over)."""
        self._pending.pop(watcher, None)

    def _fire(self) -> None:
        self._timer = None
        loop, pending = self._loop, self._pending
        assert loop is not None
        # (Timers may fire up to a millisecond early: uvloop counts them in whole ms.)
        now = loop.time() + 0.001
        while pending:
            watcher, due = next(iter(pending.items()))
            if due > now:
                self._timer = loop.call_at(due, self._fire)
                return
            del pending[watcher]
            watcher.start()


class DisconnectWatcher(Generic[Subject]):
    """Cancels the calling task when the client goes away before its response is complete.

    ``send`` must be used for the response: it notes the response's last message, after which
    ``http.disconnect`` (as ASGI servers also report a finished exchange) cancels nothing, and
    calls ``on_last(subject)`` just before that message goes out, or at ``stop`` when it never
    went out (an error, a client gone): once either way. ``on_last`` must not raise. (Given
    its subject, not a closure over it: no function made a call, and one Python frame less.)
    """

    __slots__ = (
        "_on_last",
        "_subject",
        "_receive",
        "_grace",
        "_send",
        "_task",
        "_watched",
        "client_gone",
        "finished",
    )

    def __init__(
        self,
        receive: Receive,
        send: Send,
        on_last: Callable[[Subject], None],
        subject: Subject,
        grace: Grace,
    ) -> None:
        self.client_gone = False
        self.finished = False
        self._on_last = on_last
        self._subject = subject
        self._receive = receive
        self._send = send
        loop = grace.loop()
        self._watched = asyncio.current_task(loop)
        self._task: asyncio.Task[None] | None = None
        self._grace = grace
        grace.add(self, loop)

    def start(self) -> None:
        """Start watching (its grace is over: called by ``Grace``)."""
        if not self.finished:
            self._task = self._grace.loop().create_task(self._watch(self._receive))

    def send(self, message: Message) -> Awaitable[None]:
        """Send ``message`` to the client (a plain function: no extra coroutine per chunk)."""
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            self.finished = True
            self._on_last(self._subject)
        return self._send(message)

    async def _watch(self, receive: Receive) -> None:
        message: Message = await receive()
        while message["type"] != "http.disconnect":
            message = await receive()
        if not self.finished and self._watched is not None:
            self.client_gone = True
            self._watched.cancel()

    def absorb_cancel(self) -> None:
        """Consume our own cancellation so the call can carry on to logging."""
        if self._watched is not None:
            self._watched.uncancel()

    def stop(self) -> None:
        """Stop watching (the call is over); ``on_last`` now if no last message went out."""
        if not self.finished:
            self.finished = True
            self._on_last(self._subject)
        self._grace.discard(self)
        if self._task is not None:
            self._task.cancel()
            # The cancelled task keeps its CancelledError, whose traceback holds the watch's
            # frame, which holds this watcher: with the task referenced here, that was a
            # reference cycle, so the call's capture, its connection's state and the rest
            # waited for a full collection (~20 objects a watched call, and under a stall
            # every call is watched: bench/gateway.py --rate). Without it they are freed as
            # soon as the task ends.
            self._task = None
        self._watched = None  # likewise, a call that ends in an exception
