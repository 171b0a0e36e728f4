"""The code evaluator sandbox: limits that stop hostile or broken code, and what it can reach."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from helioscope.experiments import _sandbox_child
from helioscope.experiments.sandbox import CodeResult, SandboxLimits, run_code

LIMITS = SandboxLimits(timeout=2, memory_mb=128)


async def run(code: str) -> CodeResult:
    return await run_code(
        code, request_body='{"model": "m"}', response_body='{"text": "abc"}', limits=LIMITS
    )


async def test_scores_from_evaluate_or_printed_output() -> None:
    returned = await run(
        "def evaluate(request, response, inputs):\n    return len(response['text'])"
    )
    assert (returned.error, returned.score) == (None, 3.0)
    printed = await run("print('working...')\nprint('TRUE')")
    assert printed.score is True
    assert printed.traces == ["working...", "TRUE"]
    stdlib = await run("import json, math, re\nprint(math.sqrt(16))")
    assert stdlib.score == 4.0
    not_a_score = await run("print('maybe')")
    with pytest.raises(ValueError, match="neither a boolean nor a number"):
        _ = not_a_score.score


async def test_a_loop_that_never_ends_is_stopped() -> None:
    result = await run("while True:\n    pass")
    assert result.error == "time limit of 2 s exceeded"
    sleeping = await run("import time\ntime.sleep(60)")
    assert sleeping.error == "time limit of 2 s exceeded"


async def test_too_much_memory_is_stopped() -> None:
    result = await run("data = bytearray(1024 * 1024 * 1024)\nprint(1)")
    assert result.error == "memory limit of 128 MB exceeded"


async def test_the_database_file_cannot_be_opened(tmp_path: Path) -> None:
    db = tmp_path / "helioscope.db"
    db.write_bytes(b"SQLite format 3\x00secret rows")
    for code in (
        f"print(open({str(db)!r}, 'rb').read())",
        f"import os\nprint(os.read(os.open({str(db)!r}, os.O_RDONLY), 100))",
    ):
        result = await run(code)
        assert result.output is None
        assert result.error is not None and "PermissionError" in result.error
        assert "secret" not in repr(result)


async def test_no_secrets_network_or_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELIOSCOPE_SECRET_FOR_TEST", "hunter2")
    env = await run("import os\nprint(sorted(os.environ))")
    assert "HELIOSCOPE_SECRET_FOR_TEST" not in (env.output or "")
    parent_env = await run(f"print(open('/proc/{os.getpid()}/environ').read())")
    assert parent_env.error is not None and "hunter2" not in repr(parent_env)
    for code in (
        "import socket\nsocket.create_connection(('127.0.0.1', 5432))",
        "import subprocess\nsubprocess.run(['id'])",
        "import os\nos.system('id')",
        "import ctypes",
        "open('out.txt', 'w').write('x')",
    ):
        result = await run(code)
        assert result.error is not None and "PermissionError" in result.error, (code, result)


def _landlock_abi() -> int:
    probe = "import ctypes; print(ctypes.CDLL(None).syscall(444, None, 0, 1))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    return int(out.stdout.strip() or 0)


def test_landlock_alone_refuses_the_database_file(tmp_path: Path) -> None:
    """The kernel barrier holds even for code that gets past the audit hook."""
    if _landlock_abi() < 1:
        pytest.skip("this kernel has no Landlock; the audit hook is the only file barrier")
    db = tmp_path / "helioscope.db"
    db.write_text("secret")
    script = (
        "import os, sys\n"
        f"sys.path.insert(0, {str(Path(_sandbox_child.__file__).parent)!r})\n"
        "import _sandbox_child as c\n"
        "c._landlock(c.readable_roots())\n"
        "try:\n"
        f"    os.open({str(db)!r}, os.O_RDONLY)\n"
        "    print('opened')\n"
        "except PermissionError as e:\n"
        "    print('refused', e.errno)\n"
    )
    out = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True)
    assert out.stdout.strip() == "refused 13", out.stderr
