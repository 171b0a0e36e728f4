"""Bodies move to their own table; a session summary and a covering index for sessions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from helioscope.store._dialects import UtcDateTime

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
    # Its (organization_id, session_id) prefix serves every lookup the narrower index did.
    op.drop_index("ix_request_response_org_session", table_name="request_response")
    op.execute(
        "UPDATE request_response SET session_name = '' "
        "WHERE session_id IS NOT NULL AND session_name IS NULL"
    )
    op.create_table(
        "session_summary",
        sa.Column("organization_id", sa.String(36), nullable=False),
        sa.Column("session_id", sa.String(), nullable=False),
        sa.Column("session_name", sa.String(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("latest_request_created_at", UtcDateTime(), nullable=False),
        sa.Column("total_cost", sa.BigInteger(), nullable=False),
        sa.Column("total_requests", sa.BigInteger(), nullable=False),
        sa.Column("prompt_tokens", sa.BigInteger(), nullable=False),
        sa.Column("completion_tokens", sa.BigInteger(), nullable=False),
        sa.Column("total_tokens", sa.BigInteger(), nullable=False),
        sa.Column("latency_sum", sa.BigInteger(), nullable=False),
        sa.Column("latency_count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "organization_id", "session_id", "session_name", name="pk_session_summary"
        ),
    )
    op.create_index(
        "ix_session_summary_org_created", "session_summary", ["organization_id", "created_at"]
    )
    op.execute(
        "INSERT INTO session_summary SELECT organization_id, session_id, session_name, "
        "min(request_created_at), max(request_created_at), coalesce(sum(cost), 0), count(*), "
        "sum(coalesce(prompt_tokens, 0)), sum(coalesce(completion_tokens, 0)), "
        "sum(coalesce(prompt_tokens, 0) + coalesce(completion_tokens, 0)), "
        "coalesce(sum(latency), 0), count(latency) "
        "FROM request_response WHERE session_id IS NOT NULL "
        "GROUP BY organization_id, session_id, session_name"
    )


def downgrade() -> None:
    op.drop_index("ix_session_summary_org_created", table_name="session_summary")
    op.drop_table("session_summary")
    op.create_index(
        "ix_request_response_org_session",
        "request_response",
        ["organization_id", "session_id", "request_created_at"],
    )
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
