"""OpenAI chat completions to Anthropic's Messages API and back, streams included.

Requests: system and developer messages become ``system``; function tools become tools (a
malformed one is refused, naming it); tool calls become ``tool_use`` blocks and tool results
``tool_result`` blocks in a user turn (consecutive turns of one role merge, as Anthropic wants
them alternating); images become image blocks; ``max_tokens`` is required by Anthropic, so a
call without one gets ``DEFAULT_MAX_TOKENS``; ``response_format`` is asked for as
``response_format`` explains.

Responses: text and ``tool_use`` blocks become the message and its ``tool_calls`` (the input of
a ``response_format``'s tool, the message's content: see ``response_format``); the stop
reason becomes a finish reason; usage counts cache reads and writes inside ``prompt_tokens``
(OpenAI's convention). A stream is mapped event by event as it arrives (``AnthropicChunks``).
"""

from __future__ import annotations

from typing import Any

import orjson

from helioscope.providers.chat_parts import (
    ChatChunks,
    MappingError,
    Turn,
    chat_usage,
    fold_turns,
    function_tools,
    image_source,
    text_of,
    tool_calls,
)
from helioscope.providers.errors import from_anthropic
from helioscope.providers.response_format import (
    JSON_INSTRUCTION,
    JSON_TOOL,
    ResponseFormat,
    anthropic_json_tool,
    response_format,
)

DEFAULT_MAX_TOKENS = 4096
STOP_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


