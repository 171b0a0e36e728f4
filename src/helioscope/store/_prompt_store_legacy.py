"""The legacy half of ``store.prompts``: prompts named by ``Helicone-Prompt-Id``."""

from __future__ import annotations

import asyncio
import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from helioscope.errors import BadRequest, NotFound
from helioscope.store import _prompt_inputs as inputs_db
from helioscope.store import _prompts_2025 as db_2025
from helioscope.store import _prompts_legacy as db
from helioscope.store._prompt_cache import TtlCache
from helioscope.store._prompt_records import InputRecord, LegacyPrompt, PromptVersion

_EPOCH = dt.datetime.min.replace(tzinfo=dt.UTC)


class LegacyPromptStore(ABC):
    """Legacy prompts and versions; each method is one transaction scoped to ``org_id``."""

    engine: AsyncEngine
    writer_engine: AsyncEngine
    # (org, user_defined_id) -> (template as JSON bytes, its version): the gateway's hot path.
    recorded: TtlCache[tuple[bytes, PromptVersion]]
    record_lock: asyncio.Lock

    @abstractmethod
    def _changed(self) -> None:
        """Forget cached versions after a change (``PromptStore`` owns the caches)."""

    async def create_prompt(
        self, org_id: str, user_defined_id: str, template: Any, metadata: Mapping[str, Any]
    ) -> tuple[LegacyPrompt, PromptVersion]:
        """A new prompt with version 0.0 in production."""
        try:
            async with self.writer_engine.begin() as conn:
                created = await db.create_prompt(conn, org_id, user_defined_id, template, metadata)
        except IntegrityError as exc:  # a concurrent create of the same id won the race
            raise BadRequest(
                f"a prompt with userDefinedId {user_defined_id!r} already exists"
            ) from exc
        self._changed()
        return created

    async def query_prompts(self, org_id: str, node: Any) -> list[dict[str, Any]]:
        """Prompts matching a ``prompt_v2`` filter: ``{"prompt", "major_version"}`` each."""
        async with self.engine.connect() as conn:
            return await db.query_prompts(conn, org_id, node)

    async def get_prompt(self, org_id: str, prompt_id: str) -> dict[str, Any]:
        """A prompt with its versions, latest version and when a call last used it."""
        async with self.engine.connect() as conn:
            prompt = await db.find_prompt(conn, org_id, prompt_id)
            versions = await db.versions(conn, org_id, prompt_id)
            last = await inputs_db.last_used(conn, org_id, prompt.user_defined_id)
        return {"prompt": prompt, "versions": versions, "last_used": last}

    async def set_user_defined_id(self, org_id: str, prompt_id: str, new_id: str) -> None:
        """Rename the Helicone-Prompt-Id a prompt answers to."""
        try:
            async with self.writer_engine.begin() as conn:
                prompt = await db.find_prompt(conn, org_id, prompt_id)
                await db.set_user_defined_id(conn, prompt, new_id)
        except IntegrityError as exc:
            raise BadRequest(f"a prompt with userDefinedId {new_id!r} already exists") from exc
        self._changed()

    async def delete_prompt(self, org_id: str, prompt_id: str) -> None:
        """Delete a prompt and its versions."""
        async with self.writer_engine.begin() as conn:
            await db.soft_delete_prompt(conn, await db.find_prompt(conn, org_id, prompt_id))
        self._changed()

    async def get_version(self, org_id: str, version_id: str) -> PromptVersion | None:
        """One legacy prompt version of ``org_id`` by id, or None.

        The record has the prompt id, numbering, model and template. A stable entry point:
        experiments build on it.
        """
        async with self.engine.connect() as conn:
            return await db.get_version(conn, org_id, version_id)

    async def must_get_version(self, org_id: str, version_id: str) -> PromptVersion:
        """Like ``get_version``, but ``NotFound`` instead of None."""
        async with self.engine.connect() as conn:
            return await db.must_get_version(conn, org_id, version_id)

    async def query_versions(
        self,
        org_id: str,
        prompt_id: str,
        node: Any = "all",
        include_experiment_versions: bool = True,
    ) -> list[PromptVersion]:
        """A prompt's versions matching a ``prompts_versions`` filter, newest first."""
        async with self.engine.connect() as conn:
            await db.find_prompt(conn, org_id, prompt_id)
            return await db.versions(conn, org_id, prompt_id, node, include_experiment_versions)

    async def edit_label(self, org_id: str, version_id: str, label: str) -> dict[str, Any]:
        """Set a version's label; returns its new metadata."""
        async with self.writer_engine.begin() as conn:
            version = await db.must_get_version(conn, org_id, version_id)
            metadata = {**version.metadata, "label": label}
            await db.set_metadata(conn, version, metadata)
        return metadata

    async def edit_template(self, org_id: str, version_id: str, template: Any) -> None:
        """Replace a version's template in place."""
        async with self.writer_engine.begin() as conn:
            await db.set_template(
                conn, await db.must_get_version(conn, org_id, version_id), template
            )
        self._changed()

    async def create_subversion(
        self,
        org_id: str,
        parent_id: str,
        template: Any,
        *,
        is_major: bool = False,
        metadata: Mapping[str, Any] | None = None,
        experiment_id: str | None = None,
        bump_for_major_id: str | None = None,
    ) -> PromptVersion:
        """A new version after ``parent_id``: a new major (max + 1, 0) or a new minor.

        ``bump_for_major_id`` names the version whose major gets the new minor instead of the
        parent's. A stable entry point: experiments create their versions with it.
        """
        async with self.writer_engine.begin() as conn:
            parent = await db.must_get_version(conn, org_id, parent_id)
            base = parent
            if bump_for_major_id is not None:
                base = await db.must_get_version(conn, org_id, bump_for_major_id)
                if base.prompt_id != parent.prompt_id:
                    raise BadRequest("bumpForMajorPromptVersionId belongs to another prompt")
            major, minor = await db.next_number(
                conn, org_id, parent.prompt_id, None if is_major else base.major_version
            )
            prompt = await db.find_prompt(conn, org_id, parent.prompt_id)
            version = await db.insert_version(
                conn,
                prompt,
                major=major,
                minor=minor,
                template=template,
                metadata={k: v for k, v in (metadata or {}).items() if k != "isProduction"},
                parent=parent.id,
                experiment_id=experiment_id,
            )
        self._changed()
        return version

    async def promote(self, org_id: str, version_id: str) -> PromptVersion:
        """Make a version its prompt's production version, in one transaction."""
        async with self.writer_engine.begin() as conn:
            version = await db.must_get_version(conn, org_id, version_id)
            await db.move_production(conn, version)
        self._changed()
        return version

    async def delete_version(self, org_id: str, version_id: str) -> None:
        """Delete a version; the production version is a 400."""
        async with self.writer_engine.begin() as conn:
            await db.soft_delete_version(conn, await db.must_get_version(conn, org_id, version_id))
        self._changed()

    async def production_version(
        self, org_id: str, user_defined_id: str, node: Any = "all"
    ) -> PromptVersion:
        """The production version of the prompt called ``user_defined_id``.

        Only versions matching ``node`` count; when none of them is in production, the newest.
        """
        async with self.engine.connect() as conn:
            prompt = await db.find_by_user_defined_id(conn, org_id, user_defined_id)
            if prompt is None:
                raise NotFound(f"prompt {user_defined_id!r} not found")
            versions = await db.versions(conn, org_id, prompt.id, node)
        if not versions:
            raise NotFound(f"prompt {user_defined_id!r} has no version matching the filter")
        return next((v for v in versions if v.is_production), versions[0])

    async def version_inputs(
        self, org_id: str, version_id: str, limit: int, random: bool = False
    ) -> list[InputRecord]:
        """Inputs of a version: its logged calls' and its stored records', newest first.

        The version may be a legacy or a 2025 one: calls of both carry it on their log rows.
        """
        async with self.engine.connect() as conn:
            if await db.get_version(conn, org_id, version_id) is None:
                await db_2025.must_get_version(conn, org_id, version_id)
            logged = await inputs_db.log_inputs(conn, org_id, version_id, limit, random)
            kept = await inputs_db.stored_inputs(conn, org_id, version_id, limit, random)
        records = logged + kept
        if not random:
            records.sort(key=lambda r: r.created_at or _EPOCH, reverse=True)
        return records[:limit]

    async def add_input_record(
        self,
        org_id: str,
        version_id: str,
        inputs: Mapping[str, Any],
        auto_prompt_inputs: Sequence[Any] = (),
        source_request: str | None = None,
        experiment_id: str | None = None,
    ) -> InputRecord:
        """Keep a row of inputs for a version (experiments' rows). A stable entry point."""
        async with self.writer_engine.begin() as conn:
            await db.must_get_version(conn, org_id, version_id)
            return await inputs_db.add_input_record(
                conn, org_id, version_id, inputs, auto_prompt_inputs, source_request, experiment_id
            )

    async def record_call_template(
        self, org_id: str, user_defined_id: str, template: Any
    ) -> PromptVersion:
        """The version a gateway call's template belongs to, recorded if it is new.

        The first call creates the prompt (version 0.0, in production); a call whose template
        differs from the latest version's creates a new major version and makes it production,
        unless the prompt was made in the UI (then its production version is used as is). A
        template seen before costs no database round trip.
        """
        key = (org_id, user_defined_id)
        template_bytes = orjson.dumps(template)
        cached = self.recorded.get(key)
        if cached is not None and cached[0] == template_bytes:
            return cached[1]
        self.recorded.misses += 1
        # Calls of one prompt in this process record one at a time; another process racing to
        # create the same prompt loses on the unique index, and then finds the winner's.
        async with self.record_lock:
            try:
                async with self.writer_engine.begin() as conn:
                    version = await _record(conn, org_id, user_defined_id, template)
            except IntegrityError:
                async with self.writer_engine.begin() as conn:
                    version = await _record(conn, org_id, user_defined_id, template)
        # Keyed by the call's own bytes: PostgreSQL's JSONB reorders keys when read back.
        self.recorded.put(key, (template_bytes, version))
        return version


async def _record(conn: Any, org_id: str, user_defined_id: str, template: Any) -> PromptVersion:
    prompt = await db.find_by_user_defined_id(conn, org_id, user_defined_id)
    if prompt is None:
        return (
            await db.create_prompt(
                conn, org_id, user_defined_id, template, {"promptFromRequest": True}
            )
        )[1]
    versions = await db.versions(conn, org_id, prompt.id, include_experiment_versions=False)
    if prompt.metadata.get("createdFromUi") and versions:
        return next((v for v in versions if v.is_production), versions[0])
    latest = versions[0] if versions else None
    if latest is not None and latest.helicone_template == template:
        return latest
    major, minor = await db.next_number(conn, org_id, prompt.id, None)
    version = await db.insert_version(
        conn, prompt, major=major, minor=minor, template=template, metadata={}
    )
    await db.move_production(conn, version)
    return version
