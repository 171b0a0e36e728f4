"""Every command says which store it uses, and warns when it creates one (issue 17)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from helioscope.store import Store


async def helioscope_in(cwd: Path, *args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELIOSCOPE_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "helioscope",
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_keys_create_names_its_store_and_warns_when_it_makes_one(tmp_path: Path) -> None:
    # The trap of issue 17: run from another directory, the default store is a new file there.
    code, out, err = await helioscope_in(tmp_path, "keys", "create", "--org", "acme")
    assert code == 0, err
    where = f"SQLite file {tmp_path / 'helioscope.db'}"
    assert f"helioscope: store: {where}" in err
    assert f"warning: no Helioscope store at {where}: creating a new, empty one" in err
    assert out.splitlines()[-1].startswith("sk-helicone-")  # stdout stays the key's

    code, _, err = await helioscope_in(tmp_path, "migrate")
    assert code == 0 and f"helioscope: store: {where}" in err
    assert "warning" not in err


def test_a_postgresql_store_is_shown_without_its_password() -> None:
    store = Store.open("postgresql://helio:s3cret@db.internal:5432/logs")
    assert store.location == "PostgreSQL postgresql://helio:***@db.internal:5432/logs"
