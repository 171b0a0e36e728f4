"""Hidden property keys, webhooks, alerts and alert history.

Revision ID: 0007
Revises: 0003
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from helioscope.store._dialects import JsonDoc, UtcDateTime

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hidden_property_key",
        sa.Column("organization_id", sa.String(36), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("organization_id", "key", name="pk_hidden_property_key"),
    )
    op.create_table(
        "webhook",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("organization_id", sa.String(36), nullable=False),
        sa.Column("destination", sa.Text(), nullable=False),
        sa.Column("hmac_key", sa.String(200), nullable=False),
        sa.Column("config", JsonDoc, nullable=False),
        sa.Column("version", sa.String(20), server_default="2", nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhook"),
    )
    op.create_index("ix_webhook_organization_id", "webhook", ["organization_id"])
    op.create_table(
        "alert",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("organization_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("metric", sa.String(40), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("time_window", sa.BigInteger(), nullable=False),
        sa.Column("minimum_request_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("cooldown", sa.BigInteger(), nullable=False),
        sa.Column("emails", JsonDoc, nullable=False),
        sa.Column("slack_channels", JsonDoc, nullable=False),
        sa.Column("webhook_id", sa.String(36), nullable=True),
        sa.Column("status", sa.String(20), server_default="resolved", nullable=False),
        sa.Column("below_since", UtcDateTime(), nullable=True),
        sa.Column("soft_delete", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alert"),
    )
    op.create_index("ix_alert_organization_id", "alert", ["organization_id"])
    op.create_table(
        "alert_history",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("organization_id", sa.String(36), nullable=False),
        sa.Column("alert_id", sa.String(36), nullable=False),
        sa.Column("alert_name", sa.String(200), nullable=False),
        sa.Column("alert_metric", sa.String(40), nullable=False),
        sa.Column("triggered_value", sa.Float(), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("alert_start_time", UtcDateTime(), nullable=False),
        sa.Column("alert_end_time", UtcDateTime(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alert_history"),
    )
    op.create_index("ix_alert_history_org_alert", "alert_history", ["organization_id", "alert_id"])


def downgrade() -> None:
    op.drop_index("ix_alert_history_org_alert", table_name="alert_history")
    op.drop_table("alert_history")
    op.drop_index("ix_alert_organization_id", table_name="alert")
    op.drop_table("alert")
    op.drop_index("ix_webhook_organization_id", table_name="webhook")
    op.drop_table("webhook")
    op.drop_table("hidden_property_key")
