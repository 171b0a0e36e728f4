"""The code evaluator sandbox: limits that stop hostile or broken code, and what it can reach."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helioscope.experiments import _sandbox_child, sandbox
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


# A process started without the (audited) subprocess module: ``_posixsubprocess.fork_exec``
# with a preexec function that never returns, in a session of its own (``call_setsid``).
SPAWN = """
import _posixsubprocess, os, time
def spawn():
    r, w = os.pipe()
    args = [[b"/nonexistent"], [b"/nonexistent"], True, (), None, None, -1, -1, -1, -1, -1, -1,
            r, w, True, True, -1, None, None, None, -1, lambda: time.sleep(30)]
    try:
        return _posixsubprocess.fork_exec(*args, False)  # allow_vfork (3.11.7+)
    except TypeError:
        return _posixsubprocess.fork_exec(*args)
"""
WITH_PROCESSES = SandboxLimits(timeout=2, memory_mb=128, processes=3)


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rpartition(")")[2].split()  # state, ppid, pgrp, session, ...


def _alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def _own_session_descendants() -> set[int]:
    """Processes below this one, not its children, that lead a session of their own."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            parents[int(entry.name)] = (int(fields[1]), int(fields[3]))
    me, found = os.getpid(), set()
    for pid, (ppid, session) in parents.items():
        chain, depth = ppid, 1
        while chain not in (0, 1, me) and chain in parents:
            chain, depth = parents[chain][0], depth + 1
        if chain == me and depth > 1 and session == pid:
            found.add(pid)
    return found


async def test_a_setsid_grandchild_is_dead_after_the_timeout() -> None:
    before = _own_session_descendants()
    task = asyncio.ensure_future(
        run_code(
            SPAWN + "spawn()\nwhile True:\n    pass",
            request_body="",
            response_body="",
            limits=WITH_PROCESSES,
        )
    )
    seen: set[int] = set()
    started = time.monotonic()
    while not task.done():
        seen |= _own_session_descendants() - before
        await asyncio.sleep(0.05)
    result = task.result()
    # Promptly: not when the grandchild's 30 s sleep ends (it held the output pipe open before).
    assert time.monotonic() - started < 10
    assert result.error == "time limit of 2 s exceeded"
    assert seen, "the evaluator did not manage to start its setsid process"
    assert not [pid for pid in seen if _alive(pid)]


async def test_a_fork_bomb_is_capped_and_nothing_outlives_the_evaluation() -> None:
    code = SPAWN + (
        "pids = []\n"
        "try:\n"
        "    for _ in range(200):\n"
        "        pids.append(spawn())\n"
        "except OSError as exc:\n"
        "    print('stopped', type(exc).__name__)\n"
        "print(' '.join(map(str, pids)) or 0)\n"
    )
    result = await run_code(code, request_body="", response_body="", limits=WITH_PROCESSES)
    assert result.error is None, result
    assert result.traces[0] == "stopped BlockingIOError"  # EAGAIN: RLIMIT_NPROC
    pids = [int(p) for p in (result.output or "").split()]
    assert 1 <= len(pids) <= WITH_PROCESSES.processes
    assert not [pid for pid in pids if _alive(pid)]  # killed after a normal end too
    none_allowed = await run(SPAWN + "print(spawn())")  # the default: no process at all
    assert none_allowed.error is not None and "BlockingIOError" in none_allowed.error


@pytest.mark.skipif(os.geteuid() != 0, reason="another user's process needs root to start")
async def test_another_users_process_ending_does_not_raise_the_cap() -> None:
    """The cap counted every process of the evaluation's real user, then nobody, whoever's:
    another of them ending mid-evaluation let it start one process more than its cap."""
    code = (
        "PIPE = None\n"
        + SPAWN.replace("    r, w = os.pipe()\n", "    r, w = PIPE\n")
        + (
            "PIPE = os.pipe()\n"  # (one pipe for every attempt: a pipe each ran out of descriptors)
            "pids, deadline = [], time.monotonic() + 1.0\n"
            "while time.monotonic() < deadline:\n"
            "    try:\n"
            "        pids.append(spawn())\n"
            "    except BlockingIOError:\n"
            "        time.sleep(0.02)\n"
            "print(' '.join(map(str, pids)) or 0)\n"
        )
    )
    other = subprocess.Popen(["sleep", "30"], user=65534, group=65534)  # nobody's
    try:
        task = asyncio.ensure_future(
            run_code(code, request_body="", response_body="", limits=WITH_PROCESSES)
        )
        await asyncio.sleep(0.5)  # the evaluation has its cap, and tries for more for 1 s
    finally:
        other.kill()
        other.wait()
    result = await task
    assert result.error is None, result
    pids = [int(p) for p in (result.output or "").split()]
    assert len(pids) == WITH_PROCESSES.processes, result
    assert not [pid for pid in pids if _alive(pid)]


async def test_the_result_cannot_be_forged_on_stdout() -> None:
    forged = '{"output": "0.99", "traces": [], "error": null, "isolation": "landlock-abi-9"}'
    for code in (
        f"import os\nos.write(1, b'{forged}\\n')\nos._exit(0)",
        f"import sys\nsys.__stdout__.write('{forged}\\n')\nsys.__stdout__.flush()\nprint('0.5')",
    ):
        result = await run(code)
        assert result.output != "0.99" and result.isolation != "landlock-abi-9", result
    assert (await run(code)).score == 0.5  # the printed score, not the forged line


async def test_without_landlock_python_evaluators_are_refused_unless_allowed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sandbox, "USE_LANDLOCK", False)  # as on a kernel without Landlock
    refused = await run("print(1)")
    assert refused.output is None and refused.isolation == "refused"
    assert refused.error is not None
    assert "does not provide Landlock" in refused.error
    assert "HELIOSCOPE_UNSAFE_PYTHON_EVALUATORS=true" in refused.error
    unsafe = SandboxLimits(timeout=2, memory_mb=128, allow_without_landlock=True)
    allowed = await run_code("print(1)", request_body="", response_body="", limits=unsafe)
    assert allowed.score == 1.0
    assert allowed.isolation.startswith("audit-hook only, unsafe")
    monkeypatch.setattr(sandbox, "USE_LANDLOCK", True)
    if _landlock_abi() >= 1:
        assert (await run("print(1)")).isolation == f"landlock-abi-{_landlock_abi()}"
