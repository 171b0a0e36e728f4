"""Organizations, API keys and the request log.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from helioscope.store._dialects import JsonDoc, UtcDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "organization",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_organization"),
        sa.UniqueConstraint("name", name="uq_organization_name"),
    )
    op.create_table(
        "helicone_api_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("api_key_hash", sa.String(64), nullable=False),
        sa.Column("api_key_name", sa.String(200), nullable=False),
        sa.Column("organization_id", sa.String(36), nullable=False),
        sa.Column("key_permissions", sa.String(2), server_default="rw", nullable=False),
        sa.Column("soft_delete", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name="fk_helicone_api_keys_organization_id_organization",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_helicone_api_keys"),
        sa.UniqueConstraint("api_key_hash", name="uq_helicone_api_keys_api_key_hash"),
    )
    op.create_index(
        "ix_helicone_api_keys_organization_id", "helicone_api_keys", ["organization_id"]
    )
    op.create_table(
        "request_response",
        sa.Column("request_id", sa.String(36), nullable=False),
        sa.Column("organization_id", sa.String(36), nullable=False),
        sa.Column("request_created_at", UtcDateTime(), nullable=False),
        sa.Column("response_created_at", UtcDateTime(), nullable=True),
        sa.Column("latency", sa.BigInteger(), nullable=True),
        sa.Column("time_to_first_token", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(), nullable=False),
        sa.Column("model", sa.String(), server_default="", nullable=False),
        sa.Column("request_model", sa.String(), nullable=True),
        sa.Column("response_model", sa.String(), nullable=True),
        sa.Column("model_override", sa.String(), nullable=True),
        sa.Column("user_id", sa.String(), nullable=True),
        sa.Column("target_url", sa.Text(), nullable=True),
        sa.Column("path", sa.Text(), nullable=True),
        sa.Column("is_stream", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("prompt_tokens", sa.BigInteger(), nullable=True),
        sa.Column("completion_tokens", sa.BigInteger(), nullable=True),
        sa.Column("total_tokens", sa.BigInteger(), nullable=True),
        sa.Column("prompt_cache_read_tokens", sa.BigInteger(), nullable=True),
        sa.Column("prompt_cache_write_tokens", sa.BigInteger(), nullable=True),
        sa.Column("reasoning_tokens", sa.BigInteger(), nullable=True),
        sa.Column("prompt_audio_tokens", sa.BigInteger(), nullable=True),
        sa.Column("completion_audio_tokens", sa.BigInteger(), nullable=True),
        sa.Column("cost", sa.BigInteger(), nullable=True),
        sa.Column("cache_enabled", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("cache_reference_id", sa.String(36), nullable=True),
        sa.Column("threat", sa.Boolean(), nullable=True),
        sa.Column("country_code", sa.String(), nullable=True),
        sa.Column("properties", JsonDoc, nullable=False),
        sa.Column("scores", JsonDoc, nullable=False),
        sa.Column("prompt_id", sa.String(), nullable=True),
        sa.Column("prompt_version", sa.String(), nullable=True),
        sa.Column("request_body", sa.Text(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("request_body_size", sa.BigInteger(), nullable=True),
        sa.Column("response_body_size", sa.BigInteger(), nullable=True),
        sa.Column("request_referrer", sa.String(), nullable=True),
        sa.Column("helicone_api_key_id", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("organization_id", "request_id", name="pk_request_response"),
    )
    op.create_index(
        "ix_request_response_org_created",
        "request_response",
        ["organization_id", "request_created_at"],
    )
    op.create_index(
        "ix_request_response_org_user", "request_response", ["organization_id", "user_id"]
    )
    op.create_index(
        "ix_request_response_org_model", "request_response", ["organization_id", "model"]
    )


def downgrade() -> None:
    op.drop_table("request_response")
    op.drop_index("ix_helicone_api_keys_organization_id", table_name="helicone_api_keys")
    op.drop_table("helicone_api_keys")
    op.drop_table("organization")
