"""``helioscope export`` as a user runs it: a separate process over a real database."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import sys
from pathlib import Path

import orjson

from tests.test_cli import run_cli


async def test_export_writes_the_filtered_log_to_a_file(sqlite_log: str, tmp_path: Path) -> None:
    tree = {"request_response_rmt": {"provider": {"equals": "ANTHROPIC"}}}
    (tmp_path / "filter.json").write_bytes(orjson.dumps({"filter": tree, "limit": 5}))
    out = tmp_path / "log.csv"
    code, stdout, stderr = await run_cli(
        "export",
        "--format",
        "csv",
        "--org",
        "acme",
        "--filter",
        str(tmp_path / "filter.json"),
        "--since",
        "2025-05-01",
        "-o",
        str(out),
        env={"HELIOSCOPE_DATABASE_URL": sqlite_log},
    )
    assert code == 0, stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["request_id"] for r in rows] == ["req-0033"]
    assert "helioscope: store: " in stderr and "exported 1 requests" in stderr
    assert not (tmp_path / "log.csv.partial").exists()
    assert stdout == ""


async def test_export_to_stdout_needs_the_org_when_there_are_several(
    sqlite_log: str,
) -> None:
    env = {"HELIOSCOPE_DATABASE_URL": sqlite_log}
    code, _, stderr = await run_cli("export", env=env)
    assert code == 2 and "organizations here: acme, other" in stderr
    code, stdout, stderr = await run_cli("export", "--org", "other", "--no-bodies", env=env)
    assert code == 0, stderr
    lines = [orjson.loads(line) for line in stdout.splitlines()]
    assert len(lines) == 5 and lines[0]["request_body"] is None


async def test_export_never_creates_a_store(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.db"
    code, _, stderr = await run_cli(
        "export", env={"HELIOSCOPE_DATABASE_URL": f"sqlite:///{missing}"}
    )
    assert code == 1 and f"no Helioscope store at SQLite file {missing}" in stderr
    assert not missing.exists()


async def test_a_bad_filter_is_a_clear_error(sqlite_log: str, tmp_path: Path) -> None:
    (tmp_path / "f.json").write_text('{"request_response_rmt": {"latnecy": {"gt": 1}}}')
    code, _, stderr = await run_cli(
        "export",
        "--org",
        "acme",
        "--filter",
        str(tmp_path / "f.json"),
        env={"HELIOSCOPE_DATABASE_URL": sqlite_log},
    )
    assert code == 2 and "latnecy: unknown column" in stderr


async def test_parquet_without_pyarrow_says_how_to_get_it(sqlite_log: str, tmp_path: Path) -> None:
    # The same command in an interpreter where pyarrow cannot be imported.
    without = "import sys; sys.modules['pyarrow'] = None; from helioscope.cli import main; main()"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        without,
        "export",
        "--org",
        "acme",
        "--format",
        "parquet",
        "-o",
        str(tmp_path / "x.parquet"),
        env={**os.environ, "HELIOSCOPE_DATABASE_URL": sqlite_log},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    assert proc.returncode == 2
    assert "pip install 'helioscope[parquet]'" in err.decode()
    assert not (tmp_path / "x.parquet").exists()
