"""Fail when a module grows past the budget: none over 450 lines, median near 150."""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

LIMIT = 450
MEDIAN_LIMIT = 200


def main() -> int:
    """Print the sizes; return 1 when over budget."""
    sizes = {
        path: len(path.read_text().splitlines())
        for path in Path("src/helioscope").rglob("*.py")
        if "migrations" not in path.parts
    }
    too_big = {p: n for p, n in sizes.items() if n > LIMIT}
    for path, lines in sorted(too_big.items()):
        print(f"{path}: {lines} lines (limit {LIMIT})")
    median = statistics.median(sizes.values())
    print(f"{len(sizes)} modules, median {median:.0f} lines, largest {max(sizes.values())}")
    if median > MEDIAN_LIMIT:
        print(f"median module size {median:.0f} exceeds {MEDIAN_LIMIT}")
        return 1
    return 1 if too_big else 0


if __name__ == "__main__":
    sys.exit(main())
