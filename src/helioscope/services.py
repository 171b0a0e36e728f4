"""The objects one running Helioscope is made of, built from ``Settings`` and owned by the app.

There is no module-level state: ``create_app`` builds one ``Services`` and keeps it on
``app.state.services``; tests build their own.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from helioscope._guard import InternalErrorGuard
from helioscope.auth import KeyCache
from helioscope.config import Settings
from helioscope.experiments import ExperimentService, SandboxLimits
from helioscope.gateway import AiGateway, Gateway, PromptApplier
from helioscope.gateway.controls import build_controls
from helioscope.gateway.upstream import UpstreamClient
from helioscope.ingest import AlertEvaluator, LogWriter, WebhookDispatcher
from helioscope.providers.catalog import Catalog
from helioscope.store import NewApiKey, Store, keys
from helioscope.vault import Vault

logger = logging.getLogger("helioscope")


class Services:
    """Store, key cache, log writer and gateway of one running server."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.guard = InternalErrorGuard(reraise=settings.raise_internal_errors)
        self.store = Store.open(settings.database_url)
        self.keys = KeyCache(lambda key_hash: self.store.read(keys.find_api_key, key_hash))
        secret = settings.secret_key.get_secret_value() if settings.secret_key else None
        self.vault = Vault(self.store, secret)
        self._writer: LogWriter | None = None
        self._gateway: Gateway | None = None
        self._webhooks: WebhookDispatcher | None = None
        self._alerts: AlertEvaluator | None = None
        self._experiments: ExperimentService | None = None
        self.bootstrap_key: NewApiKey | None = None

    @property
    def writer(self) -> LogWriter:
        """The running log writer."""
        if self._writer is None:
            raise RuntimeError("Helioscope is not running (the app's lifespan has not started)")
        return self._writer

    @property
    def webhooks(self) -> WebhookDispatcher:
        """The running webhook dispatcher."""
        if self._webhooks is None:
            raise RuntimeError("Helioscope is not running (the app's lifespan has not started)")
        return self._webhooks

    @property
    def alerts(self) -> AlertEvaluator:
        """The running alert evaluator."""
        if self._alerts is None:
            raise RuntimeError("Helioscope is not running (the app's lifespan has not started)")
        return self._alerts

    @property
    def gateway(self) -> Gateway:
        """The running gateway."""
        if self._gateway is None:
            raise RuntimeError("Helioscope is not running (the app's lifespan has not started)")
        return self._gateway

    @property
    def experiments(self) -> ExperimentService:
        """The running experiments machinery."""
        if self._experiments is None:
            raise RuntimeError("Helioscope is not running (the app's lifespan has not started)")
        return self._experiments

    def spool_dir(self) -> Path:
        """Where overflowing log records are kept on disk."""
        if self.settings.log_spool_dir is not None:
            return self.settings.log_spool_dir
        db_file = self.store.sqlite_file
        if db_file is not None:
            return db_file.with_name(db_file.name + ".spool")
        return Path("helioscope-spool")

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Services]:
        """Migrate, bootstrap, start the writer and the upstream client; undo it all on exit."""
        settings = self.settings
        async with AsyncExitStack() as stack:
            stack.push_async_callback(self.store.close)
            await self.store.migrate()
            await self._bootstrap()
            await self._start_notifications(stack)
            # Writer listeners start tasks for each stored batch, the last ones while the writer
            # drains at shutdown: they are waited for after it, before the store closes.
            after_writer: list[Callable[[], Awaitable[None]]] = []
            stack.push_async_callback(_settle, after_writer)
            self._writer = await stack.enter_async_context(
                LogWriter(
                    self.store,
                    spool_dir=self.spool_dir(),
                    guard=self.guard,
                    queue_size=settings.log_queue_size,
                    batch_size=settings.log_batch_size,
                    retry_seconds=settings.log_retry_seconds,
                    drain_seconds=settings.shutdown_drain_seconds,
                    linger_seconds=settings.log_flush_interval_seconds,
                )
            )
            self._writer.listeners.append(self.webhooks.offer)
            session = await stack.enter_async_context(_upstream_session(settings))
            upstream = UpstreamClient(timeout=settings.upstream_timeout_seconds)
            stack.push_async_callback(upstream.close)
            controls = build_controls(
                store=self.store,
                session=session,
                guard=self.guard,
                redis_client=await _redis(stack, settings.redis_url),
                redis_prefix=settings.redis_key_prefix,
                detector=settings.prompt_injection_detector,
                enqueue=self._writer.enqueue,
            )
            after_writer.append(controls.settle)  # cache writes, and cents charged by the writer
            self._writer.listeners.append(controls.cents.on_rows)  # u=cents, from the row's cost
            prompts = PromptApplier(self.store.prompts, self.guard)
            self._gateway = Gateway(
                keys=self.keys,
                writer=self._writer,
                upstream=upstream,
                max_body_bytes=settings.max_request_body_bytes,
                prompts=prompts,
                controls=controls,
                vault=self.vault,
                ai=self._ai_gateway(prompts),
            )
            self._experiments = _experiments(settings, self.store, self._writer, session)
            stack.push_async_callback(self._experiments.close)
            after_writer.append(self._experiments.online.close)
            try:
                yield self
            finally:
                self._gateway = None

    def _ai_gateway(self, prompts: PromptApplier) -> AiGateway:
        settings = self.settings
        catalog = Catalog(
            {
                "openai": settings.openai_base_url,
                "anthropic": settings.anthropic_base_url,
                "google": settings.google_base_url,
            }
        )
        return AiGateway(
            keys=self.keys,
            vault=self.vault,
            catalog=catalog,
            max_body_bytes=settings.max_request_body_bytes,
            prompts=prompts,
        )

    async def _start_notifications(self, stack: AsyncExitStack) -> None:
        # Entered before the writer, so they stop after it: the writer's last batches still
        # reach the dispatcher on shutdown.
        settings = self.settings
        self._webhooks = await stack.enter_async_context(
            WebhookDispatcher(
                self.store,
                self.guard,
                allow_http_loopback=settings.webhook_allow_http_loopback,
                max_attempts=settings.webhook_max_attempts,
                retry_seconds=settings.webhook_retry_seconds,
                timeout_seconds=settings.webhook_timeout_seconds,
            )
        )
        self._alerts = await stack.enter_async_context(
            AlertEvaluator(
                self.store, self._webhooks, self.guard, interval=settings.alert_check_seconds
            )
        )

    async def _bootstrap(self) -> None:
        if not self.settings.bootstrap_default_org or await self.store.read(keys.count_orgs) > 0:
            return
        org = await self.store.write(keys.get_or_create_org, "default")
        self.bootstrap_key = await self.store.org(org.id).write(keys.create_api_key, "bootstrap")
        # Printed once, on stdout, so that `helioscope serve` shows it to the person starting it.
        print(
            "Helioscope created organization 'default' and this API key (shown only once):\n"
            f"  {self.bootstrap_key.key}",
            file=sys.stdout,
            flush=True,
        )


