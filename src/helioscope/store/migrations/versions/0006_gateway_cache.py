"""The gateway's embedded response cache.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from helioscope.store._dialects import UtcDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gateway_cache",
        sa.Column("cache_key", sa.String(64), nullable=False),
        sa.Column("organization_id", sa.String(36), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("cache_key", name="pk_gateway_cache"),
    )
    op.create_index("ix_gateway_cache_expires_at", "gateway_cache", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_gateway_cache_expires_at", table_name="gateway_cache")
    op.drop_table("gateway_cache")
