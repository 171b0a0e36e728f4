"""OpenAI's Responses API in terms of chat completions, for providers that only speak chat.

A Responses request becomes a chat request (``instructions`` the system message, ``input``
items the messages, function tools and their calls and outputs mapped one to one,
``text.format`` the ``response_format``); the chat answer becomes a ``response`` object, and a
chat stream becomes the Responses event sequence (``response.created`` …
``response.completed``) that OpenAI's SDKs consume.
"""

from __future__ import annotations

from typing import Any

from helioscope.providers.chat_parts import MappingError, text_of
from helioscope.providers.response_format import chat_response_format

_INPUT_PARTS = {"input_text": "text", "output_text": "text", "text": "text"}


def _chat_part(part: Any, where: str) -> dict[str, Any]:
    kind = part.get("type") if isinstance(part, dict) else None
    if kind in _INPUT_PARTS:
        return {"type": "text", "text": str(part.get("text", ""))}
    if kind == "input_image":
        url = part.get("image_url")
        if not isinstance(url, str):
            raise MappingError(f"{where}: input_image needs an image_url (file ids are OpenAI's)")
        return {"type": "image_url", "image_url": {"url": url}}
    raise MappingError(f"{where}: content parts of type {kind!r} cannot be mapped to chat")


def _message(item: dict[str, Any], where: str) -> dict[str, Any]:
    role = item.get("role")
    if role not in ("user", "system", "developer", "assistant"):
        raise MappingError(f"{where}.role must be user, system, developer or assistant")
    content = item.get("content")
    if isinstance(content, list):
        if role == "assistant":
            return {"role": role, "content": text_of(content)}
        content = [_chat_part(p, f"{where}.content") for p in content]
    return {"role": role, "content": content}


def _messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    if isinstance(body.get("instructions"), str):
        messages.append({"role": "system", "content": body["instructions"]})
    items = body.get("input")
    if isinstance(items, str):
        return [*messages, {"role": "user", "content": items}]
    for index, item in enumerate(items or []):
        where = f"input[{index}]"
        kind = item.get("type", "message") if isinstance(item, dict) else None
        if kind == "message":
            messages.append(_message(item, where))
        elif kind == "function_call":
            call = {
                "id": item.get("call_id"),
                "type": "function",
                "function": {"name": item.get("name"), "arguments": item.get("arguments", "{}")},
            }
            last = messages[-1] if messages else None
            if last is not None and last["role"] == "assistant" and "tool_calls" in last:
                last["tool_calls"].append(call)
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            output = item.get("output")
            content = output if isinstance(output, str) else text_of(output)
            messages.append(
                {"role": "tool", "tool_call_id": item.get("call_id"), "content": content}
            )
        elif kind != "reasoning":  # reasoning items are the provider's own; chat has no place
            raise MappingError(f"{where}: items of type {kind!r} cannot be mapped to chat")
    return messages


def _tools(tools: Any) -> list[dict[str, Any]]:
    out = []
    for index, tool in enumerate(tools or []):
        if not isinstance(tool, dict) or tool.get("type") != "function":
            kind = tool.get("type") if isinstance(tool, dict) else None
            raise MappingError(f"tools[{index}]: {kind!r} tools exist only on OpenAI")
        function = {k: tool[k] for k in ("name", "description", "parameters") if k in tool}
        out.append({"type": "function", "function": function})
    return out


# What points at a conversation OpenAI stores: another provider has none of its turns, and
# answering without them would look right and be wrong.
_STORED_STATE = ("previous_response_id", "conversation")


def responses_to_chat(body: dict[str, Any]) -> dict[str, Any]:
    """A Responses request as a chat completion request."""
    for key in _STORED_STATE:
        if body.get(key) is not None:
            raise MappingError(
                f"{key}: the conversations it names are stored by OpenAI only; send the "
                "earlier turns in input instead"
            )
    chat: dict[str, Any] = {"model": body.get("model"), "messages": _messages(body)}
    for source, target in (
        ("max_output_tokens", "max_tokens"),
        ("temperature", "temperature"),
        ("top_p", "top_p"),
        ("user", "user"),
        ("parallel_tool_calls", "parallel_tool_calls"),
        ("stream", "stream"),
    ):
        if body.get(source) is not None:
            chat[target] = body[source]
    if body.get("tools"):
        chat["tools"] = _tools(body["tools"])
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") == "function":
        chat["tool_choice"] = {"type": "function", "function": {"name": choice.get("name")}}
    elif isinstance(choice, str):
        chat["tool_choice"] = choice
    wanted = chat_response_format(body.get("text"))
    if wanted is not None:  # the providers read it as they read a chat call's
        chat["response_format"] = wanted
    if chat.get("stream"):
        chat["stream_options"] = {"include_usage": True}  # response.completed carries usage
    return chat


def responses_usage(usage: Any) -> dict[str, Any] | None:
    """A chat ``usage`` object in the Responses API's terms."""
    if not isinstance(usage, dict):
        return None
    details = usage.get("prompt_tokens_details") or {}
    reasoning = (usage.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0
    prompt, completion = usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0
    return {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": details.get("cached_tokens") or 0},
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": prompt + completion,
    }


def message_item(item_id: str, text: str, status: str = "completed") -> dict[str, Any]:
    """An assistant ``message`` output item."""
    part = {"type": "output_text", "text": text, "annotations": []}
    content = [part] if status == "completed" else []
    return {
        "type": "message",
        "id": item_id,
        "status": status,
        "role": "assistant",
        "content": content,
    }


def call_item(call_id: str, name: str, arguments: str, status: str = "completed") -> dict[str, Any]:
    """A ``function_call`` output item."""
    return {
        "type": "function_call",
        "id": f"fc_{call_id}",
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
        "status": status,
    }


def response_object(
    request: dict[str, Any], response_id: str, created: int, model: Any, finish: Any
) -> dict[str, Any]:
    """A ``response`` object without output and usage (the caller fills them)."""
    incomplete = finish == "length"
    return {
        "id": response_id,
        "object": "response",
        "created_at": created,
        "status": "incomplete" if incomplete else "completed",
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
        "instructions": request.get("instructions"),
        "metadata": request.get("metadata") or {},
        "model": model,
        "output": [],
        "parallel_tool_calls": request.get("parallel_tool_calls", True),
        "temperature": request.get("temperature"),
        "tool_choice": request.get("tool_choice", "auto"),
        "text": request.get("text") or {"format": {"type": "text"}},
        "tools": request.get("tools") or [],
        "top_p": request.get("top_p"),
        "usage": None,
    }


def chat_to_responses(completion: Any, request: dict[str, Any], created: int) -> dict[str, Any]:
    """A chat completion as a ``response`` object."""
    if not isinstance(completion, dict) or not completion.get("choices"):
        raise MappingError("the provider answered a body with no choices")
    choice = completion["choices"][0]
    message = choice.get("message") or {}
    base = str(completion.get("id") or "chat")
    output: list[dict[str, Any]] = []
    if message.get("content"):
        output.append(message_item(f"msg_{base}", text_of(message["content"])))
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        output.append(
            call_item(
                str(call.get("id")), str(function.get("name")), str(function.get("arguments", ""))
            )
        )
    response = response_object(
        request, f"resp_{base}", created, completion.get("model"), choice.get("finish_reason")
    )
    response["output"] = output
    response["usage"] = responses_usage(completion.get("usage"))
    return response
