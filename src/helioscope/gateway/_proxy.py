"""The gateway: one raw ASGI app per route, serving each call in one readable sequence.

``Gateway.handle`` accepts the call (key, body, control headers; the provider routes here, the
AI Gateway's endpoints in ``gateway.ai``), then runs one sequence for every call:
``controls.before`` (answered, or proceed) -> the upstream attempt(s), with retries and
fallback -> the relay to the client -> ``controls.after``; and hands the capture to the log
writer. A plain call (no control header) skips the controls and makes one upstream request.

The hot path per call: one pass over the headers, one cached key lookup, the upstream request,
and a relay loop that forwards each upstream chunk to the client as-is (no copy, no
re-encoding) while keeping a reference to it for the log. Parsing and pricing happen later, in
the writer (and, for a call under a ``u=cents`` rate limit, in a background charge here).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from helioscope._asgi import Receive, Scope, Send, read_body, send_json_body
from helioscope.auth import WRITE, KeyCache, split_authorization
from helioscope.errors import HelioscopeError, Unauthorized
from helioscope.gateway._call import HELICONE_ERRORS, Attempt, Call, ErrorStyle
from helioscope.gateway._disconnect import DisconnectWatcher, Grace
from helioscope.gateway._incoming import (
    Incoming,
    country_code,
    inject_stream_usage,
    noted,
    read_headers,
    target_origin,
)
from helioscope.gateway._inflight import InflightCaps
from helioscope.gateway._prompts import PromptApplier
from helioscope.gateway._relay import hung_up, relay
from helioscope.gateway.ai import AiGateway, AiRoute
from helioscope.gateway.controls import (
    Controls,
    GatewayControls,
    Opened,
    fallback_attempts,
    open_attempts,
    parse_controls,
)
from helioscope.gateway.upstream import Header, ParsedHeader, UpstreamClient, UpstreamError
from helioscope.ingest import (
    STATUS_TIMEOUT,
    CallCapture,
    HeliconeHeaders,
    LogWriter,
    new_request_id,
)
from helioscope.providers import ProviderFormat, provider_for_target
from helioscope.store import ApiKey
from helioscope.vault import PROXY_KEY_PREFIX, Vault


@dataclass(frozen=True, slots=True)
class Route:
    """How a path prefix maps to an upstream."""

    prefix: str  # "/oai", "/openai", "/anthropic", "/gateway"
    provider: ProviderFormat | None  # None: inferred from Helicone-Target-URL
    base_url: str | None  # None: taken from Helicone-Target-URL

    @property
    def errors(self) -> ErrorStyle:
        """How this route answers the gateway's own errors: Helicone's envelope."""
        return HELICONE_ERRORS


class Gateway:
    """Relays calls to providers and hands a capture of each to the log writer."""

    def __init__(
        self,
        *,
        keys: KeyCache,
        writer: LogWriter,
        upstream: UpstreamClient,
        max_body_bytes: int,
        prompts: PromptApplier | None = None,
        controls: GatewayControls | None = None,
        vault: Vault | None = None,
        ai: AiGateway | None = None,
        country_header: str = "cf-ipcountry",
        inflight: InflightCaps | None = None,
    ) -> None:
        self.country_header = country_header.lower().encode("latin-1")
        self._noting = noted(self.country_header)
        self.controls = controls
        self.inflight = inflight or InflightCaps(per_org=1 << 30, total=1 << 30)
        self.keys = keys
        self.writer = writer
        self.upstream = upstream
        self.max_body_bytes = max_body_bytes
        self.prompts = prompts
        self.vault = vault
        self.ai = ai
        self.grace = Grace()  # the disconnect watchers' shared timer

    async def handle(
        self, route: Route | AiRoute, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Serve one call end to end and hand it to the log (unless it could not be accepted)."""
        started_at, started = dt.datetime.now(dt.UTC), time.perf_counter()
        try:
            if isinstance(route, AiRoute):
                assert self.ai is not None, "the AI Gateway routes need an AiGateway"
                call = await self.ai.accept(route, scope, receive, (started_at, started))
                call.capture.country_code = country_code(scope["headers"], self.country_header)
            else:
                call = await self._accept(route, scope, receive, (started_at, started))
        except HelioscopeError as exc:
            await route.errors.send(send, exc.status, exc.message, [])
            return
        org_id = call.capture.organization_id
        refused = self.inflight.admit(org_id)
        if refused:
            await self._refuse(call, refused, send)
            return
        # From here, a client that goes away cancels the call (and its upstream request).
        # The call is journalled just before its last message is sent (the watcher's on_last),
        # or, when no last message goes out (an error, a client gone), at watcher.stop().
        capture = call.capture
        watcher = DisconnectWatcher(receive, send, self._journal, capture, self.grace)
        send = watcher.send
        # The sequence: controls before; the upstream attempt(s), with retries and fallback;
        # the relay; controls after. (In one function: each coroutine layer costs the hot path.)
        controls = self.controls if call.controls is not None else None
        try:
            if controls is not None and await controls.before(call, send):
                return  # answered by the controls: a cache hit, a 429, a refused prompt
            opened = await self._open(call, send)
            if opened is not None:
                await relay(opened.response, opened.attempt.mapping, call, send)
            if controls is not None:
                controls.after(call)
        except HelioscopeError as exc:  # before a byte was sent: from the controls or the plan
            call.capture.status, call.capture.error = exc.status, exc.message
            await call.fail(send, exc.status, exc.message)
        except asyncio.CancelledError:
            if not watcher.client_gone:
                raise
            watcher.absorb_cancel()
            hung_up(call, controls)
        finally:
            watcher.stop()  # journals the call if its last message did not
            self.inflight.leave(org_id)

    def _journal(self, capture: CallCapture) -> None:
        """Hand a call's record to the journal (one ``write()``), before its last byte is sent.

        Its latency ends there: when the gateway has the whole answer and is about to hand it
        over, not when the server has written it to the socket (that last send is the server's
        time, not the upstream's, and measuring it would put the record after the answer).
        """
        capture.ended = capture.ended or time.perf_counter()
        self.writer.enqueue(capture)

    async def _refuse(self, call: Call, status: int, send: Send) -> None:
        """Refuse a call over an in-flight cap (logged, as Helicone logs its rate-limited calls).

        Per organization: Helicone's rate-limit answer, a 429 with ``{"message"}``; the whole
        gateway full: a 503 in the route's error shape.
        """
        capture = call.capture
        capture.status, capture.error = status, self.inflight.refusal(status)
        body = (
            orjson.dumps({"message": capture.error})
            if status == 429
            else call.error_body(status, capture.error)
        )
        call.record(status, body)
        self._journal(capture)  # before the answer: see _journal
        await send_json_body(send, status, body, call.extra)

    async def _open(self, call: Call, send: Send) -> Opened | None:
        """The upstream response the call goes on with; None when none could be had (answered)."""
        attempts = call.plan()
        retry = call.controls.retry if call.controls is not None else None
        capture = call.capture
        try:
            if len(attempts) == 1 and retry is None:  # a plain call: one request, no loop
                first = attempts[0]
                response = await self.upstream.request(
                    first.method, first.url, first.headers, first.body or None, vetted=first.vetted
                )
                opened = Opened(response, first, 0)
            else:
                opened = await open_attempts(self.upstream, attempts, retry)
        except TimeoutError:
            capture.status, capture.error = STATUS_TIMEOUT, "upstream timed out"
            await call.fail(send, 504, f"upstream {attempts[-1].url} timed out")
            return None
        except (UpstreamError, OSError) as exc:
            capture.status = 502
            capture.error = f"could not reach upstream {attempts[-1].url}: {exc}"
            await call.fail(send, 502, capture.error)
            return None
        _answered_by(call, opened, len(attempts))
        return opened

    async def _accept(
        self, route: Route, scope: Scope, receive: Receive, started: tuple[dt.datetime, float]
    ) -> Call:
        """A call on a provider route: key, upstream, body, controls, prompts."""
        incoming = read_headers(scope["headers"], self.country_header, self._noting)
        client_authorization = incoming.authorization_text()
        helicone_key, authorization = split_authorization(
            incoming.helicone_auth, client_authorization
        )
        api_key = self.keys.known(helicone_key, WRITE) or await self.keys.resolve(
            helicone_key, WRITE
        )
        base = route.base_url or target_origin(incoming.target_url)
        provider = route.provider or provider_for_target(base)
        body = await read_body(receive, self.max_body_bytes)
        controls = (
            parse_controls(incoming.helicone, incoming.forward, client_authorization)
            if incoming.has_controls
            else None
        )
        bound = helicone_key is not None and helicone_key.startswith(PROXY_KEY_PREFIX)
        if bound and self.vault is not None:
            headers = await self._use_bound_key(api_key, provider, incoming.forward)
        else:
            headers = _with_authorization(incoming, authorization, client_authorization)
        helicone = HeliconeHeaders.parse(incoming.helicone)
        request_json = None
        if self.prompts is not None and self.prompts.applies(helicone, body):
            body, request_json = await self.prompts.apply(
                api_key.organization_id, helicone, body, provider
            )
        if helicone.stream_usage and body:
            body, request_json = inject_stream_usage(body)
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        subpath = raw_path[len(route.prefix) :].decode("latin-1") or "/"
        query = scope.get("query_string") or b""
        url = base + subpath + ("?" + query.decode("latin-1") if query else "")
        # (By position, in CallCapture's order, the rest set after: a class called with
        # keywords first builds a dict of them, ~1 us for these on CPython 3.11.)
        capture = CallCapture(
            helicone.request_id or new_request_id(),  # request_id
            api_key.organization_id,  # organization_id
            provider,  # provider
            url,  # target_url
            subpath,  # path
            helicone,  # helicone
            body,  # request_body
            started[0],  # started_at
            started[1],  # started
            api_key.id,  # api_key_id
        )
        capture.request_json, capture.country_code = request_json, incoming.country
        plan = _proxy_plan(
            scope["method"],
            capture,
            controls,
            url,
            len(base),
            headers,
            vetted=route.base_url is not None,  # configured; /gateway's target is the caller's
        )
        call = Call(scope["method"], capture, plan, controls)
        call.cache_url = url
        call.identify()
        call.screenable = provider.name == "OPENAI" and "chat/completions" in subpath
        call.moderation = (base, headers)
        return call

    async def _use_bound_key(
        self, api_key: ApiKey, provider: ProviderFormat, forward: list[ParsedHeader]
    ) -> list[Header]:
        """A proxy key stands for its bound provider key: the headers with that key instead.

        (The key is text from the vault: checked when the request is written.)
        """
        assert self.vault is not None
        keys = await self.vault.keys(api_key.organization_id)
        credential = keys.by_id.get(keys.bindings.get(api_key.id, ""))
        if credential is None:  # a proxy key another worker has just made, maybe: read again
            again = await self.vault.reread(api_key.organization_id, f"proxy key {api_key.id}")
            if again is not None:
                credential = again.by_id.get(again.bindings.get(api_key.id, ""))
        if credential is None or credential.key is None:
            raise Unauthorized("this proxy key's provider key was deleted or cannot be decrypted")
        header = {"ANTHROPIC": "x-api-key", "GOOGLE": "x-goog-api-key"}.get(provider.name)
        name, value = (
            (header, credential.key) if header else ("authorization", f"Bearer {credential.key}")
        )
        raw_name = name.encode()
        return [h for h in forward if h[0] != raw_name] + [(name, value)]


