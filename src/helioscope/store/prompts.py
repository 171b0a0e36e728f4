"""``store.prompts``: prompt management over the store, and the cache the gateway reads.

Stable entry points (other areas build on them):

- ``get_version(org_id, version_id)``: one legacy version (``PromptVersion``: ``prompt_id``,
  ``major_version``, ``minor_version``, ``model``, ``helicone_template``), or None;
- ``must_get_version_2025(org_id, version_id)``: one 2025 version (``Prompt2025Version``, whose
  ``prompt_body`` is the chat body), or ``NotFound``;
- ``create_subversion(...)`` and ``add_input_record(...)``: new versions and input rows.

Compiling a template with inputs is pure and lives in ``helioscope.prompts``.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine

from helioscope.store._prompt_cache import TtlCache
from helioscope.store._prompt_records import (
    InputRecord,
    LegacyPrompt,
    Prompt2025,
    Prompt2025Version,
    PromptVersion,
)
from helioscope.store._prompt_store_2025 import PRODUCTION, Prompt2025Store
from helioscope.store._prompt_store_legacy import LegacyPromptStore

__all__ = [
    "PRODUCTION",
    "InputRecord",
    "LegacyPrompt",
    "Prompt2025",
    "Prompt2025Version",
    "PromptStore",
    "PromptVersion",
]

# How long a cached version serves calls before it is read again (changes made in this process
# are seen at once; other processes' within this time).
CACHE_TTL_SECONDS = 30.0


class PromptStore(LegacyPromptStore, Prompt2025Store):
    """Legacy and 2025 prompts; every change clears the versions cache."""

    def __init__(self, engine: AsyncEngine, writer_engine: AsyncEngine) -> None:
        self.engine = engine
        self.writer_engine = writer_engine
        self.recorded = TtlCache(CACHE_TTL_SECONDS)
        # Serialises recording call templates (rare: only a template not seen before records).
        self.record_lock = asyncio.Lock()
        self.selected = TtlCache(CACHE_TTL_SECONDS)

    def _changed(self) -> None:
        self.recorded.clear()
        self.selected.clear()
