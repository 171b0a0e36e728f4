"""Prompt variables ``{{hc:name:type}}`` and partials ``{{hcp:<prompt id>:<index>[:env]}}``.

Finding them, checking a value against a variable's type, and substituting values into text and
into JSON (``response_format``, ``tools``). Pure functions: no I/O, no store.

Semantics (Helicone's, see the behaviour reference §6.2): a provided value is type-checked
before anything is replaced; a missing variable is left in the text untouched; falsy values
(``0``, ``false``, ``""``) are substituted like any other. In JSON a string that is exactly one
placeholder becomes the typed value, a key that is exactly one placeholder is renamed, and every
variable is required.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from helioscope.errors import BadRequest

_NAME = r"[a-zA-Z_-][a-zA-Z0-9_-]*"
VARIABLE_PATTERN = re.compile(r"\{\{\s*hc\s*:\s*(" + _NAME + r")\s*:\s*(" + _NAME + r")\s*\}\}")
PARTIAL_PATTERN = re.compile(
    r"\{\{\s*hcp\s*:\s*([a-zA-Z0-9]+)\s*:\s*(\d+)\s*(?::\s*(" + _NAME + r")\s*)?\}\}"
)
_TRUE = frozenset({"true", "yes"})
_FALSE = frozenset({"false", "no"})


class InvalidPromptInput(BadRequest):
    """An input value that does not fit its variable; the message names the variable."""


@dataclass(frozen=True, slots=True)
class TemplateVariable:
    """One ``{{hc:name:type}}`` placeholder."""

    name: str
    type: str
    raw: str


@dataclass(frozen=True, slots=True)
class PromptPartial:
    """One ``{{hcp:prompt_id:index[:environment]}}`` placeholder: a message of another prompt."""

    prompt_id: str
    index: int
    environment: str | None
    raw: str


def _strings(obj: Any) -> list[str]:
    """Every string in a JSON value, keys included, depth first."""
    out: list[str] = []
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict):
            for key, value in reversed(list(item.items())):
                stack.append(value)
                stack.append(key)
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return out


def extract_variables(obj: Any) -> list[TemplateVariable]:
    """The distinct variables of a template (text or JSON), in order of first appearance."""
    seen: dict[str, TemplateVariable] = {}
    for text in _strings(obj):
        if "{{" not in text:
            continue
        for match in VARIABLE_PATTERN.finditer(text):
            name = match.group(1)
            if name not in seen:
                seen[name] = TemplateVariable(name, match.group(2), match.group(0))
    return list(seen.values())


def extract_partials(obj: Any) -> list[PromptPartial]:
    """The distinct partials of a template, in order of first appearance."""
    seen: dict[str, PromptPartial] = {}
    for text in _strings(obj):
        if "{{" not in text:
            continue
        for match in PARTIAL_PATTERN.finditer(text):
            raw = match.group(0)
            if raw not in seen:
                seen[raw] = PromptPartial(match.group(1), int(match.group(2)), match.group(3), raw)
    return list(seen.values())


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value if math.isfinite(value) else None
    if isinstance(value, str) and value.strip():
        try:
            parsed = float(value.strip())
        except ValueError:
            return None
        if not math.isfinite(parsed):
            return None
        return int(parsed) if parsed.is_integer() and "." not in value else parsed
    return None


def _boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    return None


def check_value(name: str, type_: str, value: Any) -> None:
    """Raise ``InvalidPromptInput`` when ``value`` does not fit a variable of type ``type_``."""
    if type_ == "number" and _number(value) is None:
        raise InvalidPromptInput(f"variable '{name}' expects a number, got {_shown(value)}")
    if type_ == "boolean" and _boolean(value) is None:
        raise InvalidPromptInput(
            f"variable '{name}' expects a boolean (true, false, yes or no), got {_shown(value)}"
        )
    if type_ == "string" and (value is None or isinstance(value, dict | list)):
        raise InvalidPromptInput(f"variable '{name}' expects a string, got {_shown(value)}")


def _shown(value: Any) -> str:
    text = orjson.dumps(value).decode() if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def validate_inputs(variables: list[TemplateVariable], inputs: Mapping[str, Any]) -> None:
    """Type-check every provided input that a variable names; missing ones are not errors."""
    for variable in variables:
        if variable.name in inputs:
            check_value(variable.name, variable.type, inputs[variable.name])


def as_text(value: Any) -> str:
    """A value as it appears in text (JavaScript's ``String(value)`` for scalars)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    return orjson.dumps(value).decode()


def substitute_text(
    text: str, inputs: Mapping[str, Any], partials: Mapping[str, str] | None = None
) -> str:
    """Replace partials, then the variables that have inputs; the others stay as they are."""
    if "{{" not in text:
        return text
    if partials:
        text = PARTIAL_PATTERN.sub(lambda m: partials.get(m.group(0), m.group(0)), text)

    def replace(match: re.Match[str]) -> str:
        name, type_ = match.group(1), match.group(2)
        if name not in inputs:
            return match.group(0)
        check_value(name, type_, inputs[name])
        return as_text(inputs[name])

    return VARIABLE_PATTERN.sub(replace, text)


def typed_value(name: str, type_: str, value: Any) -> Any:
    """The value converted to its variable's type (``"3"`` for a number becomes ``3``)."""
    check_value(name, type_, value)
    if type_ == "number":
        return _number(value)
    if type_ == "boolean":
        return _boolean(value)
    if type_ == "string":
        return as_text(value)
    return value


def substitute_json(obj: Any, inputs: Mapping[str, Any], where: str = "json") -> Any:
    """Substitute variables inside a JSON value, where every variable must have an input.

    A string that is exactly one placeholder becomes the typed value; a key that is exactly one
    placeholder is renamed and needs a string input; other strings are substituted as text.
    """
    if isinstance(obj, str):
        match = VARIABLE_PATTERN.fullmatch(obj.strip())
        if match is not None:
            name, type_ = match.group(1), match.group(2)
            return typed_value(name, type_, _required(name, inputs, where))
        for variable in extract_variables(obj):
            _required(variable.name, inputs, where)
        return substitute_text(obj, inputs)
    if isinstance(obj, list):
        return [substitute_json(item, inputs, where) for item in obj]
    if isinstance(obj, dict):
        return {
            _json_key(key, inputs, where): substitute_json(value, inputs, where)
            for key, value in obj.items()
        }
    return obj


def _required(name: str, inputs: Mapping[str, Any], where: str) -> Any:
    if name not in inputs:
        raise InvalidPromptInput(f"variable '{name}' used in {where} needs an input value")
    return inputs[name]


def _json_key(key: str, inputs: Mapping[str, Any], where: str) -> str:
    match = VARIABLE_PATTERN.fullmatch(key.strip())
    if match is None:
        return substitute_json(key, inputs, where) if "{{" in key else key
    value = _required(match.group(1), inputs, where)
    if not isinstance(value, str):
        raise InvalidPromptInput(
            f"variable '{match.group(1)}' names a key in {where}, so it needs a string input, "
            f"got {_shown(value)}"
        )
    return value
