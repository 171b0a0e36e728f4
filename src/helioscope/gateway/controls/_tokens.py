"""Helicone-Token-Limit-Exception-Handler: fit a prompt to the model's context before sending it.

Input tokens are estimated as characters x 0.25, as Helicone does; the limit is the model's
context length minus the requested ``max_tokens`` (or minus 10 % of the context when none is
requested). Unknown models are sent as they are: there is no limit to enforce.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

TOKENS_PER_CHAR = 0.25
MIDDLE_OUT_CHUNK = 1000

# Context lengths by model-name prefix, longest prefix first wins.
_CONTEXT: tuple[tuple[str, int], ...] = (
    ("gpt-4o-mini", 128_000),
    ("gpt-4o", 128_000),
    ("gpt-4.1", 1_047_576),
    ("gpt-4-turbo", 128_000),
    ("gpt-4-32k", 32_768),
    ("gpt-4", 8_192),
    ("gpt-3.5-turbo-instruct", 4_096),
    ("gpt-3.5-turbo", 16_385),
    ("gpt-5", 400_000),
    ("o1-mini", 128_000),
    ("o1", 200_000),
    ("o3", 200_000),
    ("o4-mini", 200_000),
    ("claude-", 200_000),
    ("gemini-1.5", 1_048_576),
    ("gemini-2", 1_048_576),
    ("llama-3", 128_000),
    ("mistral-large", 128_000),
    ("deepseek", 64_000),
)
_WS = re.compile(r"\s+")


def context_length(model: str) -> int | None:
    """The context window of ``model``, or None when unknown.

    The model may carry a provider on either side of a slash: ``openai/gpt-4o`` (Helicone's
    Rust gateway) or ``gpt-4o/openai`` (its AI Gateway).
    """
    matches = [
        (len(p), n) for part in model.lower().split("/") for p, n in _CONTEXT if part.startswith(p)
    ]
    return max(matches)[1] if matches else None


def estimate_tokens(chars: int) -> int:
    """Helicone's estimate: characters x 0.25, rounded up."""
    return math.ceil(chars * TOKENS_PER_CHAR)


def _texts(body: dict[str, Any]) -> list[tuple[dict[str, Any] | list[Any], Any]]:
    """Where the prompt's text lives: (container, key) pairs whose value is a string."""
    slots: list[tuple[dict[str, Any] | list[Any], Any]] = []
    if isinstance(body.get("prompt"), str):
        slots.append((body, "prompt"))
    if isinstance(body.get("system"), str):
        slots.append((body, "system"))
    for message in body.get("messages") or []:
        if not isinstance(message, dict):
            continue
        if isinstance(message.get("content"), str):
            slots.append((message, "content"))
        elif isinstance(message.get("content"), list):
            for part in message["content"]:
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    slots.append((part, "text"))
    return slots


def _limit(body: dict[str, Any], context: int) -> int:
    requested = body.get("max_tokens") or body.get("max_completion_tokens")
    if isinstance(requested, int) and requested > 0:
        return context - requested
    return context - context // 10


def _middle_out(text: str, keep_chars: int) -> str:
    """Drop whole ~1000-character chunks from the middle until ``keep_chars`` remain."""
    chunks = [text[i : i + MIDDLE_OUT_CHUNK] for i in range(0, len(text), MIDDLE_OUT_CHUNK)]
    while chunks and sum(map(len, chunks)) > keep_chars:
        chunks.pop(len(chunks) // 2)
    return "".join(chunks)


def _truncate(text: str, keep_chars: int) -> str:
    return text[: max(0, keep_chars)]


def _shrink(body: dict[str, Any], budget_chars: int, cut: Callable[[str, int], str]) -> None:
    """Cut the longest texts first until the prompt fits ``budget_chars``."""
    slots = _texts(body)
    for container, key in slots:
        if cut is _truncate:  # truncate also normalises whitespace, as Helicone does
            container[key] = _WS.sub(" ", container[key]).strip()
    total = sum(len(c[k]) for c, k in slots)
    for container, key in sorted(slots, key=lambda s: -len(s[0][s[1]])):
        if total <= budget_chars:
            break
        text = container[key]
        keep = max(0, len(text) - (total - budget_chars))
        container[key] = cut(text, keep)
        total -= len(text) - len(container[key])


def fit_to_context(body: Any, handler: str) -> Any:
    """``body`` changed by ``handler`` so its prompt fits the model; unchanged when it fits."""
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        return body
    models = [m.strip() for m in body["model"].split(",") if m.strip()]
    if not models:
        return body
    if handler == "fallback":
        body["model"] = models[0]
    context = context_length(models[0])
    if context is None:
        return body
    limit = _limit(body, context)
    chars = sum(len(c[k]) for c, k in _texts(body))
    if estimate_tokens(chars) <= limit:
        return body
    if handler == "fallback":
        if len(models) > 1:
            body["model"] = models[1]
        return body
    _shrink(body, int(limit / TOKENS_PER_CHAR), _truncate if handler == "truncate" else _middle_out)
    return body
