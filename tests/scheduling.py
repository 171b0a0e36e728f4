"""How xdist hands tests to the workers: one at a time, except the browser tests, which go to one
worker together.

Each worker that runs a UI test starts Chromium, a Helioscope and a fake provider for its
session (tests/ui/conftest.py); spread over three workers the UI tests took ~24 s more CPU than
on one. xdist's own ``--dist loadgroup`` would do this from an ``xdist_group`` mark, but with
pytest 9 its worker-side renaming of node ids has no effect, so the grouping is here, by path.
The UI unit is the largest, so xdist's scheduler hands it out first.
"""

from __future__ import annotations

from typing import Any

from xdist.scheduler import LoadScopeScheduling

BROWSER_TESTS = "tests/ui/"


class BrowserTestsTogether(LoadScopeScheduling):  # type: ignore[misc]  # xdist is untyped
    def _split_scope(self, nodeid: str) -> str:
        return BROWSER_TESTS if nodeid.startswith(BROWSER_TESTS) else nodeid


def make_scheduler(config: Any, log: Any) -> BrowserTestsTogether | None:
    """The scheduler for ``--dist load`` (scripts/test's); any other mode is xdist's own."""
    if config.getvalue("dist") != "load":
        return None
    return BrowserTestsTogether(config, log)
