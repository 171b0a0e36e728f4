"""The AI Gateway's endpoints: one OpenAI-compatible API in front of every provider.

``POST /v1/chat/completions`` and ``POST /v1/responses`` (also without ``/v1``) take OpenAI's
formats; ``POST /v1/messages`` takes Anthropic's and passes it through (Helicone's
``NO_MAPPING``). The caller authenticates with its Helioscope key alone (``Authorization:
Bearer``, ``Helicone-Auth`` or, from Anthropic's SDK, ``x-api-key``); the provider key comes
from the organization's vault. The model string picks the providers (``_routing``); each is an
attempt of the call, its body mapped to the provider's format, tried in order on 429, 5xx,
timeouts and connection errors. An entry that cannot be used for this call (no key for its
provider, a body its format cannot express) is passed over before anything is sent
(``_chain``). Everything else is the gateway's usual sequence (controls, relay, log), so
Helicone's headers work here as on the proxy routes.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from helioscope._asgi import Receive, Scope, read_body
from helioscope.auth import WRITE, KeyCache, api_key_text
from helioscope.errors import BadRequest, Unauthorized
from helioscope.gateway._call import (
    AnthropicErrors,
    Attempt,
    Call,
    ErrorStyle,
    OpenAiErrors,
    retryable,
)
from helioscope.gateway._incoming import Incoming, read_headers
from helioscope.gateway._prompts import PromptApplier
from helioscope.gateway.ai._bodies import check_body
from helioscope.gateway.ai._chain import Skipped, refusal
from helioscope.gateway.ai._routing import Resolved, Router, Target, log_format
from helioscope.gateway.controls import parse_controls
from helioscope.gateway.upstream import Header, header_name
from helioscope.ingest import CallCapture, HeliconeHeaders, new_request_id
from helioscope.providers import ANTHROPIC, OPENAI
from helioscope.providers.catalog import Auth, Catalog, find_provider
from helioscope.providers.chat_parts import MappingError
from helioscope.providers.mapping import Api, Mapping
from helioscope.vault import PROXY_KEY_PREFIX, OrgKeys, Vault

_BODY_MAPPINGS = {"OPENAI": Api.CHAT, "RESPONSES": Api.RESPONSES, "NO_MAPPING": None}
_FORWARDED_ANTHROPIC = (b"anthropic-version", b"anthropic-beta")  # the client's, as parsed
REFERRER = "ai-gateway"  # request_referrer of AI Gateway calls, as Helicone records it


@dataclass(frozen=True, slots=True)
class AiRoute:
    """An AI Gateway endpoint: its path and the API its callers speak."""

    path: str
    api: Api

    @property
    def errors(self) -> ErrorStyle:
        """Errors in the shape the caller's SDK reads."""
        return AnthropicErrors() if self.api is Api.MESSAGES else OpenAiErrors()


AI_ROUTES = (
    AiRoute("/v1/chat/completions", Api.CHAT),
    AiRoute("/chat/completions", Api.CHAT),
    AiRoute("/v1/responses", Api.RESPONSES),
    AiRoute("/responses", Api.RESPONSES),
    AiRoute("/v1/messages", Api.MESSAGES),
)


def _native_only(route: AiRoute, incoming: Incoming) -> bool:
    """True when ``Helicone-Gateway-Body-Mapping: NO_MAPPING`` (implied on /v1/messages)."""
    value = next((v for k, v in incoming.helicone if k == "helicone-gateway-body-mapping"), None)
    if value is None:
        return route.api is Api.MESSAGES
    wanted = value.strip().upper()
    if wanted not in _BODY_MAPPINGS:
        raise BadRequest(
            f"Helicone-Gateway-Body-Mapping must be OPENAI, RESPONSES or NO_MAPPING, got {value!r}"
        )
    if route.api is Api.MESSAGES and wanted != "NO_MAPPING":
        raise BadRequest("/v1/messages passes Anthropic bodies through: only NO_MAPPING applies")
    return wanted == "NO_MAPPING"


