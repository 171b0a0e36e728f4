"""Where an import stands, in a small JSON file rewritten atomically after each step.

An interrupted import started again with the same source, organization and window continues
where the file says. The request cursor survives a finished import, so running the same command
later fetches only what the source logged since (everything else is an idempotent update).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson


class CheckpointMismatch(Exception):
    """The checkpoint file belongs to another import."""


@dataclass(slots=True)
class RequestCursor:
    """The newest source timestamp fully imported, and the ids imported at exactly that time."""

    created_at: str | None = None
    seen: list[str] = field(default_factory=list)
    imported: int = 0


@dataclass(slots=True)
class Checkpoint:
    """An import's progress; ``key`` says which import it belongs to."""

    key: dict[str, Any]
    requests: RequestCursor = field(default_factory=RequestCursor)
    phases_done: list[str] = field(default_factory=list)

    @staticmethod
    def default_path(key: dict[str, Any]) -> Path:
        """``.helioscope-import-<hash of the key>.json`` in the working directory."""
        digest = hashlib.sha256(orjson.dumps(key, option=orjson.OPT_SORT_KEYS)).hexdigest()
        return Path(f".helioscope-import-{digest[:12]}.json")

    @classmethod
    def load(cls, path: Path, key: dict[str, Any]) -> Checkpoint:
        """The checkpoint at ``path`` for this import, or a fresh one.

        Raises ``CheckpointMismatch`` when the file belongs to another import (another source,
        organization or window): continuing from it would skip rows.
        """
        if not path.exists():
            return cls(key=key)
        data = orjson.loads(path.read_bytes())
        if data.get("key") != key:
            raise CheckpointMismatch(
                f"{path} is the checkpoint of another import ({data.get('key')}); "
                "remove it or choose another --checkpoint"
            )
        return cls(
            key=key,
            requests=RequestCursor(**data.get("requests", {})),
            phases_done=list(data.get("phases_done", [])),
        )

    def save(self, path: Path) -> None:
        """Write the file atomically: a crash leaves the old checkpoint or the new one."""
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_bytes(orjson.dumps(asdict(self), option=orjson.OPT_INDENT_2))
        os.replace(temporary, path)