def _user_blocks(content: Any, where: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if not isinstance(content, list):
        raise MappingError(f"{where}.content must be a string or an array of parts")
    blocks: list[dict[str, Any]] = []
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            blocks.append({"type": "text", "text": str(part.get("text", ""))})
        elif kind == "image_url":
            url = (part.get("image_url") or {}).get("url")
            media, data = image_source(url, where)
            source = (
                {"type": "base64", "media_type": media, "data": data}
                if data is not None
                else {"type": "url", "url": url}
            )
            blocks.append({"type": "image", "source": source})
        else:
            raise MappingError(f"{where}.content: parts of type {kind!r} cannot go to Anthropic")
    return blocks


def _assistant_blocks(message: dict[str, Any], where: str) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    text = text_of(message.get("content"))
    if text:
        blocks.append({"type": "text", "text": text})
    for call_id, name, arguments in tool_calls(message, where):
        blocks.append({"type": "tool_use", "id": call_id, "name": name, "input": arguments})
    return blocks


def _turn(message: dict[str, Any], where: str) -> Turn:
    """One chat message as an Anthropic turn: its role and content blocks."""
    role = message.get("role")
    if role == "user":
        return "user", _user_blocks(message.get("content"), where)
    if role == "assistant":
        return "assistant", _assistant_blocks(message, where)
    if role == "tool":
        result = {"type": "tool_result", "tool_use_id": message.get("tool_call_id")}
        return "user", [{**result, "content": text_of(message.get("content"))}]
    raise MappingError(f"{where}.role {role!r} cannot go to Anthropic")


def _tool_choice(choice: Any, parallel: Any) -> dict[str, Any] | None:
    if choice is None and parallel is not False:
        return None
    mapped: dict[str, Any]
    if isinstance(choice, dict):
        mapped = {"type": "tool", "name": (choice.get("function") or {}).get("name")}
    else:
        mapped = {"type": {"required": "any", "none": "none"}.get(str(choice), "auto")}
    if parallel is False and mapped["type"] != "none":
        mapped["disable_parallel_tool_use"] = True
    return mapped


def _answer_choice(choice: dict[str, Any] | None, callers_tools: bool) -> dict[str, Any]:
    """The tool choice of a call whose answer comes in the JSON tool.

    Alone, the JSON tool is named. Beside the caller's tools, naming it would keep the model
    from ever calling them (LiteLLM names it all the same: its PR #35637, "preserve tools with
    structured output", is about that), and leaving the choice free would let it answer in
    prose, outside the schema (what this gateway did before). So the model must
    use a tool, any of them (``any``): the JSON tool's call is the answer (the content), the
    others are tool calls, as OpenAI answers a call with tools and a schema. A choice naming
    one of the caller's tools stands; ``none`` of the caller's leaves the JSON tool alone.
    """
    if choice is not None and choice["type"] == "tool":
        return choice
    kind = choice["type"] if choice is not None else "auto"
    forced: dict[str, Any] = (
        {"type": "any"} if callers_tools and kind != "none" else {"type": "tool", "name": JSON_TOOL}
    )
    if choice is not None and "disable_parallel_tool_use" in choice:
        forced["disable_parallel_tool_use"] = True
    return forced


def _tools(chat: dict[str, Any], body: dict[str, Any]) -> ResponseFormat | None:
    """Set the request's tools and tool choice, the JSON answer's tool among them.

    The JSON format wanted, when it could not be asked for with a tool (no schema).
    """
    tools = [
        {
            "name": f["name"],
            "description": f.get("description", ""),
            "input_schema": f.get("parameters") or {"type": "object", "properties": {}},
        }
        for f in function_tools(chat, "Anthropic")
    ]
    wanted = response_format(chat)
    json_tool = anthropic_json_tool(wanted) if wanted is not None else None
    choice = _tool_choice(chat.get("tool_choice"), chat.get("parallel_tool_calls"))
    if json_tool is not None:
        if any(t["name"] == JSON_TOOL for t in tools):
            raise MappingError(f"tools: the name {JSON_TOOL!r} is the gateway's, for JSON answers")
        choice = _answer_choice(choice, bool(tools))
        tools.append(json_tool)
    if tools:
        body["tools"] = tools
        if choice is not None:
            body["tool_choice"] = choice
    return wanted if json_tool is None else None


def chat_to_anthropic(chat: dict[str, Any], model: str) -> dict[str, Any]:
    """A chat completion request as a Messages API request for ``model``."""
    system, turns = fold_turns(chat["messages"], "content", _turn)
    body: dict[str, Any] = {
        "model": model,
        "messages": turns,
        "max_tokens": chat.get("max_completion_tokens")
        or chat.get("max_tokens")
        or DEFAULT_MAX_TOKENS,
    }
    if _tools(chat, body) is not None:  # JSON wanted, and no schema to make a tool of
        system.append(JSON_INSTRUCTION)
    if system:
        body["system"] = "\n\n".join(system)
    if isinstance(chat.get("temperature"), int | float):
        body["temperature"] = min(float(chat["temperature"]), 1.0)  # Anthropic's range is 0..1
    for key in ("top_p", "stream"):
        if chat.get(key) is not None:
            body[key] = chat[key]
    stop = chat.get("stop")
    if stop:
        body["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    if isinstance(chat.get("user"), str):
        body["metadata"] = {"user_id": chat["user"]}
    return body


def _usage(usage: Any) -> dict[str, Any]:
    usage = usage if isinstance(usage, dict) else {}
    read = int(usage.get("cache_read_input_tokens") or 0)
    written = int(usage.get("cache_creation_input_tokens") or 0)
    prompt = int(usage.get("input_tokens") or 0) + read + written
    return chat_usage(prompt, int(usage.get("output_tokens") or 0), cached=read)


def anthropic_to_chat(body: Any, created: int, json_tool: str | None = None) -> dict[str, Any]:
    """A Messages API response as a chat completion.

    ``json_tool``: the tool a ``response_format`` answer was asked for in; its input is the
    message's content, and its call no tool call.
    """
    if not isinstance(body, dict):
        raise MappingError("Anthropic answered a body that is not a message")
    blocks = [b for b in body.get("content") or [] if isinstance(b, dict)]
    text = "".join(str(b.get("text", "")) for b in blocks if b.get("type") == "text")
    uses = [b for b in blocks if b.get("type") == "tool_use"]
    answers = [b for b in uses if json_tool is not None and b.get("name") == json_tool]
    if answers:  # the JSON answer (the model writes no text beside a forced tool)
        text = "".join(orjson.dumps(b.get("input", {})).decode() for b in answers)
    message: dict[str, Any] = {"role": "assistant", "content": text or None, "refusal": None}
    calls = [
        {
            "id": b.get("id"),
            "type": "function",
            "function": {
                "name": b.get("name"),
                "arguments": orjson.dumps(b.get("input", {})).decode(),
            },
        }
        for b in uses
        if b not in answers
    ]
    if calls:
        message["tool_calls"] = calls
    thinking = "".join(str(b.get("thinking", "")) for b in blocks if b.get("type") == "thinking")
    if thinking:
        message["reasoning_content"] = thinking
    finish = STOP_REASONS.get(str(body.get("stop_reason")), "stop")
    if answers and not calls and finish == "tool_calls":
        finish = "stop"  # the answer came whole (a cut one keeps its "length")
    choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
    return {
        "id": body.get("id"),
        "object": "chat.completion",
        "created": created,
        "model": body.get("model"),
        "choices": [choice],
        "usage": _usage(body.get("usage")),
    }


class AnthropicChunks(ChatChunks):
    """Messages API stream events to ``chat.completion.chunk`` objects, one event at a time."""

    def __init__(self, include_usage: bool, created: int, json_tool: str | None = None) -> None:
        super().__init__(include_usage, created)
        self._tool_index: dict[int, int] = {}  # content block index -> tool call index
        self._usage: dict[str, Any] = {}
        self._json_tool = json_tool  # its blocks' input streams as the message's content
        self._json_blocks: set[int] = set()

    def feed(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        """The chunks one event stands for."""
        kind = event.get("type")
        if kind == "message_start":
            message = event.get("message") or {}
            self.id, self.model = message.get("id", ""), message.get("model", "")
            self._usage.update(message.get("usage") or {})
            return [self.chunk({"role": "assistant", "content": ""})]
        if kind == "content_block_start":
            return self._block_start(event)
        if kind == "content_block_delta":
            return self._delta(event)
        if kind == "message_delta":
            self._usage.update(
                {k: v for k, v in (event.get("usage") or {}).items() if v is not None}
            )
            stop = (event.get("delta") or {}).get("stop_reason")
            if stop == "tool_use" and self._json_blocks and not self._tool_index:
                stop = "end_turn"  # only the JSON answer's tool was used: a plain answer
            return [self.chunk({}, STOP_REASONS.get(stop, "stop"))] if stop else []
        if kind == "message_stop":
            return [self.usage_chunk(_usage(self._usage))] if self.include_usage else []
        if kind == "error":
            return [from_anthropic(event, 500)]
        return []

    def _block_start(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        block = event.get("content_block") or {}
        if block.get("type") == "tool_use" and self._is_json_tool(block.get("name")):
            self._json_blocks.add(int(event.get("index", 0)))
            return []
        if block.get("type") == "tool_use":
            index = self._tool_index[int(event.get("index", 0))] = len(self._tool_index)
            call = {
                "index": index,
                "id": block.get("id"),
                "type": "function",
                "function": {"name": block.get("name"), "arguments": ""},
            }
            return [self.chunk({"tool_calls": [call]})]
        if block.get("type") == "text" and block.get("text"):
            return [self.chunk({"content": block["text"]})]
        return []

    def _is_json_tool(self, name: Any) -> bool:
        return self._json_tool is not None and name == self._json_tool

    def _delta(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        delta = event.get("delta") or {}
        kind = delta.get("type")
        if kind == "text_delta":
            return [self.chunk({"content": delta.get("text", "")})]
        if kind == "input_json_delta" and int(event.get("index", 0)) in self._json_blocks:
            return [self.chunk({"content": delta.get("partial_json", "")})]
        if kind == "input_json_delta":
            index = self._tool_index.get(int(event.get("index", 0)), 0)
            piece = {"index": index, "function": {"arguments": delta.get("partial_json", "")}}
            return [self.chunk({"tool_calls": [piece]})]
        if kind == "thinking_delta":
            return [self.chunk({"reasoning_content": delta.get("thinking", "")})]
        return []
