"""Bodies move to their own table; a covering index for session queries.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SESSION_COLUMNS = [
    "organization_id",
    "session_id",
    "session_name",
    "request_created_at",
    "cost",
    "prompt_tokens",
    "completion_tokens",
    "latency",
]


def upgrade() -> None:
    op.create_table(
        "request_body",
        sa.Column("organization_id", sa.String(36), nullable=False),
        sa.Column("request_id", sa.String(36), nullable=False),
        sa.Column("request_body", sa.Text(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("organization_id", "request_id", name="pk_request_body"),
    )
    op.execute(
        "INSERT INTO request_body (organization_id, request_id, request_body, response_body) "
        "SELECT organization_id, request_id, request_body, response_body FROM request_response "
        "WHERE request_body IS NOT NULL OR response_body IS NOT NULL"
    )
    with op.batch_alter_table("request_response") as batch:
        batch.drop_column("response_body")
        batch.drop_column("request_body")
    op.create_index(
        "ix_request_response_sessions",
        "request_response",
        _SESSION_COLUMNS,
        sqlite_where=sa.text("session_id IS NOT NULL"),
        postgresql_where=sa.text("session_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_request_response_sessions", table_name="request_response")
    with op.batch_alter_table("request_response") as batch:
        batch.add_column(sa.Column("request_body", sa.Text(), nullable=True))
        batch.add_column(sa.Column("response_body", sa.Text(), nullable=True))
    op.execute(
        "UPDATE request_response SET "
        "request_body = (SELECT b.request_body FROM request_body b WHERE "
        "b.organization_id = request_response.organization_id AND "
        "b.request_id = request_response.request_id), "
        "response_body = (SELECT b.response_body FROM request_body b WHERE "
        "b.organization_id = request_response.organization_id AND "
        "b.request_id = request_response.request_id)"
    )
    op.drop_table("request_body")
