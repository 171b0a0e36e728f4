"""The ``Security`` tag: the gateway's prompt-injection detector, asked directly.

``POST /v1/public/security`` runs the same detector the gateway runs for
``Helicone-LLM-Security-Enabled`` (the built-in local one, or the one
``HELIOSCOPE_PROMPT_INJECTION_DETECTOR`` names) on a text, and answers ``{"unsafe": bool}``.
``advanced`` makes it stricter, as Helicone's advanced check is: with the built-in detector,
weak signals count on their own (a score of 0.5 rather than 1.0), so a role-play preamble or a
request to drop restrictions is unsafe even without a direct instruction override.

Helicone serves this route without a key; here it needs one (any scope): it reads nothing of
the organization, but an open endpoint would let anyone use the server's CPU.
"""

from __future__ import annotations

from typing import Any, Protocol

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from helioscope.api.envelope import ERROR_RESPONSES, Result

reads = APIRouter(prefix="/v1/public/security", tags=["Security"], responses=ERROR_RESPONSES)

ADVANCED_SCORE = 0.5  # the built-in detector's weak signals weigh 0.5 to 0.6


class _Detector(Protocol):
    async def detect(self, text: str) -> Any: ...


class SecurityRequest(BaseModel):
    """The text to check, and whether to check it strictly."""

    text: str = Field(max_length=1_000_000)
    advanced: bool = False


class Verdict(BaseModel):
    """Whether the text looks like a prompt injection."""

    unsafe: bool


def _detector(request: Request) -> _Detector:
    # The running gateway's detector: one instance, configured once, shared with the API.
    detector: _Detector = request.app.state.services.started.gateway.controls.screening.detector
    return detector


@reads.post("", response_model=Result[Verdict])
async def get_security(body: SecurityRequest, request: Request) -> Result[Verdict]:
    """Run the prompt-injection detector on ``text``."""
    detection = await _detector(request).detect(body.text)
    unsafe = bool(detection.is_threat)
    score = getattr(detection, "score", None)
    if body.advanced and isinstance(score, int | float):
        unsafe = unsafe or score >= ADVANCED_SCORE
    return Result(data=Verdict(unsafe=unsafe))
