"""Prompt screening before the upstream call: LLM security and moderation.

Both apply, as in Helicone, to OpenAI chat calls whose last message is the user's (the AI
Gateway's chat calls too, whatever provider answers them; moderation then uses the
organization's stored OpenAI key). A refused prompt gets Helicone's 400 with
``Helicone-Status: failed`` and is logged with status -4 and ``threat = true``.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import aiohttp
import msgspec
import orjson

from helioscope._asgi import Send
from helioscope._guard import InternalErrorGuard
from helioscope.errors import BadRequest, UpstreamUnavailable
from helioscope.gateway._call import Call
from helioscope.gateway.controls._options import Controls
from helioscope.gateway.controls._responses import send_threat, threat_body
from helioscope.gateway.controls._security import PromptInjectionDetector, last_user_text
from helioscope.gateway.upstream import Header, header_name, text_header
from helioscope.ingest import CallCapture


class Screening:
    """Runs the prompt-injection detector and the provider's moderation endpoint."""

    def __init__(
        self,
        detector: PromptInjectionDetector,
        session: aiohttp.ClientSession,
        guard: InternalErrorGuard,
        enqueue: Callable[[CallCapture], None],
    ) -> None:
        self.detector = detector
        self.session = session
        self.guard = guard
        self.enqueue = enqueue  # the log writer's: the moderation call is logged too

    async def refused(self, controls: Controls, call: Call, send: Send) -> bool:
        """Run LLM security and moderation; True when the prompt was refused (and answered)."""
        if not (controls.security or controls.moderation) or not call.screenable:
            return False
        capture = call.capture
        text = last_user_text(json_body(capture.request_body))
        if text is None:
            return False
        details = f"See your Helicone request page for more info. request id {capture.request_id}"
        if controls.security and await self._threat(capture, text):
            message = "Prompt threat detected. Your request cannot be processed."
            body = threat_body("PROMPT_THREAT_DETECTED", message, details)
            await send_threat(send, capture, body, call.extra)
            return True
        if controls.moderation:
            if call.moderation is None:
                raise BadRequest(
                    "Helicone-Moderations-Enabled needs an OpenAI key to ask OpenAI's moderation "
                    "endpoint: store one (provider openai) with POST /v1/vault/add"
                )
            base, headers = call.moderation
            if await self._flagged(capture, base, headers, text):
                message = "The given prompt was flagged by the OpenAI Moderation endpoint."
                body = threat_body("PROMPT_FLAGGED_FOR_MODERATION", message, details)
                await send_threat(send, capture, body, call.extra)
                return True
        return False

    async def _threat(self, capture: CallCapture, text: str) -> bool:
        """The detector's verdict.

        A detector that fails lets the call through (and is reported), like every control whose
        own machinery breaks.
        """
        with self.guard.internal_errors("running the prompt-injection detector"):
            detection = await self.detector.detect(text)
            capture.threat = bool(detection.is_threat)
        return bool(capture.threat)

    async def _flagged(
        self, capture: CallCapture, base: str, headers: Sequence[Header], text: str
    ) -> bool:
        """Ask the provider's moderation endpoint about ``text``; the ask is logged too."""
        wanted = ("authorization", "openai-organization")
        sent = [text_header(h) for h in headers if header_name(h) in wanted]
        sent.append(("content-type", "application/json"))
        log = moderation_capture(capture, base, orjson.dumps({"input": text}))
        try:
            async with self.session.post(log.target_url, data=log.request_body, headers=sent) as r:
                log.status, raw = r.status, await r.read()
                log.chunks.append(raw)
                log.first_chunk = log.ended = time.perf_counter()
                payload = orjson.loads(raw)
                status = r.status
        except (aiohttp.ClientError, OSError, TimeoutError, orjson.JSONDecodeError) as exc:
            log.status = log.status or 502
            log.error = f"the moderation call failed: {exc!r}"
            raise UpstreamUnavailable(log.error) from exc
        finally:
            log.ended = log.ended or time.perf_counter()
            self.enqueue(log)
        if status >= 400 or not isinstance(payload, dict) or not payload.get("results"):
            raise UpstreamUnavailable(f"the moderation endpoint answered {status}: {payload!r}")
        return bool(payload["results"][0].get("flagged"))


def moderation_capture(parent: CallCapture, base: str, body: bytes) -> CallCapture:
    """A capture for the moderation call made on behalf of ``parent``.

    Helicone logs that call as a request of its own, with the parent's user and properties.
    """
    return CallCapture(
        request_id=str(uuid.uuid4()),
        organization_id=parent.organization_id,
        api_key_id=parent.api_key_id,
        provider=parent.provider,
        target_url=base + "/v1/moderations",
        path="/v1/moderations",
        helicone=msgspec.structs.replace(
            parent.helicone, properties=dict(parent.helicone.properties)
        ),
        request_body=body,
        started_at=dt.datetime.now(dt.UTC),
        started=time.perf_counter(),
        country_code=parent.country_code,
    )


def json_body(body: bytes) -> Any:
    """The body parsed as JSON, or None when it is empty or not JSON."""
    try:
        return orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return None