def _with_authorization(
    incoming: Incoming, authorization: str | None, client_authorization: str | None
) -> list[Header]:
    """The client's headers to forward, with the ``Authorization`` to forward, if any.

    The client's own, as parsed, unless the Helicone key was taken out of it.
    """
    headers: list[Header] = [*incoming.forward]
    parsed = incoming.authorization
    if parsed is not None and authorization == client_authorization:
        headers.append(parsed)
    elif authorization is not None:
        headers.append(("authorization", authorization))
    return headers


def _proxy_plan(
    method: str,
    capture: CallCapture,
    controls: Controls | None,
    url: str,
    base_length: int,
    headers: list[Header],
    *,
    vetted: bool,
) -> Callable[[], list[Attempt]]:
    """The attempts of a provider-route call: its upstream, or its Helicone-Fallbacks entries."""

    def attempt() -> Attempt:
        made = Attempt(method, url, headers, capture.request_body, capture.provider)
        made.request_json, made.vetted = capture.request_json, vetted  # (see CallCapture above)
        return made

    if controls is None:  # the body is final: one attempt, made now (the hot path)
        return [attempt()].copy

    def plan() -> list[Attempt]:
        if controls is not None and controls.fallbacks:
            return fallback_attempts(attempt(), controls.fallbacks, url[base_length:])
        return [attempt()]

    return plan


def _answered_by(call: Call, opened: Opened, count: int) -> None:
    """Record which attempt answered: in the log, and in response headers."""
    attempt, capture = opened.attempt, call.capture
    capture.target_url = attempt.url
    capture.provider = attempt.provider
    if attempt.body is not capture.request_body:
        capture.request_body, capture.request_json = attempt.body, attempt.request_json
    if count > 1 or (call.controls is not None and call.controls.fallbacks):
        call.extra.append((b"helicone-fallback-index", str(opened.position).encode()))
    if attempt.label:
        call.extra.append((b"helicone-provider", attempt.label.encode()))