def _auth_headers(target: Target) -> list[tuple[str, str]]:
    key = target.credential.key or ""
    if target.spec.auth is Auth.BEARER:
        return [("authorization", f"Bearer {key}")]
    return [(target.spec.auth.value, key)]


class AiGateway:
    """Accepts AI Gateway calls: authenticates, reads the body, resolves the model string."""

    def __init__(
        self,
        *,
        keys: KeyCache,
        vault: Vault,
        catalog: Catalog,
        max_body_bytes: int,
        prompts: PromptApplier | None = None,
    ) -> None:
        self.keys = keys
        self.vault = vault
        self.router = Router(catalog)
        self.catalog = catalog
        self.max_body_bytes = max_body_bytes
        self.prompts = prompts

    async def accept(
        self, route: AiRoute, scope: Scope, receive: Receive, started: tuple[dt.datetime, float]
    ) -> Call:
        """The call, ready for the gateway's sequence; ``HelioscopeError`` naming what is wrong."""
        incoming = read_headers(scope["headers"])
        authorization = incoming.authorization_text()
        key_text = api_key_text(incoming.helicone_auth, authorization) or incoming.x_api_key
        api_key = await self.keys.resolve(key_text, WRITE)
        native_only = _native_only(route, incoming)
        raw = await read_body(receive, self.max_body_bytes)
        controls = (
            parse_controls(incoming.helicone, incoming.forward, authorization)
            if incoming.has_controls
            else None
        )
        helicone = HeliconeHeaders.parse(incoming.helicone)
        body = _json_object(raw)
        if self.prompts is not None:
            fmt = ANTHROPIC if route.api is Api.MESSAGES else OPENAI
            raw, expanded = await self.prompts.apply(api_key.organization_id, helicone, raw, fmt)
            body = expanded if expanded is not None else body
        check_body(route.api, body)
        if route.api is Api.CHAT and not native_only and body.get("stream") is True:
            _ask_for_usage(body)
        proxy_key = key_text is not None and key_text.startswith(PROXY_KEY_PREFIX)
        keys = await self.vault.keys(api_key.organization_id)
        try:
            keys, resolved = self._targets(body, keys, api_key.id if proxy_key else None)
        except (BadRequest, Unauthorized):
            # The key may be one another worker has just added: read the keys again, once.
            model = str(body.get("model"))[:200]  # (a key of the vault's, kept a while)
            missing = f"proxy key {api_key.id}" if proxy_key else f"model {model}"
            again = await self.vault.reread(api_key.organization_id, missing)
            if again is None:
                raise
            keys, resolved = self._targets(body, again, api_key.id if proxy_key else None)
        first = resolved.targets[0]
        capture = CallCapture(
            request_id=helicone.request_id or new_request_id(),
            organization_id=api_key.organization_id,
            api_key_id=api_key.id,
            provider=log_format(first.spec),
            target_url=first.base_url + first.spec.chat_path,
            path=route.path,
            helicone=helicone,
            request_body=raw,
            request_json=body,
            started_at=started[0],
            started=started[1],
            request_referrer=REFERRER,
        )
        plan = _Plan(self.router, route.api, native_only, capture, keys, incoming, resolved)
        call = Call(
            "POST", capture, plan, controls, route.errors, cache_url=f"{REFERRER}:{route.path}"
        )
        call.identify()
        call.screenable = route.api is Api.CHAT
        call.moderation = self._moderation(keys)
        return call

    def _targets(
        self, body: dict[str, Any], keys: OrgKeys, proxy_key_id: int | None
    ) -> tuple[OrgKeys, Resolved]:
        """The keys a call uses (a proxy key's own for its provider) and the providers to try."""
        if proxy_key_id is not None:
            keys = _bound(keys, proxy_key_id)
        return keys, self.router.resolve(body.get("model"), keys)

    def _moderation(self, keys: OrgKeys) -> tuple[str, Sequence[Header]] | None:
        """Where moderation calls go: OpenAI, with the organization's OpenAI key."""
        credential = keys.by_provider.get("openai")
        spec = find_provider("openai")
        if credential is None or credential.key is None or spec is None:
            return None
        base = self.catalog.base_url(spec, credential.config) or ""
        return base, [("authorization", f"Bearer {credential.key}")]


