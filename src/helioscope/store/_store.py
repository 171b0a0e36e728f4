"""The storage seam: the one object the rest of Helioscope talks to about data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.exc import DataError, IntegrityError, ProgrammingError, StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from helioscope.store import _keys, _log, _migrate, _requests, _sessions, _temp_keys
from helioscope.store._datasets import DatasetStore
from helioscope.store._engine import WRITE, create_engine, sqlite_path
from helioscope.store._evaluators import EvaluatorStore
from helioscope.store._experiment_tables import ExperimentTableStore
from helioscope.store._experiments import ExperimentStore
from helioscope.store._gateway_cache import GatewayCacheStore
from helioscope.store._hooks_facade import HooksStore
from helioscope.store._metrics_facade import MetricsStore
from helioscope.store._requests import RequestQuery
from helioscope.store._scores import ScoreStore
from helioscope.store._sessions import SessionQuery
from helioscope.store._vault import VaultStore
from helioscope.store.prompts import PromptStore
from helioscope.store.records import ApiKey, LogRow, NewApiKey, Organization

# Errors caused by the rows themselves: writing the same rows again fails the same way.
_DATA_ERRORS: tuple[type[Exception], ...] = (IntegrityError, DataError, ProgrammingError)


class Store:
    """Async access to everything Helioscope keeps, over SQLite or PostgreSQL.

    Every read takes the caller's organization id; nothing returns another organization's rows.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        # Transactions that write go through this view of the engine (see _engine.WRITE).
        self.writer_engine = engine.execution_options(**{WRITE: True})
        # Insights: dashboard metrics, users and properties; webhooks and alerts.
        self.metrics = MetricsStore(engine, self.writer_engine)
        self.hooks = HooksStore(engine, self.writer_engine)
        # Prompts: legacy and 2025 templates, versions and the gateway's cache of them.
        self.prompts = PromptStore(self.engine, self.writer_engine)
        # Gateway controls: the embedded response cache.
        self.gateway_cache = GatewayCacheStore(engine, self.writer_engine)
        # Datasets, evaluators, scores and experiments: one sub-store each (``store.datasets``…)
        self.datasets = DatasetStore(engine, self.writer_engine)
        self.evaluators = EvaluatorStore(engine, self.writer_engine)
        self.experiments = ExperimentStore(engine, self.writer_engine)
        self.experiment_tables = ExperimentTableStore(engine, self.writer_engine)
        self.scores = ScoreStore(engine)
        # The vault: provider keys (ciphertext only) and proxy keys.
        self.vault = VaultStore(engine, self.writer_engine)

    @classmethod
    def open(cls, database_url: str) -> Store:
        """Create a store for a user-facing URL (``sqlite:///…`` or ``postgresql://…``)."""
        return cls(create_engine(database_url))

    @property
    def sqlite_file(self) -> Path | None:
        """The SQLite database file, or None on PostgreSQL."""
        return sqlite_path(self.engine.url)

    async def migrate(self) -> None:
        """Create the SQLite file's directory if need be, and bring the schema up to date."""
        if self.sqlite_file is not None:
            self.sqlite_file.parent.mkdir(parents=True, exist_ok=True)
        await _migrate.upgrade(self.writer_engine)

    async def close(self) -> None:
        """Release every connection."""
        self.gateway_cache.close()
        await self.engine.dispose()

    # Organizations and keys

    async def get_or_create_org(self, name: str) -> Organization:
        """The organization called ``name``, created if it does not exist."""
        async with self.writer_engine.begin() as conn:
            return await _keys.get_or_create_org(conn, name)

    async def count_orgs(self) -> int:
        """How many organizations exist."""
        async with self.engine.connect() as conn:
            return await _keys.count_orgs(conn)

    async def create_api_key(
        self, org_id: str, name: str = "default", permissions: str = "rw"
    ) -> NewApiKey:
        """Create a key for ``org_id``; the clear key is in the result and nowhere else."""
        async with self.writer_engine.begin() as conn:
            return await _keys.create_api_key(conn, org_id, name, permissions)

    async def purge_api_key(self, org_id: str, key_id: int) -> None:
        """Remove a key for good (the temporary keys experiments use for their gateway calls)."""
        async with self.writer_engine.begin() as conn:
            await _temp_keys.purge_api_key(conn, org_id, key_id)

    async def find_api_key(self, key_hash: str) -> ApiKey | None:
        """The live key with this SHA-256 hash, or None."""
        async with self.engine.connect() as conn:
            return await _keys.find_api_key(conn, key_hash)

    # Key management

    async def list_api_keys(self, org_id: str) -> list[dict[str, Any]]:
        """The organization's live keys (names, scopes, dates; never hashes)."""
        async with self.engine.connect() as conn:
            return await _keys.list_api_keys(conn, org_id)

    async def rename_api_key(self, org_id: str, key_id: int, name: str) -> bool:
        """Rename a key; False when the organization has no live key with that id."""
        async with self.writer_engine.begin() as conn:
            return await _keys.rename_api_key(conn, org_id, key_id, name)

    async def delete_api_key(self, org_id: str, key_id: int) -> bool:
        """Revoke a key; False when the organization has no live key with that id."""
        async with self.writer_engine.begin() as conn:
            return await _keys.delete_api_key(conn, org_id, key_id)

    # The request log

    async def insert_log_rows(self, rows: list[LogRow]) -> None:
        """Write a batch of log rows in one transaction (all or nothing)."""
        async with self.writer_engine.begin() as conn:
            await _log.insert_log_rows(conn, rows)

    async def get_request(self, org_id: str, request_id: str) -> dict[str, Any] | None:
        """One logged request of ``org_id`` (with its feedback), or None."""
        async with self.engine.connect() as conn:
            return await _requests.get_request(conn, org_id, request_id)

    async def query_requests(self, org_id: str, query: RequestQuery) -> list[dict[str, Any]]:
        """A page of ``org_id``'s requests matching a Helicone filter tree."""
        async with self.engine.connect() as conn:
            return await _requests.query_requests(conn, org_id, query)

    async def count_requests(self, org_id: str, node: Any, is_cached: bool | None) -> int:
        """How many of ``org_id``'s requests match a filter tree."""
        async with self.engine.connect() as conn:
            return await _requests.count_requests(conn, org_id, node, is_cached)

    async def requests_by_ids(self, org_id: str, ids: list[str]) -> list[dict[str, Any]]:
        """``org_id``'s requests with these ids."""
        async with self.engine.connect() as conn:
            return await _requests.requests_by_ids(conn, org_id, ids)

    async def set_property(self, org_id: str, request_id: str, key: str, value: str) -> None:
        """Add or replace a property of a logged request."""
        async with self.writer_engine.begin() as conn:
            await _requests.set_property(conn, org_id, request_id, key, value)

    async def add_scores(self, org_id: str, request_id: str, scores: dict[str, float]) -> None:
        """Merge scores into a logged request."""
        async with self.writer_engine.begin() as conn:
            await _requests.add_scores(conn, org_id, request_id, scores)

    async def set_feedback(self, org_id: str, request_id: str, rating: bool) -> None:
        """Rate a logged request."""
        async with self.writer_engine.begin() as conn:
            await _requests.set_feedback(conn, org_id, request_id, rating)

    # Sessions

    async def query_sessions(self, org_id: str, query: SessionQuery) -> list[dict[str, Any]]:
        """``org_id``'s sessions with totals, newest first, and each session's users."""
        async with self.engine.connect() as conn:
            sessions = await _sessions.query_sessions(conn, org_id, query)
            users = await _sessions.session_users(conn, org_id, [s["session_id"] for s in sessions])
        for session in sessions:
            session["user_ids"] = users.get(session["session_id"], [])
        return sessions

    async def session_names(
        self, org_id: str, name_contains: str, node: Any, start: Any, end: Any
    ) -> list[dict[str, Any]]:
        """Session names and how they are used."""
        async with self.engine.connect() as conn:
            return await _sessions.session_names(conn, org_id, name_contains, node, start, end)

    async def session_rows(self, org_id: str, query: SessionQuery) -> list[dict[str, Any]]:
        """Per-session count, duration and cost, for the metrics histograms."""
        async with self.engine.connect() as conn:
            return await _sessions.session_rows(conn, org_id, query)

    async def has_session(self, org_id: str) -> bool:
        """True when ``org_id`` logged any request with a session id."""
        async with self.engine.connect() as conn:
            return await _sessions.has_session(conn, org_id)

    async def session_trace(self, org_id: str, session_id: str) -> list[dict[str, Any]]:
        """A session's requests ordered by trace path and time."""
        async with self.engine.connect() as conn:
            return await _sessions.session_trace(conn, org_id, session_id)

    async def set_session_feedback(self, org_id: str, session_id: str, rating: bool) -> None:
        """Rate a session (on its earliest request, as Helicone does)."""
        async with self.writer_engine.begin() as conn:
            await _sessions.set_session_feedback(conn, org_id, session_id, rating)

    async def get_session_tag(self, org_id: str, session_id: str) -> str | None:
        """A session's tag."""
        async with self.engine.connect() as conn:
            return await _sessions.get_session_tag(conn, org_id, session_id)

    async def set_session_tag(self, org_id: str, session_id: str, tag: str) -> None:
        """Tag a session."""
        async with self.writer_engine.begin() as conn:
            await _sessions.set_session_tag(conn, org_id, session_id, tag)


def is_transient(exc: BaseException) -> bool:
    """True when a failed write may succeed later (locked, unreachable, restarting store).

    False when the rows themselves are at fault, so that the writer can isolate the bad row
    instead of retrying a batch that can never succeed.
    """
    if isinstance(exc, _DATA_ERRORS):
        return False
    if isinstance(exc, StatementError) and exc.orig is not None:
        return not isinstance(exc.orig, (TypeError, ValueError))
    return isinstance(exc, (StatementError, OSError, ConnectionError, TimeoutError))
