"""Prompts, legacy and 2025: query functions run through ``store.prompts``, which caches versions.

``store.prompts`` is a runner (``read``/``write``/``org``, as ``store`` itself) that clears its
caches after every write, plus the two lookups the gateway makes on each templated call:

- ``record_call_template(org_id, user_defined_id, template)``: the legacy version a call's
  template belongs to, recorded if new;
- ``select_version(org_id, prompt_id, version_id, environment)``: the 2025 version a call uses.

The functions are in ``legacy_prompts`` and ``legacy_versions`` (prompts named by
``Helicone-Prompt-Id``), ``prompts_2025`` and ``versions_2025`` (prompts with ``{{hc:…}}`` variables
and environments), and ``inputs`` (input records kept by hand). Compiling a template with inputs
is pure and lives in ``helioscope.prompts``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import orjson
from sqlalchemy.exc import IntegrityError

from helioscope.store._runner import Runner
from helioscope.store.prompts import legacy_versions, prompts_2025, versions_2025
from helioscope.store.prompts._cache import TtlCache
from helioscope.store.records import Prompt2025Version, PromptVersion

__all__ = ["CACHE_TTL_SECONDS", "PromptStore"]

# How long a cached version serves calls before it is read again (changes made in this process
# are seen at once; other processes' within this time).
CACHE_TTL_SECONDS = 30.0


class PromptStore(Runner):
    """Runs prompt functions; every committed write clears the versions cache."""

    def __init__(self, runner: Runner) -> None:
        super().__init__(runner.engine, runner.dialect, runner.log_db)
        # Recording a call's template changes only the entry it then caches: it writes through
        # the plain runner, which leaves the other entries alone.
        self._recorder = runner
        # (org, user_defined_id) -> (template as JSON bytes, its version): the gateway's hot path.
        self.recorded: TtlCache[tuple[bytes, PromptVersion]] = TtlCache(CACHE_TTL_SECONDS)
        # Serialises recording call templates (rare: only a template not seen before records).
        self.record_lock = asyncio.Lock()
        # (org, prompt id, version id, environment) -> the version a call with those fields uses.
        self.selected: TtlCache[Prompt2025Version] = TtlCache(CACHE_TTL_SECONDS)
        self.on_change: Callable[[], None] | None = None  # tells the other workers

    def written(self) -> None:
        """Forget cached versions: a prompt may have changed; tell the other workers."""
        self.forget()
        if self.on_change is not None:
            self.on_change()

    def forget(self) -> None:
        """Forget cached versions (another worker changed a prompt)."""
        self.recorded.clear()
        self.selected.clear()

    async def record_call_template(
        self, org_id: str, user_defined_id: str, template: object
    ) -> PromptVersion:
        """The version a gateway call's template belongs to, recorded if it is new.

        See ``legacy_versions.record_call``. A template seen before costs no database round trip.
        """
        key = (org_id, user_defined_id)
        template_bytes = orjson.dumps(template)
        cached = self.recorded.get(key)
        if cached is not None and cached[0] == template_bytes:
            return cached[1]
        self.recorded.misses += 1
        # Calls of one prompt in this process record one at a time; another process racing to
        # create the same prompt loses on the unique index, and then finds the winner's.
        record, org = legacy_versions.record_call, self._recorder.org(org_id)
        async with self.record_lock:
            try:
                version = await org.write(record, user_defined_id, template)
            except IntegrityError:
                version = await org.write(record, user_defined_id, template)
        # Keyed by the call's own bytes: PostgreSQL's JSONB reorders keys when read back.
        self.recorded.put(key, (template_bytes, version))
        return version

    async def select_version(
        self,
        org_id: str,
        prompt_id: str,
        version_id: str | None = None,
        environment: str | None = None,
    ) -> Prompt2025Version:
        """The 2025 version a call uses: by ``environment``, else ``version_id``, else production.

        Cached: a warm gateway resolves a prompt without a database round trip.
        """
        key = (org_id, prompt_id, version_id, environment)
        org = self.org(org_id)

        async def load() -> Prompt2025Version:
            if environment:
                return await org.read(versions_2025.environment_version, prompt_id, environment)
            if version_id:
                return await org.read(prompts_2025.must_get_version, version_id, prompt_id)
            return await org.read(
                versions_2025.environment_version, prompt_id, prompts_2025.PRODUCTION
            )

        return await self.selected.get_or_load(key, load)
