"""LLM security: a prompt-injection detector behind a small interface, and the built-in one.

The built-in detector runs locally (no network, no model download): weighted patterns for the
known families of injection (overriding instructions, extracting the system prompt, role-play
jailbreaks, forged chat-template markers, encoded payloads). A user replaces it by pointing the
``HELIOSCOPE_PROMPT_INJECTION_DETECTOR`` setting at ``package.module:factory``, a callable that
returns any object with an async ``detect(text)``.
"""

from __future__ import annotations

import base64
import binascii
import importlib
import re
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Detection:
    """A detector's verdict on one text."""

    is_threat: bool
    score: float = 0.0
    findings: list[str] = field(default_factory=list)


class PromptInjectionDetector(Protocol):
    """What the gateway asks of a detector."""

    async def detect(self, text: str) -> Detection:
        """Judge ``text`` (the last user message of a chat call)."""
        ...


_I = re.IGNORECASE | re.DOTALL
# (name, weight, pattern). A score of 1.0 or more is a threat: one strong signal is enough,
# weak ones must add up, so ordinary prose that mentions "instructions" does not trip it.
_PATTERNS: tuple[tuple[str, float, re.Pattern[str]], ...] = (
    (
        "override previous instructions",
        1.0,
        re.compile(
            r"\b(ignore|disregard|forget|override|bypass|skip)\b.{0,40}\b(previous|prior|above|"
            r"earlier|preceding|all|any|your|the|system)\b.{0,30}\b(instructions?|prompts?|rules|"
            r"directions|guidelines|context|messages?)\b",
            _I,
        ),
    ),
    (
        "reveal the system prompt",
        1.0,
        re.compile(
            r"\b(reveal|print|show|output|repeat|leak|tell me|give me|what (is|are))\b.{0,40}"
            r"\b(system|hidden|initial|original|secret)\s+(prompt|instructions?|message)",
            _I,
        ),
    ),
    (
        "jailbreak persona",
        1.0,
        re.compile(
            r"\b(DAN|do anything now|developer mode|jailbr(eak|oken)|god mode|unfiltered mode|"
            r"no (restrictions|limitations|filters|rules))\b",
            _I,
        ),
    ),
    (
        "new identity",
        0.6,
        re.compile(
            r"\b(you are now|from now on,? you|pretend (to be|you are)|act as if you|"
            r"roleplay as|new instructions?:)\b",
            _I,
        ),
    ),
    (
        "forged chat-template or role marker",
        1.0,
        re.compile(
            r"(<\|im_start\|>|<\|im_end\|>|<\|system\|>|\[INST\]|<<SYS>>|^\s*#{2,}\s*system\b|"
            r"^\s*system\s*:)",
            _I | re.MULTILINE,
        ),
    ),
    (
        "policy evasion",
        0.5,
        re.compile(
            r"\b(without (any )?(restrictions|censorship|filters)|ignore (your )?(safety|ethic)|"
            r"not bound by|no longer (bound|restricted))\b",
            _I,
        ),
    ),
)
_BASE64 = re.compile(r"[A-Za-z0-9+/]{40,}={0,2}")


def _decoded_payloads(text: str) -> list[str]:
    out = []
    for blob in _BASE64.findall(text):
        try:
            decoded = base64.b64decode(blob, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
        out.append(decoded)
    return out


class HeuristicDetector:
    """The built-in detector: weighted patterns, also run on base64 payloads hidden in the text."""

    def __init__(self, threshold: float = 1.0) -> None:
        self.threshold = threshold

    async def detect(self, text: str) -> Detection:
        """Score ``text``; a threat when the score reaches the threshold."""
        return self.check(text)

    def check(self, text: str) -> Detection:
        """The synchronous scoring behind ``detect``."""
        score, findings = 0.0, []
        for candidate in (text, *_decoded_payloads(text)):
            for name, weight, pattern in _PATTERNS:
                if name not in findings and pattern.search(candidate):
                    findings.append(name)
                    score += weight
        return Detection(score >= self.threshold, score, findings)


def load_detector(spec: str | None) -> PromptInjectionDetector:
    """The detector named by ``package.module:factory``, or the built-in one."""
    if not spec:
        return HeuristicDetector()
    module_name, _, attr = spec.partition(":")
    if not attr:
        raise ValueError(
            f"prompt injection detector must be 'package.module:factory', got {spec!r}"
        )
    factory: Any = getattr(importlib.import_module(module_name), attr)
    detector = factory()
    if not callable(getattr(detector, "detect", None)):
        raise ValueError(f"{spec} did not return an object with an async detect(text) method")
    result: PromptInjectionDetector = detector
    return result


def last_user_text(body: Any) -> str | None:
    """The text of the last message when it is the user's (what Helicone checks), else None."""
    if not isinstance(body, dict):
        return None
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return None
    last = messages[-1]
    if not isinstance(last, dict) or last.get("role") != "user":
        return None
    content = last.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text") for p in content if isinstance(p, dict)]
        return "\n".join(p for p in parts if isinstance(p, str)) or None
    return None
