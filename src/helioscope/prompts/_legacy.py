"""Legacy prompts: ``<helicone-prompt-input key="…">value</helicone-prompt-input>`` tags.

A call through the gateway with ``Helicone-Prompt-Id`` wraps its variables in these tags. The
provider receives the text with the tags removed (inner text kept); Helioscope keeps a template
where each tag is the self-closing ``<helicone-prompt-input key="name" />`` and the inputs
``{name: trimmed value}`` (behaviour reference §6.1). Filling a template puts inputs back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

TAG_MARKER = b"<helicone-prompt-input"
_INPUT_TAG = re.compile(
    r"<helicone-prompt-input\s+key\s*=\s*\"([^\"]*)\"\s*>(.*?)</helicone-prompt-input>", re.DOTALL
)
_TEMPLATE_TAG = re.compile(r"<helicone-prompt-input\s+key\s*=\s*\"([^\"]*)\"\s*/>")
_AUTO_TAG = re.compile(r"^\s*<helicone-auto-prompt-input\s+idx\s*=\s*\"?(\d+)\"?\s*/>\s*$")
_REMOVE = object()  # marks an array item whose auto input does not exist


@dataclass(frozen=True, slots=True)
class LegacyExtraction:
    """A call body split into what the provider gets and what Helioscope records."""

    forward: Any  # the body with every tag replaced by its inner text
    template: Any  # the body with every tag replaced by its self-closing form
    inputs: dict[str, str]


def template_tag(key: str) -> str:
    """The self-closing tag that stands for input ``key`` in a stored template."""
    return f'<helicone-prompt-input key="{key}" />'


def _split(text: str, inputs: dict[str, str]) -> tuple[str, str]:
    if "<helicone-prompt-input" not in text:
        return text, text

    def forward(match: re.Match[str]) -> str:
        inputs[match.group(1)] = match.group(2).strip()
        return match.group(2)

    return (
        _INPUT_TAG.sub(forward, text),
        _INPUT_TAG.sub(lambda m: template_tag(m.group(1)), text),
    )


def _walk(obj: Any, inputs: dict[str, str]) -> tuple[Any, Any]:
    if isinstance(obj, str):
        return _split(obj, inputs)
    if isinstance(obj, list):
        pairs = [_walk(item, inputs) for item in obj]
        return [p[0] for p in pairs], [p[1] for p in pairs]
    if isinstance(obj, dict):
        forward: dict[str, Any] = {}
        template: dict[str, Any] = {}
        for key, value in obj.items():
            forward[key], template[key] = _walk(value, inputs)
        return forward, template
    return obj, obj


def extract_legacy(body: Any) -> LegacyExtraction:
    """Split a parsed JSON body into the forwarded body, the template and the inputs."""
    inputs: dict[str, str] = {}
    forward, template = _walk(body, inputs)
    return LegacyExtraction(forward=forward, template=template, inputs=inputs)


def legacy_input_keys(template: Any) -> list[str]:
    """The input keys a stored template uses, in order of first appearance."""
    keys: dict[str, None] = {}
    stack = [template]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            for match in _TEMPLATE_TAG.finditer(item):
                keys.setdefault(match.group(1))
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return list(keys)


def fill_legacy_template(
    template: Any, inputs: Mapping[str, Any], auto_inputs: Sequence[Any] | None = None
) -> Any:
    """A stored template with ``inputs`` put back in place of its tags.

    A key without an input keeps its tag, so what is missing stays visible. A string that is
    exactly ``<helicone-auto-prompt-input idx=N />`` becomes ``auto_inputs[N]``; array items
    whose auto input does not exist are dropped.
    """
    filled = _fill(template, inputs, auto_inputs or ())
    return None if filled is _REMOVE else filled


def _fill(obj: Any, inputs: Mapping[str, Any], auto: Sequence[Any]) -> Any:
    if isinstance(obj, str):
        auto_match = _AUTO_TAG.match(obj)
        if auto_match is not None:
            index = int(auto_match.group(1))
            return auto[index] if index < len(auto) else _REMOVE
        if "<helicone-prompt-input" not in obj:
            return obj
        return _TEMPLATE_TAG.sub(
            lambda m: str(inputs[m.group(1)]) if m.group(1) in inputs else m.group(0), obj
        )
    if isinstance(obj, list):
        items = [_fill(item, inputs, auto) for item in obj]
        return [item for item in items if item is not _REMOVE]
    if isinstance(obj, dict):
        out = {}
        for key, value in obj.items():
            filled = _fill(value, inputs, auto)
            if filled is not _REMOVE:
                out[key] = filled
        return out
    return obj
