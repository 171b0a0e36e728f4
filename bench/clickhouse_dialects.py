"""Our ClickHouse SQLAlchemy dialect against the one clickhouse-connect ships.

Records the Core statements the store's read functions build (the calls of
``tests/store/clickhouse/test_query_parity.py``), compiles each with both dialects, runs it on
chdb over a small log, and prints how many run and the compile time per statement. The
bundled dialect is given every advantage: server-side parameters on, and our ``SqlDialect``
constructs (Map lookups, ILIKE, time buckets) already in the statements.

    python bench/clickhouse_dialects.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.store.clickhouse.parity_data import ORG, log_rows
from tests.store.clickhouse.test_query_parity import CALLS

from helioscope.store import OrgDb
from helioscope.store.clickhouse import (
    ClickHouse,
    ClickHouseDb,
    ClickHouseSqlDialect,
    compile_statement,
    insert_log_rows,
    migrate,
)


class _Recorder(ClickHouseDb):
    """A ClickHouse ``Db`` that keeps each statement instead of running it."""

    __slots__ = ("statements",)

    def __init__(self, clickhouse: ClickHouse) -> None:
        super().__init__(clickhouse, ClickHouseSqlDialect(), ORG)
        self.statements: list[Any] = []

    async def _result(self, stmt: Any) -> Any:
        self.statements.append(stmt)
        raise LookupError("recorded")  # the caller stops at its first statement


async def statements(clickhouse: ClickHouse) -> list[tuple[str, Any]]:
    out = []
    for name, call in CALLS.items():
        recorder = _Recorder(clickhouse)
        try:
            await call(cast(OrgDb, recorder))
        except LookupError:
            pass
        out += [(name, s) for s in recorder.statements]
    return out


async def main() -> None:
    # Imported here: it patches sqlalchemy.Select on import (clickhouse-connect 1.12).
    from clickhouse_connect.cc_sqlalchemy.dialect import ClickHouseDialect as Bundled

    bundled = Bundled()
    bundled.server_side_params = True
    with tempfile.TemporaryDirectory() as tmp:
        clickhouse = await ClickHouse.connect(f"chdb://{tmp}?database=dialects")
        await migrate(clickhouse)
        await insert_log_rows(clickhouse, log_rows())
        recorded = await statements(clickhouse)
        results = {"ours": [0, 0.0], "clickhouse-connect": [0, 0.0]}
        failures: dict[str, list[str]] = {"ours": [], "clickhouse-connect": []}
        for name, statement in recorded:
            for which in results:
                try:
                    start = time.perf_counter()
                    if which == "ours":
                        query = compile_statement(statement)
                        sql, params = query.sql, query.parameters
                    else:
                        compiled = statement.compile(dialect=bundled)
                        sql, params = str(compiled), compiled.construct_params()
                    results[which][1] += time.perf_counter() - start
                    await clickhouse.query(sql, params)
                    results[which][0] += 1
                except Exception as exc:  # a report of what fails, not a test
                    failures[which].append(f"{name}: {type(exc).__name__}: {str(exc)[:110]}")
        await clickhouse.close()
    total = len(recorded)
    for which, (ran, seconds) in results.items():
        print(
            f"{which:20} runs {ran:2}/{total} statements, {seconds * 1000 / total:.2f} ms compile"
        )
        for failure in failures[which]:
            print(f"    {failure}")


if __name__ == "__main__":
    asyncio.run(main())
