"""``helioscope export``: the command's options, files, messages and failures."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import orjson
import pytest

from tests.cli.runner import helioscope


def test_export_writes_the_filtered_log_to_a_file(sqlite_log: str, tmp_path: Path) -> None:
    tree = {"request_response_rmt": {"provider": {"equals": "ANTHROPIC"}}}
    (tmp_path / "filter.json").write_bytes(orjson.dumps({"filter": tree, "limit": 5}))
    out = tmp_path / "log.csv"
    ran = helioscope(
        "export", "--format", "csv", "--org", "acme", "--filter", str(tmp_path / "filter.json"),
        "--since", "2025-05-01", "-o", str(out),
        env={"HELIOSCOPE_DATABASE_URL": sqlite_log},
    )  # fmt: skip
    assert ran.code == 0, ran.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["request_id"] for r in rows] == ["req-0033"]
    assert "helioscope: store: SQLite file" in ran.stderr and "exported 1 requests" in ran.stderr
    assert not (tmp_path / "log.csv.partial").exists()
    assert ran.stdout == b""


def test_export_to_stdout_needs_the_org_when_there_are_several(sqlite_log: str) -> None:
    env: dict[str, str | None] = {"HELIOSCOPE_DATABASE_URL": sqlite_log}
    ran = helioscope("export", env=env)
    assert ran.code == 2 and "organizations here: acme, other" in ran.stderr
    ran = helioscope("export", "--org", "other", "--no-bodies", env=env)
    assert ran.code == 0, ran.stderr
    lines = [orjson.loads(line) for line in ran.stdout.splitlines()]
    assert len(lines) == 5 and lines[0]["request_body"] is None


def test_export_never_creates_a_store(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.db"
    ran = helioscope("export", env={"HELIOSCOPE_DATABASE_URL": f"sqlite:///{missing}"})
    assert ran.code == 1 and f"no Helioscope store at SQLite file {missing}" in ran.stderr
    assert not missing.exists()


def test_bad_input_is_a_clear_error(sqlite_log: str, tmp_path: Path) -> None:
    env: dict[str, str | None] = {"HELIOSCOPE_DATABASE_URL": sqlite_log}
    (tmp_path / "f.json").write_text('{"request_response_rmt": {"latnecy": {"gt": 1}}}')
    ran = helioscope("export", "--org", "acme", "--filter", str(tmp_path / "f.json"), env=env)
    assert ran.code == 2 and "latnecy: unknown column" in ran.stderr
    ran = helioscope("export", "--org", "acme", "--since", "last tuesday", env=env)
    assert ran.code == 2 and "ISO 8601" in ran.stderr


def test_parquet_without_pyarrow_says_how_to_get_it(
    sqlite_log: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As in an environment without the extra: the import of pyarrow fails.
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "helioscope.export._parquet", None)
    ran = helioscope(
        "export", "--org", "acme", "--format", "parquet", "-o", str(tmp_path / "x.parquet"),
        env={"HELIOSCOPE_DATABASE_URL": sqlite_log},
    )  # fmt: skip
    assert ran.code == 2
    assert "pip install 'helioscope[parquet]'" in ran.stderr
    assert not (tmp_path / "x.parquet").exists()
