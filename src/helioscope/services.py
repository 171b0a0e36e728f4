"""The objects one running Helioscope is made of, built from ``Settings`` and owned by the app.

There is no module-level state: ``create_app`` builds one ``Services`` and keeps it on
``app.state.services``; tests build their own.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from helioscope._changes import ChangeFeed
from helioscope._guard import InternalErrorGuard
from helioscope._outage import Outage, through_outages
from helioscope.auth import KeyCache
from helioscope.body_links import BodyLinks
from helioscope.config import Settings
from helioscope.egress import EgressPolicy, PolicyResolver
from helioscope.experiments import ExperimentService, SandboxLimits
from helioscope.gateway import AiGateway, Gateway, InflightCaps, PromptApplier, total_cap
from helioscope.gateway.controls import build_controls
from helioscope.gateway.upstream import UpstreamClient
from helioscope.ingest import (
    AlertEvaluator,
    LogWriter,
    WebhookDispatcher,
    adopt_old_spool,
    old_spool_dir,
    warn_of_other_journals,
    warn_removed_settings,
)
from helioscope.ingest.retention import LogRetention
from helioscope.providers.catalog import Catalog
from helioscope.store import NewApiKey, Store, keys
from helioscope.vault import Vault

logger = logging.getLogger("helioscope")


@dataclass(frozen=True, slots=True)
class Started:
    """The parts of a Helioscope that run while its lifespan does."""

    writer: LogWriter
    webhooks: WebhookDispatcher
    alerts: AlertEvaluator
    gateway: Gateway
    experiments: ExperimentService


class Services:
    """Store, key cache and, while running, the parts that ``running()`` starts."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.guard = InternalErrorGuard(reraise=settings.raise_internal_errors)
        self.store = open_store(settings)
        # The store's: logged once when it starts and once when a probe finds it back.
        self.outage = Outage(self.store.ping)
        self.keys = KeyCache(
            lambda key_hash: self.store.read(keys.find_api_key, key_hash),
            lookup_many=lambda key_hashes: self.store.read(keys.find_api_keys, key_hashes),
            outage=self.outage,
        )
        secret = settings.secret_key.get_secret_value() if settings.secret_key else None
        self.vault = Vault(self.store, secret)
        self.body_links = BodyLinks(secret, settings.signed_url_seconds)
        # Other workers' changes clear this one's caches within a second (and vice versa).
        self.changes = ChangeFeed(self.store)
        self.changes.clears += [self.keys.forget, self.vault.forget, self.store.prompts.forget]
        self.keys.on_change = self.vault.on_change = self.changes.changed
        self.store.prompts.on_change = self.changes.changed
        # Where callers' URLs may lead: the configured origins, and public addresses.
        self.egress = EgressPolicy(settings.egress_allowed(), server_port=settings.port)
        self._started: Started | None = None
        # Set once the server is told to stop (cli/serve.py): readiness answers 503 from then
        # on, so that a load balancer sends nothing more while the calls in flight finish.
        self.stopping = False
        # While startup migrates and bootstraps (waiting for the store, maybe): nothing runs yet
        # that a stop would need to drain (cli/serve.py exits at once if told to stop then).
        self.preparing = False
        self.bootstrap_key: NewApiKey | None = None

    @property
    def started(self) -> Started:
        """The running writer, webhooks, alerts, gateway and experiments."""
        if self._started is None:
            raise RuntimeError("Helioscope is not running (the app's lifespan has not started)")
        return self._started

    @property
    def is_running(self) -> bool:
        """Whether the running parts are up (the lifespan has started and not yet ended)."""
        return self._started is not None

    def journal_dir(self) -> Path:
        """Where log records are journalled before they are stored."""
        return journal_dir(self.settings, self.store)

    def _old_spool_dir(self) -> Path:
        """Where the previous version spooled records (moved to the journal on start).

        Its setting was removed with it (settings ignore unknown names): read from the
        environment for this one move.
        """
        db_file = self.store.sqlite_file
        if db_file is not None:
            default = db_file.with_name(db_file.name + ".spool")
        else:
            default = Path("helioscope-spool")
        return old_spool_dir(os.environ, default)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Services]:
        """Migrate, bootstrap, start the writer and the upstream client; undo it all on exit."""
        settings = self.settings
        async with AsyncExitStack() as stack:
            stack.push_async_callback(self.store.close)
            stack.push_async_callback(self.outage.close)
            # A worker (re)started during an outage, or meeting one while it starts, waits for
            # the store with one line, rather than failing its startup with a traceback, again
            # at every restart. These are startup's only calls to the store: the parts started
            # below meet an outage while they run, and each logs and retries on its own.
            self.preparing = True
            try:
                await through_outages(self.store, self._prepare_store, logger.warning)
            finally:
                self.preparing = False
            watching = asyncio.create_task(self.changes.watch(), name="helioscope-change-feed")
            stack.push_async_callback(_stop, watching)
            stack.push_async_callback(self.changes.settle)
            webhooks, alerts = await self._start_notifications(stack)
            if settings.log_retention_days is not None and self.store.clickhouse is None:
                # ClickHouse expires rows by its TTL; the database needs deleting.
                await stack.enter_async_context(
                    LogRetention(self.store, settings.log_retention_days)
                )
            # Writer listeners start tasks for each stored batch, the last ones while the writer
            # drains at shutdown: they are waited for after it, before the store closes.
            after_writer: list[Callable[[], Awaitable[None]]] = []
            stack.push_async_callback(_settle, after_writer)
            writer = await stack.enter_async_context(
                LogWriter(
                    self.store,
                    journal_dir=self.journal_dir(),
                    guard=self.guard,
                    worker=settings.worker_id,
                    tail=settings.log_writer,
                    fsync_ms=settings.journal_fsync_ms,
                    segment_bytes=settings.journal_segment_bytes,
                    max_bytes=settings.journal_max_bytes,
                    memory_bytes=settings.log_memory_bytes,
                    batch_size=settings.log_batch_size,
                    retry_seconds=settings.log_retry_seconds,
                    drain_seconds=settings.shutdown_drain_seconds,
                    linger_seconds=settings.log_flush_interval_seconds,
                )
            )
            writer.listeners.append(webhooks.offer)
            if settings.log_writer:  # one process of serve --workers: the others would race
                warn_removed_settings(os.environ)
                await warn_of_other_journals(self.store, writer.root)
                adopt_old_spool(
                    self._old_spool_dir(), writer.enqueue, lambda: writer.health.journal_errors
                )
            session = await stack.enter_async_context(_upstream_session(settings, self.egress))
            upstream = UpstreamClient(timeout=settings.upstream_timeout_seconds, policy=self.egress)
            stack.push_async_callback(upstream.close)
            controls = build_controls(
                store=self.store,
                session=session,
                guard=self.guard,
                redis_client=await _redis(stack, settings.redis_url),
                redis_prefix=settings.redis_key_prefix,
                detector=settings.prompt_injection_detector,
                enqueue=writer.enqueue,
            )
            # Cache writes and cents charges end before the Redis client closes (pushed after it).
            stack.push_async_callback(controls.settle)
            prompts = PromptApplier(self.store.prompts, self.guard)
            gateway = Gateway(
                keys=self.keys,
                writer=writer,
                upstream=upstream,
                max_body_bytes=settings.max_request_body_bytes,
                prompts=prompts,
                controls=controls,
                vault=self.vault,
                ai=self._ai_gateway(prompts),
                country_header=settings.country_code_header,
                inflight=InflightCaps(
                    per_org=settings.max_inflight_per_org,
                    total=total_cap(settings.max_inflight_calls),
                ),
            )
            experiments = _experiments(settings, self.store, writer, session)
            stack.push_async_callback(experiments.close)
            self._follow_changes(stack, webhooks, experiments)
            after_writer.append(experiments.online.close)
            self._started = Started(writer, webhooks, alerts, gateway, experiments)
            try:
                yield self
            finally:
                self._started = None

    def _follow_changes(
        self, stack: AsyncExitStack, webhooks: WebhookDispatcher, experiments: ExperimentService
    ) -> None:
        """Webhook and online evaluator changes reach the writer's worker within a second.

        Through the change feed, whichever worker they were made through (not after a TTL).
        """
        clears = [webhooks.forget, experiments.online.forget_all]
        self.changes.clears += clears
        webhooks.on_change = experiments.online.on_change = self.changes.changed

        def unfollow() -> None:
            for clear in clears:
                self.changes.clears.remove(clear)

        stack.callback(unfollow)

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

    async def _start_notifications(
        self, stack: AsyncExitStack
    ) -> tuple[WebhookDispatcher, AlertEvaluator]:
        # Entered before the writer, so they stop after it: the writer's last batches still
        # reach the dispatcher on shutdown.
        settings = self.settings
        webhooks = await stack.enter_async_context(
            WebhookDispatcher(
                self.store,
                self.guard,
                allow_http_loopback=settings.webhook_allow_http_loopback,
                egress=self.egress,
                max_attempts=settings.webhook_max_attempts,
                retry_seconds=settings.webhook_retry_seconds,
                timeout_seconds=settings.webhook_timeout_seconds,
            )
        )
        alerts = await stack.enter_async_context(
            AlertEvaluator(self.store, webhooks, self.guard, interval=settings.alert_check_seconds)
        )
        return webhooks, alerts

    async def _prepare_store(self) -> None:
        """Migrate and bootstrap: run again whole after an outage, so each must be repeatable."""
        await self.store.migrate()  # one transaction (PostgreSQL's DDL is transactional)
        self.outage.up()  # the store was reached: keys can be checked (api/health)
        await self._bootstrap()

    async def _bootstrap(self) -> None:
        if not self.settings.bootstrap_default_org:
            return
        # The organization and its key in one transaction: made apart, an outage between them
        # left a store with the organization and no key, and the next start printed none.
        self.bootstrap_key = await self.store.write(keys.create_first_org, "default", "bootstrap")
        if self.bootstrap_key is None:  # the store has organizations
            return
        # Printed once, on stdout, so that `helioscope serve` shows it to the person starting it.
        print(
            "Helioscope created organization 'default' and this API key (shown only once):\n"
            f"  {self.bootstrap_key.key}",
            file=sys.stdout,
            flush=True,
        )


