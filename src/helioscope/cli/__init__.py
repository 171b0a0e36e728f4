"""The ``helioscope`` command: one module per command.

``serve``, ``migrate``, ``keys create``, ``demo``, ``import helicone``, ``export`` and
``journal forget``. Each
command that opens the store says which one on stderr, and warns when it creates one.
"""

from __future__ import annotations

import sys

import typer
from pydantic import ValidationError

from helioscope.cli.demo import demo
from helioscope.cli.export import export
from helioscope.cli.import_helicone import import_app
from helioscope.cli.journal import journal_app
from helioscope.cli.keys import keys_app
from helioscope.cli.migrate import migrate
from helioscope.cli.serve import serve

app = typer.Typer(help="Helioscope: LLM observability and gateway, wire-compatible with Helicone.")
app.command()(serve)
app.command()(migrate)
app.command()(demo)
app.command()(export)
app.add_typer(keys_app, name="keys")
app.add_typer(import_app, name="import")
app.add_typer(journal_app, name="journal")


def main() -> None:
    """Entry point of the ``helioscope`` script."""
    try:
        app()
    except ValidationError as exc:
        if exc.title != "Settings":
            raise
        sys.exit(settings_error(exc))


def settings_error(exc: ValidationError) -> str:
    """One line per bad setting, by its environment variable (not a traceback of field names)."""
    lines = [
        f"helioscope: {'HELIOSCOPE_' + '_'.join(map(str, e['loc'])).upper()}: "
        + e["msg"].removeprefix("Value error, ")  # (a validator's own message says it all)
        for e in exc.errors()
    ]
    return "\n".join(lines)
