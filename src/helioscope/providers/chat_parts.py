"""Pieces every mapping to and from OpenAI's chat format shares.

The chat format is the hub: a request in OpenAI's format (chat, or Responses converted to chat)
is mapped to the provider's, and the provider's answer is mapped back to chat (and from there
to Responses when that is what the client speaks).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import orjson


class MappingError(ValueError):
    """A request the mapping cannot express in the provider's format; the message says why."""


_DATA_URL = re.compile(r"^data:(?P<media>[\w.+-]+/[\w.+-]+);base64,(?P<data>.*)$", re.DOTALL)


def text_of(content: Any) -> str:
    """The text of a message's content: a string, or its text parts joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(p.get("text", ""))
            for p in content
            if isinstance(p, dict) and p.get("type") in ("text", "input_text", "output_text")
        )
    return ""


def image_source(url: Any, where: str) -> tuple[str, str | None]:
    """``(media type, base64 data)`` of a data URL, or ``(guessed media type, None)`` of a URL."""
    if not isinstance(url, str) or not url:
        raise MappingError(f"{where}.content: an image_url part needs a url")
    match = _DATA_URL.match(url)
    if match is not None:
        return match["media"], match["data"]
    if not url.startswith(("http://", "https://")):
        raise MappingError(f"{where}.content: an image url must be http(s) or a base64 data URL")
    extension = url.rsplit("?", 1)[0].rsplit(".", 1)[-1].lower()
    media = {"png": "image/png", "gif": "image/gif", "webp": "image/webp"}.get(extension)
    return media or "image/jpeg", None


def tool_calls(message: dict[str, Any], where: str) -> list[tuple[Any, Any, Any]]:
    """An assistant message's tool calls: ``(id, function name, parsed arguments)``."""
    calls = []
    for call in message.get("tool_calls") or []:
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict):
            raise MappingError(f"{where}.tool_calls: each call needs a function")
        try:
            arguments = orjson.loads(function.get("arguments") or "{}")
        except orjson.JSONDecodeError:
            raise MappingError(f"{where}.tool_calls: arguments must be JSON") from None
        calls.append((call.get("id"), function.get("name"), arguments))
    return calls


def function_tools(chat: dict[str, Any], provider: str) -> list[dict[str, Any]]:
    """The request's function tools (their ``function`` objects); ``MappingError`` names a bad one.

    A tool the provider's format cannot express is refused rather than dropped: a model
    called without a tool its caller relies on answers something else, and nobody is told.
    """
    functions: list[dict[str, Any]] = []
    for index, tool in enumerate(chat.get("tools") or []):
        function = tool.get("function") if isinstance(tool, dict) else None
        name = function.get("name") if isinstance(function, dict) else None
        where = f"tools[{index}]" + (f" ({name!r})" if isinstance(name, str) else "")
        if not isinstance(tool, dict) or tool.get("type", "function") != "function":
            kind = tool.get("type") if isinstance(tool, dict) else None
            raise MappingError(
                f"{where}: only function tools can go to {provider}, got type {kind!r}"
            )
        if not isinstance(function, dict):
            raise MappingError(f"{where}: a function tool needs a function object")
        if not isinstance(name, str) or not name:
            raise MappingError(f"{where}: function.name must be a non-empty string")
        parameters = function.get("parameters")
        if parameters is not None and not isinstance(parameters, dict):
            raise MappingError(f"{where}: function.parameters must be a JSON schema object")
        functions.append(function)
    return functions


Turn = tuple[str, list[dict[str, Any]]]  # a provider role, and the pieces of its content


def fold_turns(
    messages: list[Any], key: str, turn: Callable[[dict[str, Any], str], Turn]
) -> tuple[list[str], list[dict[str, Any]]]:
    """A chat's system texts, and its other messages as alternating turns.

    ``turn`` maps one message (not a system or developer one) to its provider role and pieces;
    consecutive messages of one role merge into one turn (under ``key``), as Anthropic and
    Gemini both want the roles to alternate (tool results follow as the user's).
    """
    system: list[str] = []
    turns: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        if message.get("role") in ("system", "developer"):
            system.append(text_of(message.get("content")))
            continue
        role, pieces = turn(message, f"messages[{index}]")
        if turns and turns[-1]["role"] == role:
            turns[-1][key].extend(pieces)
        else:
            turns.append({"role": role, key: pieces})
    return system, turns


def chat_usage(
    prompt: int, completion: int, *, cached: int = 0, reasoning: int = 0
) -> dict[str, Any]:
    """A chat completion's ``usage`` object."""
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached},
        "completion_tokens_details": {"reasoning_tokens": reasoning},
    }


class ChatChunks(ABC):
    """Builds ``chat.completion.chunk`` objects for a stream being mapped to chat."""

    def __init__(self, include_usage: bool, created: int) -> None:
        self.include_usage = include_usage  # the client asked for stream_options.include_usage
        self.created = created
        self.id = ""
        self.model = ""

    def chunk(
        self, delta: dict[str, Any], finish: str | None = None, index: int = 0
    ) -> dict[str, Any]:
        """A chunk with one choice (``index``: which, when the call asked for several)."""
        choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [choice],
        }

    def usage_chunk(self, usage: dict[str, Any]) -> dict[str, Any]:
        """The last chunk of a stream that asked for usage: no choices, the totals."""
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [],
            "usage": usage,
        }

    @abstractmethod
    def feed(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        """The chunks one provider event stands for."""

    def close(self) -> list[dict[str, Any]]:
        """Chunks owed when the provider's stream ends (none by default)."""
        return []
