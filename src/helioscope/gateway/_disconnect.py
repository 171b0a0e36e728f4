"""Noticing a client that goes away while its call waits on the upstream, and ending the call.

A client that hangs up must not keep an upstream connection (a descriptor, a provider's slot)
for up to the upstream timeout: that is how one tenant dropping its sockets exhausted the
process's descriptors (issue 16). uvicorn silently drops writes to a closed connection and says
nothing until the app calls ``receive``; so, once the request body is read, a watcher task
waits on ``receive`` for the whole call (the upstream request, a JSON body, a stream) and
cancels the call's task when ``http.disconnect`` comes before the response is complete. The
cancellation aborts the upstream connection wherever the call is waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from helioscope._asgi import Message, Receive, Send


class DisconnectWatcher:
    """Cancels the calling task when the client goes away before its response is complete.

    ``send`` must be used for the response: it notes the response's last message, after which
    ``http.disconnect`` (as ASGI servers also report a finished exchange) cancels nothing.
    """

    __slots__ = ("_send", "_task", "_watched", "client_gone", "finished")

    def __init__(self, receive: Receive, send: Send) -> None:
        self.client_gone = False
        self.finished = False
        self._send = send
        self._watched = asyncio.current_task()
        self._task = asyncio.get_running_loop().create_task(self._watch(receive))

    def send(self, message: Message) -> Awaitable[None]:
        """Send ``message`` to the client (a plain function: no extra coroutine per chunk)."""
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            self.finished = True
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
        """Stop watching (the call is over)."""
        self._task.cancel()
