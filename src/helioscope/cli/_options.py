"""Options several commands share: time bounds and the organization to work in."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from helioscope.cli._store import note
from helioscope.store import Organization, Store, keys

# ``--since`` and ``--until`` of the commands that read a window of the log.
Since = Annotated[
    str | None, typer.Option(help="Only requests made at or after this time (ISO 8601).")
]
Until = Annotated[str | None, typer.Option(help="Only requests made before this time (ISO 8601).")]


def parse_time(value: str | None) -> dt.datetime | None:
    """``--since``/``--until``: an ISO 8601 date or time; without a zone, UTC."""
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise typer.BadParameter(
            f"expected an ISO 8601 date or time such as 2025-06-01 or 2025-06-01T12:00:00Z, "
            f"got {value!r}"
        ) from exc
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)


async def existing_org(store: Store, name: str | None) -> Organization:
    """The organization called ``name``; without a name, the only one there is."""
    organizations = await store.read(keys.list_orgs)
    names = ", ".join(sorted(o.name for o in organizations)) or "none"
    if name is None and len(organizations) == 1:
        return organizations[0]
    found = next((o for o in organizations if o.name == name), None)
    if found is None:
        wanted = "an organization" if name is None else f"organization {name!r}"
        note(f"error: choose {wanted} with --org (organizations here: {names})")
        raise typer.Exit(2)
    return found
