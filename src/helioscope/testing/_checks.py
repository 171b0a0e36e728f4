"""What the fake provider refuses as the real ones do: malformed Anthropic and Gemini bodies.

A gateway that translates OpenAI calls into these formats is only proven by a provider that
rejects what the real one rejects. These checks cover the rules a translation can get wrong:
Anthropic's required ``max_tokens``, its user/assistant alternation, system prompts outside the
messages, ``tool_result`` blocks answering the ``tool_use`` blocks just before them, tool names
and a ``tool_choice`` naming one of the tools; Gemini's ``user``/``model`` roles, parts that
hold exactly one kind of data, ``candidateCount`` (1 to 8) and a response schema only with
``responseMimeType: application/json``.
"""

from __future__ import annotations

import re
from typing import Any

_TOOL_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
_ANTHROPIC_BLOCKS = {"text", "image", "document", "tool_use", "tool_result", "thinking"}
_GEMINI_PART_KINDS = (
    ("text",),
    ("inlineData", "inline_data"),
    ("fileData", "file_data"),
    ("functionCall", "function_call"),
    ("functionResponse", "function_response"),
)


def _blocks(message: dict[str, Any]) -> list[Any]:
    content = message.get("content")
    return content if isinstance(content, list) else []


def _tool_use_ids(message: dict[str, Any] | None) -> set[Any]:
    if message is None or message.get("role") != "assistant":
        return set()
    return {
        b.get("id") for b in _blocks(message) if isinstance(b, dict) and b["type"] == "tool_use"
    }


def _anthropic_message(index: int, message: Any, previous: dict[str, Any] | None) -> str | None:
    where = f"messages.{index}"
    if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
        return f"{where}.role: must be 'user' or 'assistant'"
    if previous is None and message["role"] != "user":
        return "messages: the first message must use the 'user' role"
    if previous is not None and previous.get("role") == message["role"]:
        return f"{where}: roles must alternate between 'user' and 'assistant'"
    content = message.get("content")
    if not isinstance(content, str | list) or not content:
        return f"{where}.content: must be a non-empty string or list of blocks"
    answered = _tool_use_ids(previous)
    for block in _blocks(message):
        kind = block.get("type") if isinstance(block, dict) else None
        if kind not in _ANTHROPIC_BLOCKS:
            return f"{where}.content: unknown block type {kind!r}"
        if kind == "tool_result" and block.get("tool_use_id") not in answered:
            return f"{where}: tool_result {block.get('tool_use_id')!r} answers no tool_use"
    return None


def anthropic_problem(data: dict[str, Any]) -> str | None:
    """Why Anthropic would refuse ``data``, or None."""
    if not isinstance(data.get("model"), str):
        return "model: field required"
    max_tokens = data.get("max_tokens")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        return "max_tokens: field required (a positive integer)"
    messages = data.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    previous: dict[str, Any] | None = None
    for index, message in enumerate(messages):
        problem = _anthropic_message(index, message, previous)
        if problem is not None:
            return problem
        previous = message
    system = data.get("system")
    if system is not None and not isinstance(system, str | list):
        return "system: must be a string or a list of text blocks"
    return _anthropic_tools(data)


def _anthropic_tools(data: dict[str, Any]) -> str | None:
    names = []
    for tool in data.get("tools") or []:
        if not isinstance(tool, dict) or not isinstance(tool.get("input_schema"), dict):
            return "tools: each tool needs a name and an input_schema object"
        if not _TOOL_NAME.fullmatch(str(tool.get("name"))):
            return f"tools.name: {tool.get('name')!r} does not match ^[a-zA-Z0-9_-]{{1,64}}$"
        names.append(tool["name"])
    choice = data.get("tool_choice")
    if (
        isinstance(choice, dict)
        and choice.get("type") == "tool"
        and choice.get("name") not in names
    ):
        return f"tool_choice: tool {choice.get('name')!r} not found in tools"
    return None


def _gemini_part(where: str, part: Any) -> str | None:
    if not isinstance(part, dict):
        return f"{where}: must be an object"
    kinds = [names[0] for names in _GEMINI_PART_KINDS if any(n in part for n in names)]
    if len(kinds) != 1:
        return (
            f"{where}: a part holds exactly one kind of data (text, inlineData, functionCall, ...)"
        )
    return None


def _generation_config(config: dict[str, Any]) -> str | None:
    count = config.get("candidateCount", 1)
    if not isinstance(count, int) or not 1 <= count <= 8:
        return "generationConfig.candidateCount: must be between 1 and 8"
    schemas = [k for k in ("responseSchema", "responseJsonSchema") if k in config]
    if len(schemas) > 1:
        return "generationConfig: responseSchema and responseJsonSchema cannot both be set"
    if schemas and config.get("responseMimeType") != "application/json":
        return f"generationConfig.{schemas[0]}: needs responseMimeType application/json"
    return None


def gemini_problem(data: dict[str, Any]) -> str | None:
    """Why Gemini would refuse ``data``, or None."""
    contents = data.get("contents")
    if not isinstance(contents, list) or not contents:
        return "contents: must not be empty"
    problem = _generation_config(data.get("generationConfig") or {})
    if problem is not None:
        return problem
    for index, content in enumerate(contents):
        where = f"contents[{index}]"
        if not isinstance(content, dict) or content.get("role") not in ("user", "model"):
            return f"{where}.role: must be 'user' or 'model'"
        parts = content.get("parts")
        if not isinstance(parts, list) or not parts:
            return f"{where}.parts: must not be empty"
        for number, part in enumerate(parts):
            problem = _gemini_part(f"{where}.parts[{number}]", part)
            if problem is not None:
                return problem
    return None
