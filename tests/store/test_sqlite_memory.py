"""SQLite's memory does not grow with the log: a small page cache per connection, no memory map.

With a 64 MB cache per connection (up to 15 in the pool) and a 1 GB map, the server's RSS grew
with the database (bench/memory.py, 1 KB bodies: 129 to 362 MB over 100,000 calls).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from helioscope.store import Store


async def test_every_sqlite_connection_has_a_small_cache_and_no_map(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'helioscope.db'}")
    try:
        await store.migrate()
        async with store.engine.connect() as first, store.engine.connect() as second:
            for conn in (first, second):
                cache = (await conn.execute(text("PRAGMA cache_size"))).scalar_one()
                mapped = (await conn.execute(text("PRAGMA mmap_size"))).scalar_one()
                # Negative: KiB. At most 2 MB per connection (SQLite's default).
                assert -2048 <= cache < 0
                assert mapped == 0
    finally:
        await store.close()
