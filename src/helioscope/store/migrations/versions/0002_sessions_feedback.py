"""Session columns and tags, prompt inputs and feedback, for the query API.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from helioscope.store._dialects import JsonDoc, UtcDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("request_response") as batch:
        batch.add_column(sa.Column("session_id", sa.String(), nullable=True))
        batch.add_column(sa.Column("session_name", sa.String(), nullable=True))
        batch.add_column(sa.Column("session_path", sa.String(), nullable=True))
        batch.add_column(sa.Column("prompt_inputs", JsonDoc, nullable=True))
    op.create_index(
        "ix_request_response_org_session",
        "request_response",
        ["organization_id", "session_id", "request_created_at"],
    )
    # Rows logged before this migration: copy their session properties into the new columns.
    op.execute(_backfill())
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("organization_id", sa.String(36), nullable=False),
        sa.Column("request_id", sa.String(36), nullable=False),
        sa.Column("rating", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_feedback"),
    )
    op.create_index(
        "ix_feedback_org_request", "feedback", ["organization_id", "request_id"], unique=True
    )
    op.create_table(
        "session_tag",
        sa.Column("organization_id", sa.String(36), nullable=False),
        sa.Column("session_id", sa.String(), nullable=False),
        sa.Column("tag", sa.String(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("organization_id", "session_id", name="pk_session_tag"),
    )


def _backfill() -> sa.TextClause:
    if op.get_bind().dialect.name == "postgresql":
        lookup = "properties ->> '{key}'"
    else:
        lookup = "json_extract(properties, '$.\"{key}\"')"
    sets = ", ".join(
        f"{column} = {lookup.format(key=key)}"
        for column, key in (
            ("session_id", "Helicone-Session-Id"),
            ("session_name", "Helicone-Session-Name"),
            ("session_path", "Helicone-Session-Path"),
        )
    )
    return sa.text(f"UPDATE request_response SET {sets}")


def downgrade() -> None:
    op.drop_table("session_tag")
    op.drop_index("ix_feedback_org_request", table_name="feedback")
    op.drop_table("feedback")
    op.drop_index("ix_request_response_org_session", table_name="request_response")
    with op.batch_alter_table("request_response") as batch:
        batch.drop_column("prompt_inputs")
        batch.drop_column("session_path")
        batch.drop_column("session_name")
        batch.drop_column("session_id")
