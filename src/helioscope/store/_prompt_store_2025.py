"""The 2025 half of ``store.prompts``: prompts with ``{{hc:…}}`` variables and environments."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from helioscope.errors import NotFound
from helioscope.store import _prompt_inputs as inputs_db
from helioscope.store import _prompts_2025 as db
from helioscope.store._prompt_cache import TtlCache
from helioscope.store._prompt_records import Prompt2025, Prompt2025Version

PRODUCTION = db.PRODUCTION


class Prompt2025Store(ABC):
    """Prompts 2025 and versions; each method is one transaction scoped to ``org_id``."""

    engine: AsyncEngine
    writer_engine: AsyncEngine
    # (org, prompt id, version id, environment) -> the version a call with those fields uses.
    selected: TtlCache[Prompt2025Version]

    @abstractmethod
    def _changed(self) -> None:
        """Forget cached versions after a change (``PromptStore`` owns the caches)."""

    async def create_prompt_2025(
        self, org_id: str, name: str, tags: list[str], body: Mapping[str, Any]
    ) -> tuple[Prompt2025, Prompt2025Version]:
        """A new prompt whose first version (0.0) is in production."""
        async with self.writer_engine.begin() as conn:
            created = await db.create_prompt(conn, org_id, name, tags, body)
        self._changed()
        return created

    async def new_version_2025(
        self,
        org_id: str,
        prompt_id: str,
        base_version_id: str,
        *,
        new_major: bool,
        commit_message: str,
        body: Mapping[str, Any],
        environment: str | None = None,
    ) -> Prompt2025Version:
        """A new version after ``base_version_id``, optionally put in ``environment``."""
        async with self.writer_engine.begin() as conn:
            await db.get_prompt(conn, org_id, prompt_id)
            base = await db.must_get_version(conn, org_id, base_version_id, prompt_id)
            version = await db.new_version(
                conn, base, new_major=new_major, body=body, commit_message=commit_message
            )
            if environment:
                await db.set_environment(conn, version, environment)
                version.environments = [environment]
        self._changed()
        return version

    async def set_environment_2025(
        self, org_id: str, prompt_id: str, version_id: str, environment: str
    ) -> None:
        """Move ``environment`` to one version (``production`` promotes it), atomically."""
        async with self.writer_engine.begin() as conn:
            await db.get_prompt(conn, org_id, prompt_id)
            version = await db.must_get_version(conn, org_id, version_id, prompt_id)
            await db.set_environment(conn, version, environment)
        self._changed()

    async def remove_environment_2025(
        self, org_id: str, prompt_id: str, version_id: str, environment: str
    ) -> None:
        """Take ``environment`` off a version (not ``production``)."""
        async with self.writer_engine.begin() as conn:
            version = await db.must_get_version(conn, org_id, version_id, prompt_id)
            await db.remove_environment(conn, version, environment)
        self._changed()

    async def get_prompt_2025(self, org_id: str, prompt_id: str) -> Prompt2025:
        """A prompt, or ``NotFound``."""
        async with self.engine.connect() as conn:
            return await db.get_prompt(conn, org_id, prompt_id)

    async def query_prompts_2025(
        self, org_id: str, search: str, tags: list[str], page: int, page_size: int
    ) -> list[Prompt2025]:
        """A page of prompts by name search and tags, newest first."""
        async with self.engine.connect() as conn:
            return await db.query_prompts(conn, org_id, search, tags, page, page_size)

    async def count_prompts_2025(self, org_id: str) -> int:
        """How many prompts the organization has."""
        async with self.engine.connect() as conn:
            return await db.count_prompts(conn, org_id)

    async def tags_2025(self, org_id: str) -> list[str]:
        """Every tag in use."""
        async with self.engine.connect() as conn:
            return await db.all_tags(conn, org_id)

    async def environments_2025(self, org_id: str) -> list[str]:
        """Every environment in use, ``production`` included."""
        async with self.engine.connect() as conn:
            return await db.all_environments(conn, org_id)

    async def must_get_version_2025(self, org_id: str, version_id: str) -> Prompt2025Version:
        """One 2025 version by id (prompt id, numbering, model and body), or ``NotFound``."""
        async with self.engine.connect() as conn:
            return await db.must_get_version(conn, org_id, version_id)

    async def version_by_token_2025(self, version_id: str, token: str) -> Prompt2025Version:
        """The version whose body URL carries ``token``, or ``NotFound``."""
        async with self.engine.connect() as conn:
            version = await db.version_by_token(conn, version_id, token)
        if version is None:
            raise NotFound(f"prompt version {version_id} not found")
        return version

    async def versions_2025(
        self, org_id: str, prompt_id: str, major: int | None = None
    ) -> list[Prompt2025Version]:
        """A prompt's versions, newest first."""
        async with self.engine.connect() as conn:
            await db.get_prompt(conn, org_id, prompt_id)
            return await db.versions(conn, org_id, prompt_id, major)

    async def environment_version_2025(
        self, org_id: str, prompt_id: str, environment: str
    ) -> Prompt2025Version:
        """The version carrying ``environment``, or ``NotFound``."""
        async with self.engine.connect() as conn:
            await db.get_prompt(conn, org_id, prompt_id)
            version = await db.environment_version(conn, org_id, prompt_id, environment)
        if version is None:
            raise NotFound(f"prompt {prompt_id} has no version in environment {environment!r}")
        return version

    async def rename_2025(self, org_id: str, prompt_id: str, name: str) -> None:
        """Rename a prompt."""
        async with self.writer_engine.begin() as conn:
            await db.update_prompt(conn, await db.get_prompt(conn, org_id, prompt_id), name=name)
        self._changed()

    async def set_tags_2025(self, org_id: str, prompt_id: str, tags: list[str]) -> list[str]:
        """Replace a prompt's tags (duplicates dropped, order kept)."""
        tags = list(dict.fromkeys(tags))
        async with self.writer_engine.begin() as conn:
            await db.update_prompt(conn, await db.get_prompt(conn, org_id, prompt_id), tags=tags)
        self._changed()
        return tags

    async def delete_prompt_2025(self, org_id: str, prompt_id: str) -> None:
        """Delete a prompt and its versions."""
        async with self.writer_engine.begin() as conn:
            await db.soft_delete_prompt(conn, await db.get_prompt(conn, org_id, prompt_id))
        self._changed()

    async def delete_version_2025(self, org_id: str, prompt_id: str, version_id: str) -> None:
        """Delete a version; the production version is a 400."""
        async with self.writer_engine.begin() as conn:
            version = await db.must_get_version(conn, org_id, version_id, prompt_id)
            await db.soft_delete_version(conn, version)
        self._changed()

    async def call_inputs_2025(
        self, org_id: str, prompt_id: str, version_id: str, request_id: str
    ) -> dict[str, Any] | None:
        """The inputs a logged call gave a version, or None."""
        async with self.engine.connect() as conn:
            return await inputs_db.call_inputs(conn, org_id, prompt_id, version_id, request_id)

    async def select_version_2025(
        self,
        org_id: str,
        prompt_id: str,
        version_id: str | None = None,
        environment: str | None = None,
    ) -> Prompt2025Version:
        """The version a call uses: by ``environment``, else ``version_id``, else production.

        Cached: a warm gateway resolves a prompt without a database round trip.
        """
        key = (org_id, prompt_id, version_id, environment)

        async def load() -> Prompt2025Version:
            if environment:
                return await self.environment_version_2025(org_id, prompt_id, environment)
            if version_id:
                async with self.engine.connect() as conn:
                    return await db.must_get_version(conn, org_id, version_id, prompt_id)
            return await self.environment_version_2025(org_id, prompt_id, PRODUCTION)

        return await self.selected.get_or_load(key, load)
