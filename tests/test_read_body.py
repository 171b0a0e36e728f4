"""``read_body``: the whole request body from ASGI messages, within a limit, never a part."""

from __future__ import annotations

from typing import Any

import pytest

from helioscope._asgi import read_body
from helioscope.errors import BadRequest, PayloadTooLarge


def _receiving(*messages: dict[str, Any]) -> Any:
    queue = list(messages)

    async def receive() -> dict[str, Any]:
        return queue.pop(0)

    return receive


def _part(body: bytes, more: bool = False) -> dict[str, Any]:
    return {"type": "http.request", "body": body, "more_body": more}


async def test_a_body_in_one_message_is_returned_as_it_came() -> None:
    body = b'{"a": 1}'
    assert await read_body(_receiving(_part(body)), 8) is body
    assert await read_body(_receiving({"type": "http.request"}), 8) == b""


async def test_a_body_in_one_message_over_the_limit_is_refused() -> None:
    with pytest.raises(PayloadTooLarge):
        await read_body(_receiving(_part(b"x" * 9)), 8)


async def test_a_body_in_parts_is_joined_and_refused_past_the_limit() -> None:
    parts = (_part(b"ab", True), _part(b"", True), _part(b"cd"))
    assert await read_body(_receiving(*parts), 4) == b"abcd"
    with pytest.raises(PayloadTooLarge):
        await read_body(_receiving(*parts), 3)


async def test_a_client_gone_before_the_end_is_a_bad_request() -> None:
    with pytest.raises(BadRequest):
        await read_body(_receiving({"type": "http.disconnect"}), 8)
    with pytest.raises(BadRequest):
        await read_body(_receiving(_part(b"ab", True), {"type": "http.disconnect"}), 8)
