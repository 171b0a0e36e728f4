"""Commands run in this process through typer's runner: fast, for everything but signals.

Tests that use it are plain functions (the command runs its own event loop).
"""

from __future__ import annotations

from dataclasses import dataclass

from typer.testing import CliRunner

from helioscope.cli import app


@dataclass(frozen=True)
class Ran:
    code: int
    stdout: bytes
    stderr: str


def helioscope(*args: str, env: dict[str, str | None] | None = None) -> Ran:
    """Run ``helioscope ARGS``; its exit status, stdout (bytes) and stderr."""
    result = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    return Ran(result.exit_code, result.stdout_bytes, result.stderr)