class _Plan:
    """The attempts of an AI Gateway call, made after the controls (which may change the body)."""

    def __init__(
        self,
        router: Router,
        api: Api,
        native_only: bool,
        capture: CallCapture,
        keys: OrgKeys,
        incoming: Incoming,
        resolved: Resolved,
    ) -> None:
        self.router = router
        self.api = api
        self.native_only = native_only
        self.capture = capture
        self.keys = keys
        self.forward = [h for h in incoming.forward if h[0] in _FORWARDED_ANTHROPIC]
        self.model = capture.request_json.get("model")
        self.resolved = resolved  # from ``model`` when the call was accepted

    def __call__(self) -> list[Attempt]:
        body = self.capture.request_json
        created = int(time.time())
        resolved = self.resolved
        if body.get("model") != self.model:  # a control changed it (token-limit fallback)
            resolved = self.router.resolve(body.get("model"), self.keys)
        attempts: list[Attempt] = []
        skipped = list(resolved.skipped)
        for target in resolved.targets:
            try:
                attempts.append(self._attempt(target, body, created))
            except BadRequest as exc:  # this provider cannot take the body: the next may
                skipped.append(Skipped(target.position, target.entry, target.spec.id, exc))
        if not attempts:
            raise refusal(body.get("model"), skipped)
        return attempts

    def _attempt(self, target: Target, body: dict[str, Any], created: int) -> Attempt:
        mapping = Mapping(self.api, target.spec, {**body, "model": target.model}, created)
        if self.native_only and not mapping.native:
            raise BadRequest(
                f"{target.entry}: NO_MAPPING passes the body through unchanged, and "
                f"{target.spec.id} does not speak this endpoint's format"
            )
        try:
            provider_body = mapping.provider_body()
        except MappingError as exc:
            raise BadRequest(f"{target.entry}: {exc}") from exc
        headers: list[Header] = [("content-type", "application/json"), *_auth_headers(target)]
        headers += target.spec.headers
        if self.api is Api.MESSAGES:  # the caller's Anthropic version and betas win
            sent = {header_name(h) for h in self.forward}
            headers = [h for h in headers if header_name(h) not in sent]
            headers += self.forward
        return Attempt(
            "POST",
            target.base_url + mapping.path(target.model, target.credential.config),
            headers,
            orjson.dumps(provider_body),
            log_format(target.spec),
            moves_on=retryable,
            mapping=mapping,
            request_json=provider_body if mapping.native else _log_hints(target, body),
            label=target.spec.id,
            vetted=True,  # the catalog's address, or the organization's own provider's
        )


def _log_hints(target: Target, body: dict[str, Any]) -> dict[str, Any]:
    """What the log reads of a mapped call's request: its model and its user.

    The provider's body may name neither (Gemini's names no model, and only OpenAI's format
    has ``user``), so both come from the client's request, the model under the provider's name.
    """
    return {"model": target.model, "user": body.get("user")}


def _bound(keys: OrgKeys, api_key_id: int) -> OrgKeys:
    """The keys a proxy key's calls use: its bound key stands for its provider."""
    credential = keys.by_id.get(keys.bindings.get(api_key_id, ""))
    if credential is None:
        raise Unauthorized("this proxy key's provider key was deleted")
    by_provider = {**keys.by_provider, credential.provider: credential}
    return OrgKeys(keys.by_id, by_provider, keys.bindings, keys.loaded)


def _ask_for_usage(body: dict[str, Any]) -> None:
    """Have a chat stream end with its usage, as Helicone's AI Gateway does for every stream.

    Without it an OpenAI-format provider streams no token counts and the call is logged with
    neither tokens nor cost (Helicone's ``SimpleAIGateway`` sets ``include_usage`` on each
    streamed ``OPENAI``-mapped body, so its callers get the usage chunk too).
    """
    options = body.get("stream_options")
    body["stream_options"] = {
        **(options if isinstance(options, dict) else {}),
        "include_usage": True,
    }


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body