async def _settle(waits: list[Callable[[], Awaitable[None]]]) -> None:
    """Wait for the work the writer's listeners started (the writer has stopped)."""
    for wait in waits:
        await wait()


async def _redis(stack: AsyncExitStack, url: str | None) -> Any:
    """A Redis client for the gateway controls (closed with the services), or None."""
    if url is None:
        return None
    from helioscope.gateway.controls._redis import connect

    client = connect(url)
    stack.push_async_callback(client.aclose)
    return client


def _experiments(
    settings: Settings, store: Store, writer: LogWriter, session: aiohttp.ClientSession
) -> ExperimentService:
    key = settings.experiment_openai_api_key
    return ExperimentService(
        store,
        writer,
        session,
        self_url=settings.self_url.rstrip("/") if settings.self_url else None,
        provider_key=key.get_secret_value() if key is not None else None,
        concurrency=settings.experiment_concurrency,
        limits=SandboxLimits(settings.evaluator_timeout_seconds, settings.evaluator_memory_mb),
        judge_model=settings.evaluator_model,
    )


def _upstream_session(settings: Settings) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300, keepalive_timeout=60)
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=settings.upstream_timeout_seconds, connect=30),
        # Pass bodies through byte for byte: no decompression, no headers the client did not send.
        auto_decompress=False,
        skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type", "Accept"),
        cookie_jar=aiohttp.DummyCookieJar(),
    )
