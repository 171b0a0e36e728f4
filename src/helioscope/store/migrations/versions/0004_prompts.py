"""Prompts: legacy prompts and their versions and input records; prompts 2025 and versions.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from helioscope.store._dialects import JsonDoc, UtcDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _soft_delete() -> sa.Column[bool]:
    return sa.Column("soft_delete", sa.Boolean(), nullable=False, server_default=sa.text("false"))


def upgrade() -> None:
    op.create_table(
        "prompt_v2",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("organization_id", sa.String(36), nullable=False),
        sa.Column("user_defined_id", sa.String(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("pretty_name", sa.Text(), nullable=True),
        sa.Column("metadata", JsonDoc, nullable=False),
        _soft_delete(),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_prompt_v2"),
    )
    op.create_index(
        "ix_prompt_v2_org_user_defined",
        "prompt_v2",
        ["organization_id", "user_defined_id"],
        unique=True,
        sqlite_where=sa.text("NOT soft_delete"),
        postgresql_where=sa.text("NOT soft_delete"),
    )
    op.create_table(
        "prompts_versions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("organization_id", sa.String(36), nullable=False),
        sa.Column("prompt_v2", sa.String(36), nullable=False),
        sa.Column("major_version", sa.Integer(), nullable=False),
        sa.Column("minor_version", sa.Integer(), nullable=False),
        sa.Column("helicone_template", JsonDoc, nullable=True),
        sa.Column("model", sa.String(), nullable=False, server_default=""),
        sa.Column("metadata", JsonDoc, nullable=False),
        sa.Column("experiment_id", sa.String(36), nullable=True),
        sa.Column("parent_prompt_version", sa.String(36), nullable=True),
        _soft_delete(),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["prompt_v2"],
            ["prompt_v2.id"],
            name="fk_prompts_versions_prompt_v2_prompt_v2",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_prompts_versions"),
    )
    op.create_index(
        "ix_prompts_versions_org_prompt", "prompts_versions", ["organization_id", "prompt_v2"]
    )
    op.create_table(
        "prompt_input_record",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("organization_id", sa.String(36), nullable=False),
        sa.Column("prompt_version", sa.String(36), nullable=False),
        sa.Column("inputs", JsonDoc, nullable=False),
        sa.Column("auto_prompt_inputs", JsonDoc, nullable=False),
        sa.Column("source_request", sa.String(36), nullable=True),
        sa.Column("experiment_id", sa.String(36), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_prompt_input_record"),
    )
    op.create_index(
        "ix_prompt_input_record_org_version",
        "prompt_input_record",
        ["organization_id", "prompt_version"],
    )
    op.create_table(
        "prompts_2025",
        sa.Column("id", sa.String(16), nullable=False),
        sa.Column("organization_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("tags", JsonDoc, nullable=False),
        sa.Column("production_version", sa.String(36), nullable=True),
        _soft_delete(),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_prompts_2025"),
    )
    op.create_index(
        "ix_prompts_2025_org_created", "prompts_2025", ["organization_id", "created_at"]
    )
    op.create_table(
        "prompts_2025_versions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("prompt_id", sa.String(16), nullable=False),
        sa.Column("organization_id", sa.String(36), nullable=False),
        sa.Column("major_version", sa.Integer(), nullable=False),
        sa.Column("minor_version", sa.Integer(), nullable=False),
        sa.Column("commit_message", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_by", sa.String(36), nullable=True),
        sa.Column("model", sa.String(), nullable=False, server_default=""),
        sa.Column("environments", JsonDoc, nullable=False),
        sa.Column("prompt_body", JsonDoc, nullable=False),
        sa.Column("body_token", sa.String(64), nullable=False),
        _soft_delete(),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["prompt_id"],
            ["prompts_2025.id"],
            name="fk_prompts_2025_versions_prompt_id_prompts_2025",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_prompts_2025_versions"),
    )
    op.create_index(
        "ix_prompts_2025_versions_org_prompt",
        "prompts_2025_versions",
        ["organization_id", "prompt_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_prompts_2025_versions_org_prompt", table_name="prompts_2025_versions")
    op.drop_table("prompts_2025_versions")
    op.drop_index("ix_prompts_2025_org_created", table_name="prompts_2025")
    op.drop_table("prompts_2025")
    op.drop_index("ix_prompt_input_record_org_version", table_name="prompt_input_record")
    op.drop_table("prompt_input_record")
    op.drop_index("ix_prompts_versions_org_prompt", table_name="prompts_versions")
    op.drop_table("prompts_versions")
    op.drop_index("ix_prompt_v2_org_user_defined", table_name="prompt_v2")
    op.drop_table("prompt_v2")
