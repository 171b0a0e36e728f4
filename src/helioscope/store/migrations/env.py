"""Alembic environment: always handed a live connection by ``helioscope.store._migrate``."""

from alembic import context

from helioscope.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `helioscope migrate`, not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things; batch mode recreates the table
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