def journal_dir(settings: Settings, store: Store) -> Path:
    """Where log records are journalled: the setting, beside a SQLite file, or in the cwd."""
    if settings.journal_dir is not None:
        return settings.journal_dir
    db_file = store.sqlite_file
    if db_file is not None:
        return db_file.with_name(db_file.name + ".journal")
    return Path("helioscope-journal")


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass


def open_store(settings: Settings) -> Store:
    """The configured store: the database, and ClickHouse for the log when it is set."""
    return Store.open(
        settings.database_url,
        settings.clickhouse_url,
        clickhouse_cluster=settings.clickhouse_cluster,
        log_retention_days=settings.log_retention_days,
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
    keys = {
        provider: key.get_secret_value()
        for provider, key in (
            ("OPENAI", settings.experiment_openai_api_key),
            ("ANTHROPIC", settings.experiment_anthropic_api_key),
        )
        if key is not None
    }
    return ExperimentService(
        store,
        writer,
        session,
        self_url=settings.self_url.rstrip("/") if settings.self_url else None,
        provider_keys=keys,
        concurrency=settings.experiment_concurrency,
        limits=SandboxLimits(
            settings.evaluator_timeout_seconds,
            settings.evaluator_memory_mb,
            allow_without_landlock=settings.unsafe_python_evaluators,
        ),
        judge_model=settings.evaluator_model,
    )


def _upstream_session(settings: Settings, egress: EgressPolicy) -> aiohttp.ClientSession:
    # Moderation calls go to the call's own origin: the egress policy checks the addresses its
    # name resolves to. (aiohttp does not resolve an IP literal, but a literal never names an
    # OpenAI origin, the only one screened: see ``Gateway._accept``.)
    connector = aiohttp.TCPConnector(
        limit=0, ttl_dns_cache=300, keepalive_timeout=60, resolver=PolicyResolver(egress)
    )
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=settings.upstream_timeout_seconds, connect=30),
        # Pass bodies through byte for byte: no decompression, no headers the client did not send.
        auto_decompress=False,
        skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type", "Accept"),
        cookie_jar=aiohttp.DummyCookieJar(),
    )
