"""The checks an AI Gateway body passes before any provider is chosen.

A body the gateway cannot route or map is refused with a 400 naming the field, in the caller's
error shape, before anything is sent upstream. Deeper validation is the provider's: its 400
comes back mapped to OpenAI's error shape.
"""

from __future__ import annotations

from typing import Any

from helioscope.errors import BadRequest
from helioscope.providers.mapping import Api

_CHAT_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


def _check_messages(messages: Any, roles: frozenset[str] | None) -> None:
    if not isinstance(messages, list) or not messages:
        raise BadRequest("messages must be a non-empty array of messages")
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise BadRequest(f"messages[{index}] must be an object")
        role = message.get("role")
        if roles is not None and role not in roles:
            raise BadRequest(
                f"messages[{index}].role must be one of {', '.join(sorted(roles))}, got {role!r}"
            )


def check_body(api: Api, body: dict[str, Any]) -> None:
    """Refuse a body that is malformed for ``api`` (``BadRequest`` naming the field)."""
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise BadRequest("stream must be true or false")
    if api is Api.CHAT:
        _check_messages(body.get("messages"), _CHAT_ROLES)
        if body.get("tools") is not None and not isinstance(body["tools"], list):
            raise BadRequest("tools must be an array")
    elif api is Api.RESPONSES:
        if not isinstance(body.get("input"), str | list):
            raise BadRequest("input must be a string or an array of input items")
    else:
        _check_messages(body.get("messages"), frozenset({"user", "assistant"}))
