"""Python code evaluators, run in a separate, locked-down process per evaluation.

What is guaranteed (see ``_sandbox_child`` for how):

- **Time**: the process is killed after ``timeout`` seconds of wall-clock time, and the kernel
  stops it after as many seconds of CPU time (``RLIMIT_CPU``). A loop that never ends is
  reported as "time limit of N s exceeded".
- **Memory**: its address space is capped (``RLIMIT_AS``); an allocation past the cap fails
  and is reported as "memory limit of N MB exceeded".
- **No secrets, no database**: it starts with an empty environment (no ``HELIOSCOPE_*``
  settings, no provider keys, no database URL), inherits no file descriptors (so no open
  database connection or SQLite file), runs in an empty temporary directory, and may not write
  files or start processes. On Linux with Landlock (5.13+, ABI reported in each result as
  ``isolation``) the kernel lets it read nothing but the Python standard library, so the
  database file and everything else on disk is out of reach even to ``ctypes`` or native code;
  Landlock ABI 4+ also blocks TCP. Without Landlock, an audit hook refuses the same opens,
  sockets and subprocesses: a real barrier against ordinary code, but only best effort against
  code written to defeat the interpreter, so deploy on a kernel with Landlock.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

_CHILD = Path(__file__).with_name("_sandbox_child.py")
_MAX_OUTPUT = 1 << 20


@dataclass(frozen=True, slots=True)
class SandboxLimits:
    """How much one evaluation may use."""

    timeout: float = 5.0
    memory_mb: int = 256


@dataclass(slots=True)
class CodeResult:
    """What a code evaluator produced: its output text and printed lines, or an error."""

    output: str | None = None
    traces: list[str] = field(default_factory=list)
    error: str | None = None
    isolation: str = ""

    @property
    def score(self) -> float | bool:
        """The output as a score: ``true``/``false`` (any case) is a boolean, else a number."""
        if self.error is not None or self.output is None:
            raise ValueError(self.error or "the evaluator produced no output")
        text = self.output.strip()
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        try:
            return float(text)
        except ValueError:
            message = f"evaluator output {text[:100]!r} is neither a boolean nor a number"
            raise ValueError(message) from None


async def run_code(
    code: str,
    *,
    request_body: str,
    response_body: str,
    inputs: dict[str, Any] | None = None,
    limits: SandboxLimits = SandboxLimits(),
) -> CodeResult:
    """Run ``code`` on one request and response; never raises for anything the code does.

    The code sees ``request`` and ``response`` (parsed JSON, or the text), ``request_body`` and
    ``response_body`` (text) and ``inputs``. Its score is what ``evaluate(request, response,
    inputs)`` returns if it defines that function, else the last line it prints.
    """
    job = {
        "code": code,
        "request_body": request_body,
        "response_body": response_body,
        "inputs": inputs or {},
        "memory_bytes": limits.memory_mb << 20,
        "cpu_seconds": max(1, int(limits.timeout + 0.999)),
    }
    with tempfile.TemporaryDirectory(prefix="helioscope-eval-") as workdir:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-I",  # isolated: no PYTHON* variables, no user site, no script directory on the path
            "-S",  # no site-packages: only the standard library is importable
            str(_CHILD),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={},
            cwd=workdir,
            start_new_session=True,  # its own process group, killed as a whole
        )
        try:
            stdout, stderr = await asyncio.wait_for(
                process.communicate(orjson.dumps(job)), timeout=limits.timeout
            )
        except TimeoutError:
            _kill(process)
            await process.wait()
            return CodeResult(error=f"time limit of {limits.timeout:g} s exceeded")
    return _result(process.returncode, stdout[:_MAX_OUTPUT], stderr[-2000:], limits)


def _kill(process: asyncio.subprocess.Process) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _result(code: int | None, stdout: bytes, stderr: bytes, limits: SandboxLimits) -> CodeResult:
    lines = stdout.strip().splitlines()
    if lines:
        try:
            data = orjson.loads(lines[-1])
        except orjson.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            return CodeResult(
                output=data.get("output"),
                traces=[str(t) for t in data.get("traces") or []],
                error=data.get("error"),
                isolation=str(data.get("isolation") or ""),
            )
    if code in (-signal.SIGXCPU, -signal.SIGKILL):
        return CodeResult(error=f"time limit of {limits.timeout:g} s exceeded")
    text = stderr.decode(errors="replace")
    if "MemoryError" in text:
        return CodeResult(error=f"memory limit of {limits.memory_mb} MB exceeded")
    return CodeResult(error=f"evaluator process exited with code {code}: {text.strip()[-500:]}")
