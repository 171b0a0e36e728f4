"""Datasets, evaluators, scores and experiments (issue 6).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from helioscope.store._dialects import JsonDoc, UtcDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evaluator",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("scoring_type", sa.String(), nullable=False),
        sa.Column("llm_template", JsonDoc, nullable=True),
        sa.Column("code_template", JsonDoc, nullable=True),
        sa.Column("last_mile_config", JsonDoc, nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluator")),
    )
    op.create_index(
        "ix_evaluator_org", "evaluator", ["organization_id", "created_at"], unique=False
    )
    op.create_table(
        "experiment",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("original_prompt_version", sa.String(length=36), nullable=True),
        sa.Column("copied_original_prompt_version", sa.String(length=36), nullable=True),
        sa.Column("input_keys", JsonDoc, nullable=True),
        sa.Column("dataset_id", sa.String(length=36), nullable=True),
        sa.Column("meta", JsonDoc, nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiment")),
    )
    op.create_index(
        "ix_experiment_org", "experiment", ["organization_id", "created_at"], unique=False
    )
    op.create_table(
        "helicone_dataset",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("dataset_type", sa.String(length=20), server_default="helicone", nullable=False),
        sa.Column("meta", JsonDoc, nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("deleted_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_helicone_dataset")),
    )
    op.create_index(
        "ix_helicone_dataset_org",
        "helicone_dataset",
        ["organization_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "score_value",
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("score_key", sa.String(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "organization_id", "request_id", "score_key", name=op.f("pk_score_value")
        ),
    )
    op.create_index(
        "ix_score_value_org_key", "score_value", ["organization_id", "score_key"], unique=False
    )
    op.create_table(
        "experiment_evaluator",
        sa.Column("experiment_id", sa.String(length=36), nullable=False),
        sa.Column("evaluator_id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["evaluator_id"],
            ["evaluator.id"],
            name=op.f("fk_experiment_evaluator_evaluator_id_evaluator"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiment.id"],
            name=op.f("fk_experiment_evaluator_experiment_id_experiment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "experiment_id", "evaluator_id", name=op.f("pk_experiment_evaluator")
        ),
    )
    op.create_table(
        "experiment_hypothesis",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("experiment_id", sa.String(length=36), nullable=False),
        sa.Column("prompt_version_id", sa.String(length=36), nullable=False),
        sa.Column("model", sa.String(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("provider_key_id", sa.String(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiment.id"],
            name=op.f("fk_experiment_hypothesis_experiment_id_experiment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiment_hypothesis")),
    )
    op.create_table(
        "experiment_input_record",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("experiment_id", sa.String(length=36), nullable=True),
        sa.Column("prompt_version_id", sa.String(length=36), nullable=True),
        sa.Column("inputs", JsonDoc, nullable=False),
        sa.Column("auto_prompt_inputs", JsonDoc, nullable=False),
        sa.Column("source_request", sa.String(length=36), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiment.id"],
            name=op.f("fk_experiment_input_record_experiment_id_experiment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiment_input_record")),
    )
    op.create_index(
        op.f("ix_experiment_input_record_experiment_id"),
        "experiment_input_record",
        ["experiment_id"],
        unique=False,
    )
    op.create_table(
        "experiment_table",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("experiment_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("metadata", JsonDoc, nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiment.id"],
            name=op.f("fk_experiment_table_experiment_id_experiment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiment_table")),
    )
    op.create_table(
        "helicone_dataset_row",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("origin_request_id", sa.String(length=36), nullable=False),
        sa.Column("request_body", sa.Text(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["helicone_dataset.id"],
            name=op.f("fk_helicone_dataset_row_dataset_id_helicone_dataset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_helicone_dataset_row")),
        sa.UniqueConstraint(
            "dataset_id",
            "origin_request_id",
            name=op.f("uq_helicone_dataset_row_dataset_id_origin_request_id"),
        ),
    )
    op.create_table(
        "online_evaluator",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("evaluator_id", sa.String(length=36), nullable=False),
        sa.Column("config", JsonDoc, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["evaluator_id"],
            ["evaluator.id"],
            name=op.f("fk_online_evaluator_evaluator_id_evaluator"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_online_evaluator")),
    )
    op.create_index(
        "ix_online_evaluator_org", "online_evaluator", ["organization_id"], unique=False
    )
    op.create_table(
        "experiment_column",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("table_id", sa.String(length=36), nullable=False),
        sa.Column("column_name", sa.String(), nullable=False),
        sa.Column("column_type", sa.String(), nullable=False),
        sa.Column("hypothesis_id", sa.String(length=36), nullable=True),
        sa.Column("prompt_version_id", sa.String(length=36), nullable=True),
        sa.Column("input_keys", JsonDoc, nullable=True),
        sa.Column("metadata", JsonDoc, nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["table_id"],
            ["experiment_table.id"],
            name=op.f("fk_experiment_column_table_id_experiment_table"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiment_column")),
    )
    op.create_table(
        "experiment_dataset_row",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("input_record_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["helicone_dataset.id"],
            name=op.f("fk_experiment_dataset_row_dataset_id_helicone_dataset"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["input_record_id"],
            ["experiment_input_record.id"],
            name=op.f("fk_experiment_dataset_row_input_record_id_experiment_input_record"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiment_dataset_row")),
    )
    op.create_index(
        "ix_experiment_dataset_row_dataset",
        "experiment_dataset_row",
        ["dataset_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "experiment_output",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("experiment_id", sa.String(length=36), nullable=False),
        sa.Column("input_record_id", sa.String(length=36), nullable=False),
        sa.Column("prompt_version_id", sa.String(length=36), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=True),
        sa.Column("is_original", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="pending", nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiment.id"],
            name=op.f("fk_experiment_output_experiment_id_experiment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["input_record_id"],
            ["experiment_input_record.id"],
            name=op.f("fk_experiment_output_input_record_id_experiment_input_record"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiment_output")),
        sa.UniqueConstraint(
            "experiment_id",
            "input_record_id",
            "prompt_version_id",
            name=op.f("uq_experiment_output_experiment_id_input_record_id_prompt_version_id"),
        ),
    )
    op.create_table(
        "experiment_cell",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("column_id", sa.String(length=36), nullable=False),
        sa.Column("row_index", sa.Integer(), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("request_id", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.Column("metadata", JsonDoc, nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["column_id"],
            ["experiment_column.id"],
            name=op.f("fk_experiment_cell_column_id_experiment_column"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiment_cell")),
        sa.UniqueConstraint(
            "column_id", "row_index", name=op.f("uq_experiment_cell_column_id_row_index")
        ),
    )
    # ### end Alembic commands ###


def downgrade() -> None:
    op.drop_table("experiment_cell")
    op.drop_table("experiment_output")
    op.drop_index("ix_experiment_dataset_row_dataset", table_name="experiment_dataset_row")
    op.drop_table("experiment_dataset_row")
    op.drop_table("experiment_column")
    op.drop_index("ix_online_evaluator_org", table_name="online_evaluator")
    op.drop_table("online_evaluator")
    op.drop_table("helicone_dataset_row")
    op.drop_table("experiment_table")
    op.drop_index(
        op.f("ix_experiment_input_record_experiment_id"), table_name="experiment_input_record"
    )
    op.drop_table("experiment_input_record")
    op.drop_table("experiment_hypothesis")
    op.drop_table("experiment_evaluator")
    op.drop_index("ix_score_value_org_key", table_name="score_value")
    op.drop_table("score_value")
    op.drop_index("ix_helicone_dataset_org", table_name="helicone_dataset")
    op.drop_table("helicone_dataset")
    op.drop_index("ix_experiment_org", table_name="experiment")
    op.drop_table("experiment")
    op.drop_index("ix_evaluator_org", table_name="evaluator")
    op.drop_table("evaluator")
    # ### end Alembic commands ###
