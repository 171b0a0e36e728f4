"""How xdist hands tests to the workers: one at a time, except the browser tests, which go to one
worker together; the longest tests first.

Each worker that runs a UI test starts Chromium, a Helioscope and a fake provider for its
session (tests/ui/conftest.py); spread over three workers the UI tests took ~24 s more CPU than
on one. xdist's own ``--dist loadgroup`` would do this from an ``xdist_group`` mark, but with
pytest 9 its worker-side renaming of node ids has no effect, so the grouping is here, by path.

Then the tests that take seconds each (server processes, throwaway PostgreSQL clusters,
ClickHouse sweeps) go out before the rest, longest first, so that the run ends on tests of a
fraction of a second each: in collection order, tests/test_startup_outage.py and
tests/test_key_cache.py (3-5 s each on a loaded machine) came last, and a worker still running
one kept the others idle. A module keeps its order and stays in one piece, so that a module
sharing one app per engine builds it once per worker.
"""

from __future__ import annotations

from typing import Any

from xdist.scheduler import LoadScopeScheduling

BROWSER_TESTS = "tests/ui/"

# Longest first (seconds a test on this 2-core machine, loaded by other work: 10-50 for the
# first four, 3-20 for the rest); everything else follows in collection order.
LONG_TESTS = (
    BROWSER_TESTS,
    "tests/cli/test_workers.py",
    "tests/cli/test_journal_in_use.py",
    "tests/cli/test_store_down_at_startup.py",
    "tests/cli/test_store_down.py",
    "tests/api/test_schemathesis.py",
    "tests/ingest/test_crash_drills.py",
    "tests/api/test_cross_org.py",
    "tests/store/clickhouse/test_filter_property.py",
    "tests/ingest/test_writer_store_back.py",
    "tests/store/test_filter_property.py",
    "tests/test_cli.py",
    "tests/api/test_conformance.py",
    "tests/test_startup_outage.py",
    "tests/cli/test_demo.py",
    "tests/store/clickhouse/test_copy.py",
    "tests/store/test_filter_columns.py",
    "tests/test_key_cache.py",
    "tests/store/test_store_timeouts.py",
)


def rank(scope: str) -> int:
    """Where a work unit goes in the queue: the index of its entry in LONG_TESTS, or after."""
    for index, prefix in enumerate(LONG_TESTS):
        if scope.startswith(prefix):
            return index
    return len(LONG_TESTS)


class BrowserTestsTogether(LoadScopeScheduling):  # type: ignore[misc]  # xdist is untyped
    def __init__(self, config: Any, log: Any = None) -> None:
        super().__init__(config, log)
        self._ordered = False

    def _split_scope(self, nodeid: str) -> str:
        return BROWSER_TESTS if nodeid.startswith(BROWSER_TESTS) else nodeid

    def _assign_work_unit(self, node: Any) -> None:
        # The queue is made whole before the first unit goes out: order it then, once (a
        # stable sort: collection order within a rank).
        if not self._ordered:
            self._ordered = True
            units = sorted(self.workqueue.items(), key=lambda unit: rank(unit[0]))
            self.workqueue.clear()
            self.workqueue.update(units)
        super()._assign_work_unit(node)


def make_scheduler(config: Any, log: Any) -> BrowserTestsTogether | None:
    """The scheduler for ``--dist load`` (scripts/test's); any other mode is xdist's own."""
    if config.getvalue("dist") != "load":
        return None
    return BrowserTestsTogether(config, log)
