"""A chat completion stream as the Responses API's event stream, chunk by chunk.

The text of the answer is one ``message`` item, opened by its first piece of text; each tool
call is a ``function_call`` item, opened by its first chunk. Items are closed, and
``response.completed`` (or ``response.incomplete``) sent with the whole response, when the
provider's stream ends: only then are the usage totals known.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from helioscope.providers.responses_chat import (
    call_item,
    message_item,
    response_object,
    responses_usage,
)

Event = tuple[str, dict[str, Any]]


@dataclass(slots=True)
class _Call:
    output_index: int
    call_id: str
    name: str
    arguments: str = ""


class ResponsesEvents:
    """Turns ``chat.completion.chunk`` objects into Responses API events."""

    def __init__(self, request: dict[str, Any], created: int) -> None:
        self.request = request
        self.created = created
        self._sequence = 0
        self._response: dict[str, Any] | None = None
        self._text: str | None = None  # None until the message item is open
        self._text_index = 0
        self._calls: dict[int, _Call] = {}
        self._outputs = 0
        self._finish: Any = None
        self._usage: Any = None

    def _event(self, kind: str, **fields: Any) -> Event:
        self._sequence += 1
        return kind, {"type": kind, "sequence_number": self._sequence - 1, **fields}

    @property
    def _item_id(self) -> str:
        assert self._response is not None
        return f"msg_{self._response['id']}"

    def feed(self, chunk: dict[str, Any]) -> list[Event]:
        """The events one chat chunk stands for."""
        if "error" in chunk:
            error = chunk.get("error") or {}
            return [
                self._event(
                    "error", code=error.get("code"), message=error.get("message"), param=None
                )
            ]
        out: list[Event] = []
        if self._response is None:
            base = str(chunk.get("id") or "chat")
            self._response = response_object(
                self.request, f"resp_{base}", self.created, chunk.get("model"), None
            )
            self._response["status"] = "in_progress"
            out += [
                self._event("response.created", response=dict(self._response)),
                self._event("response.in_progress", response=dict(self._response)),
            ]
        if chunk.get("usage"):
            self._usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("content"):
                out += self._text_delta(delta["content"])
            for call in delta.get("tool_calls") or []:
                out += self._call_delta(call)
            if choice.get("finish_reason") is not None:
                self._finish = choice["finish_reason"]
        return out

    def _text_delta(self, text: str) -> list[Event]:
        out: list[Event] = []
        if self._text is None:
            self._text, self._text_index = "", self._outputs
            self._outputs += 1
            out += [
                self._event(
                    "response.output_item.added",
                    output_index=self._text_index,
                    item=message_item(self._item_id, "", "in_progress"),
                ),
                self._event(
                    "response.content_part.added",
                    item_id=self._item_id,
                    output_index=self._text_index,
                    content_index=0,
                    part={"type": "output_text", "text": "", "annotations": []},
                ),
            ]
        self._text += text
        where = {"item_id": self._item_id, "output_index": self._text_index, "content_index": 0}
        return [*out, self._event("response.output_text.delta", **where, delta=text, logprobs=[])]

    def _call_delta(self, delta: dict[str, Any]) -> list[Event]:
        index = int(delta.get("index") or 0)
        function = delta.get("function") or {}
        out: list[Event] = []
        call = self._calls.get(index)
        if call is None:
            call = self._calls[index] = _Call(
                self._outputs, str(delta.get("id") or f"call_{index}"), function.get("name") or ""
            )
            self._outputs += 1
            item = call_item(call.call_id, call.name, "", "in_progress")
            out.append(
                self._event("response.output_item.added", output_index=call.output_index, item=item)
            )
        piece = function.get("arguments") or ""
        if piece:
            call.arguments += piece
            out.append(
                self._event(
                    "response.function_call_arguments.delta",
                    item_id=f"fc_{call.call_id}",
                    output_index=call.output_index,
                    delta=piece,
                )
            )
        return out

    def close(self) -> list[Event]:
        """Close the open items and complete the response (the provider's stream has ended)."""
        if self._response is None:
            return []
        out: list[Event] = []
        items: list[tuple[int, dict[str, Any]]] = []
        if self._text is not None:
            item = message_item(self._item_id, self._text)
            where = {"item_id": self._item_id, "output_index": self._text_index, "content_index": 0}
            out += [
                self._event("response.output_text.done", **where, text=self._text, logprobs=[]),
                self._event("response.content_part.done", **where, part=item["content"][0]),
                self._event("response.output_item.done", output_index=self._text_index, item=item),
            ]
            items.append((self._text_index, item))
        for call in self._calls.values():
            item = call_item(call.call_id, call.name, call.arguments)
            out += [
                self._event(
                    "response.function_call_arguments.done",
                    item_id=item["id"],
                    output_index=call.output_index,
                    name=call.name,
                    arguments=call.arguments,
                ),
                self._event("response.output_item.done", output_index=call.output_index, item=item),
            ]
            items.append((call.output_index, item))
        final = response_object(
            self.request, self._response["id"], self.created, self._response["model"], self._finish
        )
        final["output"] = [item for _, item in sorted(items, key=lambda pair: pair[0])]
        final["usage"] = responses_usage(self._usage)
        kind = "response.incomplete" if final["status"] == "incomplete" else "response.completed"
        return [*out, self._event(kind, response=final)]
