"""Fail on code nothing uses, found by vulture over the product, its tests and its benchmarks.

Two kinds of vulture's findings are left out because they are not dead code here: variables
in a class or function body (pydantic and dataclass fields are read by name, by libraries;
unused locals are ruff's F841), and what frameworks call by name (routes, fixtures, CLI
commands, pytest hooks, Alembic's revision variables). What remains and is still used by name
is listed, with the reason, in ``scripts/dead_code_allowlist.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from vulture import Vulture

sys.path.insert(0, str(Path(__file__).parent))
from dead_code_allowlist import CALLED_BY_NAME

PATHS = ["src", "tests", "bench"]
EXCLUDE = ["*/migrations/versions/*"]  # Alembic reads each revision's variables by name
# API routers are named after the scope they need (see helioscope.api.API)
IGNORE_DECORATORS = [
    "@*router.*",
    "@reads.*",
    "@writes.*",
    "@logs.*",
    "@admin.*",
    "@public.*",
    "@*.command",
    "@pytest.fixture",
    "@model_validator",
    "@field_validator",
]
IGNORE_NAMES = ["pytest_*", "pytestmark", *CALLED_BY_NAME]


def _indented(path: Path, line: int) -> bool:
    text = path.read_text().splitlines()[line - 1]
    return text[:1].isspace()


def main() -> int:
    """Print what is unused; return 1 when anything is."""
    vulture = Vulture(ignore_decorators=IGNORE_DECORATORS, ignore_names=IGNORE_NAMES)
    vulture.scavenge(PATHS, exclude=EXCLUDE)
    found = [
        item
        for item in vulture.get_unused_code(min_confidence=60)
        if not (item.typ == "variable" and _indented(Path(item.filename), item.first_lineno))
    ]
    for item in found:
        print(item.get_report())
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
