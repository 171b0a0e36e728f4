"""OpenAI's ``response_format`` in the terms of the providers that have no such field.

Gemini has its own: ``generationConfig.responseMimeType: "application/json"`` asks for JSON,
and ``responseJsonSchema`` (a JSON schema, as OpenAI's) constrains it.

Anthropic has none. A ``json_schema`` becomes one tool, ``JSON_TOOL``, whose input schema is
the schema, and which the call is made to use (``tool_choice`` naming it; beside the caller's
own tools, ``any`` of them: ``anthropic_chat._answer_choice`` says why): the model's
``tool_use`` input is then the JSON answer, and comes back as the message's ``content`` with
finish reason ``stop`` (what LiteLLM's users get). ``json_object``, or a ``json_schema``
without a schema, can give Anthropic no schema: it asks for JSON in the system prompt.

The Responses API asks the same in ``text.format`` (the schema's fields flat, beside its
``type``): ``chat_response_format`` turns it into chat's ``response_format``, so both APIs reach
a provider through this one mapping.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from helioscope.providers.chat_parts import MappingError

# The tool a json_schema answer comes in from Anthropic. Reserved: a caller's tool of that name
# is refused, so that its calls cannot be taken for the answer.
JSON_TOOL = "json_tool_call"
JSON_INSTRUCTION = (
    "Answer with one valid JSON object and nothing else: no prose, no Markdown code fence."
)
_KINDS = ("text", "json_object", "json_schema")


@dataclass(frozen=True, slots=True)
class ResponseFormat:
    """A chat request's ``response_format``: JSON wanted, and its schema when one is given."""

    schema: dict[str, Any] | None
    description: str | None = None


def _kind(value: Any, where: str) -> str:
    """The ``type`` of a response format, one of ``_KINDS``; ``MappingError`` naming ``where``."""
    kind = value.get("type") if isinstance(value, dict) else None
    if kind not in _KINDS:
        raise MappingError(f"{where}.type must be one of {', '.join(_KINDS)}, got {kind!r}")
    return str(kind)


def response_format(chat: dict[str, Any]) -> ResponseFormat | None:
    """The JSON a chat request asks for, or None for text; ``MappingError`` if malformed."""
    value = chat.get("response_format")
    if value is None:
        return None
    kind = _kind(value, "response_format")
    if kind == "text":
        return None
    if kind == "json_object":
        return ResponseFormat(None)
    spec = value.get("json_schema")
    if not isinstance(spec, dict):
        raise MappingError("response_format.json_schema must be an object (name, schema)")
    schema = spec.get("schema")
    if schema is not None and not isinstance(schema, dict):
        raise MappingError("response_format.json_schema.schema must be a JSON schema object")
    description = spec.get("description")
    return ResponseFormat(schema or None, description if isinstance(description, str) else None)


def chat_response_format(text: Any) -> dict[str, Any] | None:
    """A Responses request's ``text.format`` as chat's ``response_format`` (None for text)."""
    if text is None:
        return None
    if not isinstance(text, dict):
        raise MappingError("text must be an object (format, verbosity)")
    value = text.get("format")
    if value is None:
        return None
    kind = _kind(value, "text.format")
    if kind != "json_schema":
        return {"type": kind}
    spec = {k: value[k] for k in ("name", "schema", "description", "strict") if k in value}
    return {"type": "json_schema", "json_schema": spec}


def gemini_fields(chat: dict[str, Any]) -> dict[str, Any]:
    """The ``generationConfig`` fields for the request's ``response_format`` (maybe none)."""
    wanted = response_format(chat)
    if wanted is None:
        return {}
    fields: dict[str, Any] = {"responseMimeType": "application/json"}
    if wanted.schema is not None:
        fields["responseJsonSchema"] = wanted.schema
    return fields


def anthropic_json_tool(wanted: ResponseFormat) -> dict[str, Any] | None:
    """The tool a json_schema answer is asked for in, or None when there is no schema."""
    schema = wanted.schema
    if schema is None:
        return None
    if schema.get("type", "object") != "object":
        # Anthropic's input_schema must describe an object (as OpenAI's strict schemas must).
        raise MappingError(
            "response_format.json_schema.schema must describe an object to go to Anthropic "
            f"(its type is {schema.get('type')!r})"
        )
    return {
        "name": JSON_TOOL,
        "description": wanted.description or "Give the answer as this tool's input.",
        "input_schema": schema,
    }


def json_tool_of(chat: dict[str, Any]) -> str | None:
    """The tool an Anthropic answer carries its JSON in, when the request asked for one."""
    value = chat.get("response_format")
    if not isinstance(value, dict) or value.get("type") != "json_schema":
        return None  # the common case, checked first: most calls ask for no format
    try:
        wanted = response_format(chat)
    except MappingError:
        return None  # (such a request was refused before it was sent)
    return JSON_TOOL if wanted is not None and wanted.schema is not None else None
