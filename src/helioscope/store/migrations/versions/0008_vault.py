"""The vault: encrypted provider keys and the proxy keys bound to them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from helioscope.store._dialects import JsonDoc, UtcDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "provider_key",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("organization_id", sa.String(36), nullable=False),
        sa.Column("provider_name", sa.String(100), nullable=False),
        sa.Column("provider_key_name", sa.String(200), nullable=False),
        sa.Column("encrypted_key", sa.LargeBinary(), nullable=False),
        sa.Column("config", JsonDoc, nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name="fk_provider_key_organization_id_organization",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_provider_key"),
    )
    op.create_index("ix_provider_key_organization_id", "provider_key", ["organization_id"])
    op.create_table(
        "proxy_key",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("organization_id", sa.String(36), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=False),
        sa.Column("provider_key_id", sa.String(36), nullable=False),
        sa.Column("proxy_key_name", sa.String(200), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name="fk_proxy_key_organization_id_organization",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["helicone_api_keys.id"],
            name="fk_proxy_key_api_key_id_helicone_api_keys",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["provider_key_id"],
            ["provider_key.id"],
            name="fk_proxy_key_provider_key_id_provider_key",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_proxy_key"),
        sa.UniqueConstraint("api_key_id", name="uq_proxy_key_api_key_id"),
    )
    op.create_index("ix_proxy_key_organization_id", "proxy_key", ["organization_id"])
    op.create_index("ix_proxy_key_provider_key_id", "proxy_key", ["provider_key_id"])


def downgrade() -> None:
    op.drop_index("ix_proxy_key_provider_key_id", table_name="proxy_key")
    op.drop_index("ix_proxy_key_organization_id", table_name="proxy_key")
    op.drop_table("proxy_key")
    op.drop_index("ix_provider_key_organization_id", table_name="provider_key")
    op.drop_table("provider_key")
