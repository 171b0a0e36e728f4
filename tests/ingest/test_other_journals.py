"""A server started with another journal directory than before (PostgreSQL's default is relative
to the cwd) says, once, which journals the store has stored from that this one does not hold,
and that whether they still hold records cannot be told."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from helioscope import Settings
from helioscope.ingest import warn_of_other_journals
from helioscope.ingest._journal import journal_id
from helioscope.store import Store
from helioscope.store.log.journal import forget_journal
from tests.running import running


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


async def test_journals_elsewhere_are_named_once_with_the_directory_searched(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "journal"
    here = journal_id(root)
    await store._commit_positions(
        {
            f"{here}:0": ("000000000003.journal", 10),  # this directory's: not named
            "0ld1d:0": ("000000000001.journal", 500),
            "0ld1d:1": ("000000000002.journal", 20),
            "0th3r:0": ("000000000001.journal", 40),
        }
    )
    caplog.set_level(logging.WARNING)
    assert await warn_of_other_journals(store, root) == ["0ld1d", "0th3r"]
    (said,) = _warnings(caplog)
    assert "2 other journal directories (journal-id 0ld1d, 0th3r)" in said
    assert str(root.resolve()) in said and here in said
    assert "cannot be told" in said and "HELIOSCOPE_JOURNAL_DIR" in said


async def test_no_warning_when_the_store_knows_only_this_directory(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "journal"
    await store._commit_positions({f"{journal_id(root)}:0": ("000000000001.journal", 10)})
    caplog.set_level(logging.WARNING)
    assert await warn_of_other_journals(store, root) == []
    assert _warnings(caplog) == []


async def test_the_writer_warns_at_start(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with running(settings) as hs:
        await hs.services.store._commit_positions({"elsewhere:0": ("000000000001.journal", 1)})
    caplog.set_level(logging.WARNING)
    async with running(settings):
        pass
    assert sum("journal-id elsewhere" in m for m in _warnings(caplog)) == 1


async def test_forgetting_a_journal_matches_its_id_exactly(store: Store) -> None:
    # Not SQLite's LIKE: it ignores case (another id in capitals would take this one's), and
    # '%' or '_' would match every id.
    await store._commit_positions(
        {
            "ab12:0": ("000000000001.journal", 1),
            "ab12:1": ("000000000001.journal", 2),
            "ab123:0": ("000000000001.journal", 3),
        }
    )
    for other in ("AB12", "%", "a_12", "ab1"):
        assert await store.write(forget_journal, other) == 0, other
    assert await store.write(forget_journal, "ab12") == 2
    assert set(await store.journal_positions()) == {"ab123:0"}
