"""``helioscope journal forget``: a journal directory the start-up warning names, once drained
or gone, is forgotten, and the warning with it; this server's own directory is refused."""

from __future__ import annotations

import asyncio
from pathlib import Path

from helioscope.ingest import warn_of_other_journals
from helioscope.ingest._journal import journal_id
from helioscope.store import Store
from tests.cli.runner import helioscope


async def _store_with_positions(url: str, positions: dict[str, tuple[str, int]]) -> None:
    store = Store.open(url)
    try:
        await store.migrate()
        await store._commit_positions(positions)
    finally:
        await store.close()


async def _others(url: str, root: Path) -> tuple[list[str], set[str]]:
    store = Store.open(url)
    try:
        return await warn_of_other_journals(store, root), set(await store.journal_positions())
    finally:
        await store.close()


def test_a_drained_journal_is_forgotten_and_no_longer_named(tmp_path: Path) -> None:
    url, root = f"sqlite:///{tmp_path / 'helioscope.db'}", tmp_path / "journal"
    here = journal_id(root)
    asyncio.run(
        _store_with_positions(
            url,
            {
                f"{here}:0": ("000000000003.journal", 10),
                "0ld1d:0": ("000000000001.journal", 500),
                "0ld1d:1": ("000000000002.journal", 20),
                "0ld1d2:0": ("000000000001.journal", 40),  # (an id that starts like it)
            },
        )
    )
    env: dict[str, str | None] = {
        "HELIOSCOPE_DATABASE_URL": url,
        "HELIOSCOPE_JOURNAL_DIR": str(root),
    }
    ran = helioscope("journal", "forget", "0ld1d", env=env)
    assert ran.code == 0, ran.stderr
    assert ran.stdout == b"forgot journal 0ld1d (2 worker position(s))\n"
    others, kept = asyncio.run(_others(url, root))
    assert others == ["0ld1d2"] and kept == {f"{here}:0", "0ld1d2:0"}

    # This directory's own positions are where it resumes: refused, kept.
    ran = helioscope("journal", "forget", here, env=env)
    assert ran.code == 1 and "this server's own journal directory" in ran.stderr
    # An id the store does not know (a typo) says so.
    ran = helioscope("journal", "forget", "0ld1d", env=env)
    assert ran.code == 1 and "no positions of journal 0ld1d" in ran.stderr
    assert asyncio.run(_others(url, root))[1] == {f"{here}:0", "0ld1d2:0"}
