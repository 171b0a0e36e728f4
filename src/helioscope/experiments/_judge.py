"""LLM-as-judge evaluators: a chat call with one forced tool whose argument is the score.

The evaluator's ``llm_template`` is an OpenAI chat body. Its strings may name what is judged as
legacy input tags (``<helicone-prompt-input key="outputs" />``) or ``{{outputs}}``; the keys are
``inputs`` (the row's inputs as JSON), ``outputs`` (the answer's text), ``inputBody``,
``outputBody`` (the raw bodies), ``promptTemplate``, and each input by name. When the template
brings no tool, one is added from the scoring type, with a single parameter named after the
evaluator: a boolean (``LLM-BOOLEAN``), an integer (``LLM-CHOICE``, from ``choices`` if the
template lists them) or a number between ``min`` and ``max`` (``LLM-RANGE``, default 1..100).
The score is that argument of the first tool call in the answer.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from helioscope.errors import BadRequest
from helioscope.prompts import fill_legacy_template

SCORING_TYPES = ("LLM-BOOLEAN", "LLM-CHOICE", "LLM-RANGE")
_CONFIG_KEYS = ("choices", "min", "max", "description")
_MUSTACHE = re.compile(r"\{\{\s*([A-Za-z_][\w-]*)\s*\}\}")


@dataclass(frozen=True, slots=True)
class JudgeInput:
    """What one judgement looks at."""

    inputs: Mapping[str, Any]
    output_text: str
    input_body: str
    output_body: str
    prompt_template: str = ""

    def variables(self) -> dict[str, str]:
        """Every key a template may name, as text."""
        named = {
            k: v if isinstance(v, str) else orjson.dumps(v).decode() for k, v in self.inputs.items()
        }
        return {
            **named,
            "inputs": orjson.dumps(dict(self.inputs)).decode(),
            "outputs": self.output_text,
            "output": self.output_text,
            "inputBody": self.input_body,
            "outputBody": self.output_body,
            "promptTemplate": self.prompt_template,
        }


def parse_template(template: Any) -> dict[str, Any]:
    """The template as a chat body (it may arrive as JSON text); a 400 if it is not one."""
    if isinstance(template, str):
        try:
            template = orjson.loads(template)
        except orjson.JSONDecodeError:
            raise BadRequest("llm_template must be an OpenAI chat body (JSON)") from None
    if not isinstance(template, dict) or not isinstance(template.get("messages"), list):
        raise BadRequest("llm_template must be a chat body with a 'messages' list")
    return template


def _parameter(scoring_type: str, template: Mapping[str, Any]) -> dict[str, Any]:
    description = str(template.get("description") or "The score.")
    if scoring_type == "LLM-BOOLEAN":
        return {"type": "boolean", "description": description}
    if scoring_type == "LLM-CHOICE":
        choices = template.get("choices") or [1, 2, 3, 4, 5]
        return {"type": "integer", "enum": [int(c) for c in choices], "description": description}
    low, high = template.get("min", 1), template.get("max", 100)
    return {"type": "number", "minimum": low, "maximum": high, "description": description}


def _fill(value: Any, variables: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return _MUSTACHE.sub(lambda m: variables.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [_fill(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, variables) for k, v in value.items()}
    return value


def judge_body(
    name: str, scoring_type: str, template: Any, seen: JudgeInput, default_model: str
) -> dict[str, Any]:
    """The chat body that asks the judge, with its one forced tool."""
    if scoring_type not in SCORING_TYPES:
        raise BadRequest(f"scoring_type must be one of {', '.join(SCORING_TYPES)}")
    body = copy.deepcopy(parse_template(template))  # the evaluator's own stays as it is
    config = {k: body.pop(k) for k in _CONFIG_KEYS if k in body}
    variables = seen.variables()
    body = _fill(fill_legacy_template(body, variables), variables)
    body.setdefault("model", default_model)
    if not body.get("tools"):
        parameters = {
            "type": "object",
            "properties": {name: _parameter(scoring_type, config)},
            "required": [name],
        }
        body["tools"] = [
            {"type": "function", "function": {"name": "score", "parameters": parameters}}
        ]
    function = body["tools"][0].get("function", {}).get("name", "score")
    body["tool_choice"] = {"type": "function", "function": {"name": function}}
    body.pop("stream", None)
    return dict(body)


def read_score(name: str, scoring_type: str, answer: Any) -> float | bool:
    """The score in the judge's answer: the evaluator's argument of its first tool call."""
    try:
        call = answer["choices"][0]["message"]["tool_calls"][0]
        arguments = orjson.loads(call["function"]["arguments"])
    except (KeyError, IndexError, TypeError, orjson.JSONDecodeError):
        raise ValueError("the judge did not answer with a tool call") from None
    if not isinstance(arguments, dict) or not arguments:
        raise ValueError("the judge's tool call has no arguments")
    value = arguments.get(name, next(iter(arguments.values())) if len(arguments) == 1 else None)
    if scoring_type == "LLM-BOOLEAN":
        if not isinstance(value, bool):
            raise ValueError(f"the judge answered {value!r}, not a boolean")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"the judge answered {value!r}, not a number")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"the judge answered {value!r}, not a number") from None
    return float(int(number)) if scoring_type == "LLM-CHOICE" else number


def answer_text(body: Any) -> str:
    """The text of a chat answer (its first choice), or the body as JSON."""
    try:
        content = body["choices"][0]["message"]["content"]
        if isinstance(content, str):
            return content
    except (KeyError, IndexError, TypeError):
        pass
    return body if isinstance(body, str) else orjson.dumps(body).decode()
