"""Running one evaluator on one logged request, and storing its score under Helicone's key."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from helioscope.errors import BadRequest, NotFound
from helioscope.experiments._gateway import SelfGateway
from helioscope.experiments._judge import SCORING_TYPES, JudgeInput, answer_text, judge_body
from helioscope.experiments._judge import read_score as read_judge_score
from helioscope.experiments.sandbox import SandboxLimits, run_code
from helioscope.store import Store
from helioscope.store.log import requests

BOOL_SUFFIX = "-hcone-bool"
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


class EvaluationFailed(Exception):
    """An evaluator could not produce a score; the message says why."""


def score_key(name: str, is_bool: bool) -> str:
    """Helicone's score key: lower-case name, other characters as ``_``, booleans suffixed."""
    return _NON_ALNUM.sub("_", name.lower()) + (BOOL_SUFFIX if is_bool else "")


def stored_value(score: float | bool) -> float:
    """A score as stored: booleans are 1 or 0."""
    return (1.0 if score else 0.0) if isinstance(score, bool) else float(score)


def code_of(evaluator: Mapping[str, Any]) -> str | None:
    """A code evaluator's source (``code_template`` may be text or ``{"code": …}``)."""
    code = evaluator.get("code_template")
    if isinstance(code, dict):
        code = code.get("code")
    return code if isinstance(code, str) and code.strip() else None


def check_evaluator(fields: Mapping[str, Any]) -> None:
    """A 400 unless the evaluator has code, or an LLM template with a known scoring type."""
    if code_of(fields) is not None:
        return
    if fields.get("llm_template") is None:
        raise BadRequest("an evaluator needs a code_template or an llm_template")
    if fields.get("scoring_type") not in SCORING_TYPES:
        raise BadRequest(f"scoring_type must be one of {', '.join(SCORING_TYPES)}")


def _text(body: Any) -> str:
    if body is None:
        return ""
    return body if isinstance(body, str) else orjson.dumps(body).decode()


@dataclass(slots=True)
class Evaluation:
    """Everything an evaluator looks at for one request."""

    request_body: str
    response_body: str
    inputs: Mapping[str, Any]
    prompt_template: str = ""


class Evaluations:
    """Runs evaluators: code in the sandbox, LLM judges through the gateway."""

    def __init__(
        self, store: Store, gateway: SelfGateway, limits: SandboxLimits, judge_model: str
    ) -> None:
        self.store = store
        self.gateway = gateway
        self.limits = limits
        self.judge_model = judge_model

    async def score(
        self, org_id: str, evaluator: Mapping[str, Any], seen: Evaluation, key: str | None
    ) -> float | bool:
        """The evaluator's score for ``seen`` (``key``: an API key for judge calls)."""
        code = code_of(evaluator)
        if code is not None:
            result = await run_code(
                code,
                request_body=seen.request_body,
                response_body=seen.response_body,
                inputs=dict(seen.inputs),
                limits=self.limits,
            )
            try:
                return result.score
            except ValueError as exc:
                raise EvaluationFailed(str(exc)) from None
        return await self._judge(org_id, evaluator, seen, key)

    async def _judge(
        self, org_id: str, evaluator: Mapping[str, Any], seen: Evaluation, key: str | None
    ) -> float | bool:
        name, scoring_type = str(evaluator["name"]), str(evaluator["scoring_type"])
        body = judge_body(
            name,
            scoring_type,
            evaluator.get("llm_template"),
            JudgeInput(
                inputs=seen.inputs,
                output_text=answer_text(_parsed(seen.response_body)),
                input_body=seen.request_body,
                output_body=seen.response_body,
                prompt_template=seen.prompt_template,
            ),
            self.judge_model,
        )
        headers = {"helicone-property-helicone-evaluator": name}
        if key is None:
            async with self.gateway.key_for(org_id) as temporary:
                reply = await self.gateway.chat(temporary, body, headers)
        else:
            reply = await self.gateway.chat(key, body, headers)
        if reply.error is not None:
            raise EvaluationFailed(reply.error)
        try:
            return read_judge_score(name, scoring_type, reply.body)
        except ValueError as exc:
            raise EvaluationFailed(str(exc)) from None

    async def on_request(
        self,
        org_id: str,
        evaluator: Mapping[str, Any],
        request_id: str,
        inputs: Mapping[str, Any] | None = None,
        key: str | None = None,
    ) -> tuple[str, float | bool]:
        """Score a logged request and store the score on it; returns ``(key, score)``."""
        row = await self.store.log.org(org_id).read(requests.get_request, request_id)
        if row is None:
            raise NotFound(f"request {request_id} not found")
        seen = Evaluation(
            request_body=_text(row.get("request_body")),
            response_body=_text(row.get("response_body")),
            inputs=inputs if inputs is not None else dict(row.get("prompt_inputs") or {}),
        )
        score = await self.score(org_id, evaluator, seen, key)
        name = score_key(str(evaluator["name"]), isinstance(score, bool))
        await self.store.log.org(org_id).write(
            requests.add_scores, request_id, {name: stored_value(score)}
        )
        return name, score


def _parsed(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text
