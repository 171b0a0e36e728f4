"""Prompts applied at the gateway, before a call goes upstream.

Two flows, both free for calls that use neither (one substring test on the body):

- Prompts 2025: a chat body carrying ``prompt_id`` (with ``version_id``, ``environment`` or
  ``inputs``) is expanded from the stored version: its messages first, the call's after, tools
  merged, the call's parameters winning, the model from the prompt when the call has none.
  An unknown prompt is a 404 and a wrong input type a 400, before anything is sent upstream.
  A Responses API body is converted to chat form for the merge and back.
- Legacy: a call with ``Helicone-Prompt-Id`` is forwarded with its
  ``<helicone-prompt-input key="…">`` tags stripped; its template is recorded (a new major
  version when it changed) and its inputs go on the log row.

Versions come from the store's in-memory cache, so a warm gateway makes no database round trip
for either flow. The log row gets the prompt id, the version id and the inputs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import orjson

from helioscope._guard import InternalErrorGuard
from helioscope.errors import BadRequest, HelioscopeError
from helioscope.ingest import HeliconeHeaders
from helioscope.prompts import (
    TAG_MARKER,
    chat_to_responses,
    extract_legacy,
    extract_partials,
    is_responses_body,
    merge_prompt_body,
    responses_to_chat,
)
from helioscope.providers import ProviderFormat
from helioscope.store import Prompt2025Version
from helioscope.store.prompts import PromptStore

logger = logging.getLogger("helioscope.gateway")

_PROMPT_ID_MARKER = b'"prompt_id"'
_NOT_OPENAI_FORMAT = frozenset({"ANTHROPIC", "GOOGLE"})


def _message_text(message: Any) -> str:
    """A message's text: its string content, or its text parts joined."""
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)
        )
    return ""


class PromptApplier:
    """Expands or strips prompt bodies for the gateway and marks the call for the log."""

    def __init__(self, prompts: PromptStore, guard: InternalErrorGuard) -> None:
        self.prompts = prompts
        self.guard = guard

    @staticmethod
    def applies(helicone: HeliconeHeaders, body: bytes) -> bool:
        """Whether ``apply`` may change the call (most calls: not, by a substring test).

        (``find``, not ``in``: on CPython 3.11, ``bytes in bytes`` first tries its operand as
        an integer and raises and clears a TypeError, ~1,900 instructions a call.)
        """
        return body.find(_PROMPT_ID_MARKER) >= 0 or (
            bool(helicone.prompt_id) and body.find(TAG_MARKER) >= 0
        )

    async def apply(
        self, org_id: str, helicone: HeliconeHeaders, body: bytes, provider: ProviderFormat
    ) -> tuple[bytes, Any]:
        """The body to forward and its parsed form (None when the body is unchanged).

        Sets ``helicone.prompt_id``, ``prompt_version`` and ``prompt_inputs`` for the log.
        Raises a ``HelioscopeError`` (404, 400) when a 2025 prompt cannot be applied.
        """
        if _PROMPT_ID_MARKER in body:
            data = _json_object(body)
            if data is not None and isinstance(data.get("prompt_id"), str):
                if provider.name in _NOT_OPENAI_FORMAT:
                    # Stored prompts are OpenAI chat bodies; merged into another wire format
                    # they would make a body the provider rejects, or worse, misreads.
                    raise BadRequest(
                        f"prompt_id applies to OpenAI-format calls; {provider.name} calls "
                        "cannot use a stored prompt"
                    )
                return await self._expand(org_id, helicone, data)
        if helicone.prompt_id and TAG_MARKER in body:
            data = _json_object(body)
            if data is not None:
                return await self._legacy(org_id, helicone, data, body)
        return body, None

    async def _expand(
        self, org_id: str, helicone: HeliconeHeaders, data: dict[str, Any]
    ) -> tuple[bytes, Any]:
        prompt_id: str = data["prompt_id"]
        version_id, environment = data.get("version_id"), data.get("environment")
        inputs = data.get("inputs") or {}
        if not isinstance(inputs, dict):
            raise BadRequest("inputs must be an object of variable values")
        for name, value in (("version_id", version_id), ("environment", environment)):
            if value is not None and not isinstance(value, str):
                raise BadRequest(f"{name} must be a string")
        version = await self.prompts.select_version(
            org_id, prompt_id, version_id or None, environment or None
        )
        partials = await self._partials(org_id, version)
        if is_responses_body(data):
            chat = merge_prompt_body(version.prompt_body, responses_to_chat(data), inputs, partials)
            merged = chat_to_responses(chat, data)
        else:
            merged = merge_prompt_body(version.prompt_body, data, inputs, partials)
        helicone.prompt_id = prompt_id
        helicone.prompt_version = version.id
        helicone.prompt_inputs = dict(inputs)
        return orjson.dumps(merged), merged

    async def _partials(self, org_id: str, version: Prompt2025Version) -> Mapping[str, str]:
        """The text each ``{{hcp:…}}`` of a stored body stands for (from cached versions)."""
        out: dict[str, str] = {}
        for partial in extract_partials(version.prompt_body.get("messages") or []):
            try:
                source = await self.prompts.select_version(
                    org_id, partial.prompt_id, None, partial.environment
                )
            except HelioscopeError as exc:
                raise BadRequest(
                    f"partial {partial.raw} cannot be resolved: {exc.message}"
                ) from exc
            messages = source.prompt_body.get("messages") or []
            if not 0 <= partial.index < len(messages):
                raise BadRequest(
                    f"partial {partial.raw}: prompt {partial.prompt_id} has no message "
                    f"{partial.index}"
                )
            out[partial.raw] = _message_text(messages[partial.index])
        return out

    async def _legacy(
        self, org_id: str, helicone: HeliconeHeaders, data: dict[str, Any], body: bytes
    ) -> tuple[bytes, Any]:
        extraction = extract_legacy(data)
        helicone.prompt_inputs = extraction.inputs
        assert helicone.prompt_id is not None
        # Recording the template is for the log: if the store fails, the call still goes out.
        with self.guard.internal_errors("recording a prompt template"):
            version = await self.prompts.record_call_template(
                org_id, helicone.prompt_id, extraction.template
            )
            helicone.prompt_version = version.id
        return orjson.dumps(extraction.forward), extraction.forward


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None
