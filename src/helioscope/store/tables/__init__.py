"""Every table, by area, on one ``metadata`` (Alembic, the migration test and tests read it).

``log`` holds the request log and what hangs off a request (it may live in another engine); the
other modules hold what always stays in SQLite/PostgreSQL. A new area adds a module and one
import below.
"""

from helioscope.store.tables import (
    experiments,
    gateway,
    integrations,
    keys,
    log,
    notifications,
    prompts,
    provider_keys,
)
from helioscope.store.tables._metadata import metadata

__all__ = [
    "experiments",
    "gateway",
    "integrations",
    "keys",
    "log",
    "metadata",
    "notifications",
    "prompts",
    "provider_keys",
]
