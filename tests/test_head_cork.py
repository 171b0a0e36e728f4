"""A response's head goes out with the bytes that follow it in the same turn: one write."""

from __future__ import annotations

import asyncio
from typing import Any

from helioscope._head_cork import HeadCork


class Recorder(asyncio.Transport):
    """A transport that records what is written to it, call by call."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, Any]] = []
        self.closing = False

    def write(self, data: Any) -> None:
        self.calls.append(("write", bytes(data)))

    def writelines(self, list_of_data: Any) -> None:
        self.calls.append(("writelines", [bytes(d) for d in list_of_data]))

    def close(self) -> None:
        self.calls.append(("close", None))
        self.closing = True

    def is_closing(self) -> bool:
        return self.closing


async def test_the_head_and_the_body_go_out_in_one_call() -> None:
    real = Recorder()
    cork = HeadCork(real, asyncio.get_running_loop())
    cork.hold()
    cork.write(b"HTTP/1.1 200 OK\r\n\r\n")
    assert real.calls == []  # held
    cork.write(b"{}")
    cork.write(b"next")  # not held: one head per hold()
    await asyncio.sleep(0)  # the end-of-turn flush finds nothing left
    assert real.calls == [
        ("writelines", [b"HTTP/1.1 200 OK\r\n\r\n", b"{}"]),
        ("write", b"next"),
    ]


async def test_a_head_alone_goes_out_at_the_end_of_the_turn() -> None:
    real = Recorder()
    cork = HeadCork(real, asyncio.get_running_loop())
    cork.hold()
    cork.write(b"HTTP/1.1 200 OK\r\n\r\n")  # a stream whose first chunk has not come yet
    await asyncio.sleep(0)
    assert real.calls == [("write", b"HTTP/1.1 200 OK\r\n\r\n")]
    cork.write(b"chunk")
    assert real.calls[-1] == ("write", b"chunk")


async def test_close_sends_what_is_held_first() -> None:
    real = Recorder()
    cork = HeadCork(real, asyncio.get_running_loop())
    cork.hold()
    cork.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    cork.close()
    assert real.calls == [("write", b"HTTP/1.1 400 Bad Request\r\n\r\n"), ("close", None)]
