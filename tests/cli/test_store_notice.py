"""Every command says which store it uses, and warns when it creates one (issue 17)."""

from __future__ import annotations

from pathlib import Path

import pytest

from helioscope.store import Store
from tests.cli.runner import helioscope


def test_keys_create_names_its_store_and_warns_when_it_makes_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The trap of issue 17: run from another directory, the default store is a new file there.
    monkeypatch.chdir(tmp_path)
    default: dict[str, str | None] = {"HELIOSCOPE_DATABASE_URL": None}
    ran = helioscope("keys", "create", "--org", "acme", env=default)
    assert ran.code == 0, ran.stderr
    where = f"SQLite file {tmp_path / 'helioscope.db'}"
    assert f"helioscope: store: {where}" in ran.stderr
    assert f"warning: no Helioscope store at {where}: creating a new, empty one" in ran.stderr
    assert ran.stdout.decode().splitlines()[-1].startswith("sk-helicone-")  # stdout: the key

    ran = helioscope("migrate", env=default)
    assert ran.code == 0 and f"helioscope: store: {where}" in ran.stderr
    assert "warning" not in ran.stderr


def test_a_postgresql_store_is_shown_without_its_password() -> None:
    store = Store.open("postgresql://helio:s3cret@db.internal:5432/logs")
    assert store.location == "PostgreSQL postgresql://helio:***@db.internal:5432/logs"
