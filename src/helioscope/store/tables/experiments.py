"""Tables of datasets, evaluators and experiments (Helicone's section 7 and 8.1).

Every table carries ``organization_id`` and every query filters on it. Ids are UUID strings,
chosen by Helioscope. Children cascade when their parent is deleted.

::

    helicone_dataset ──< helicone_dataset_row        (rows of logged requests, edited bodies)
    helicone_dataset ──< experiment_dataset_row >── experiment_input_record
    experiment ──< experiment_input_record            (rows: inputs of one prompt run)
    experiment ──< experiment_output                  (cells: one row x one prompt version)
    experiment ──< experiment_evaluator >── evaluator ──< online_evaluator
    experiment ──< experiment_hypothesis              (the older API's hypotheses)
    experiment ──< experiment_table ──< experiment_column ──< experiment_cell
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from helioscope.store._dialects import JsonDoc, UtcDateTime
from helioscope.store.tables._metadata import metadata


def _org() -> Column[str]:
    return Column("organization_id", String(36), nullable=False)


def _parent(name: str, table: str) -> Column[str]:
    return Column(name, String(36), ForeignKey(f"{table}.id", ondelete="CASCADE"), nullable=False)


helicone_dataset = Table(
    "helicone_dataset",
    metadata,
    Column("id", String(36), primary_key=True),
    _org(),
    Column("name", String()),
    # "helicone": rows are logged requests; "experiment": rows are input records.
    Column("dataset_type", String(20), nullable=False, server_default="helicone"),
    Column("meta", JsonDoc),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("deleted_at", UtcDateTime()),
    Index("ix_helicone_dataset_org", "organization_id", "created_at"),
)

helicone_dataset_row = Table(
    "helicone_dataset_row",
    metadata,
    Column("id", String(36), primary_key=True),
    _org(),
    _parent("dataset_id", "helicone_dataset"),
    Column("origin_request_id", String(36), nullable=False),
    # Edited copies of the bodies (JSON text); NULL means "as logged".
    Column("request_body", Text),
    Column("response_body", Text),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("dataset_id", "origin_request_id"),
)

experiment = Table(
    "experiment",
    metadata,
    Column("id", String(36), primary_key=True),
    _org(),
    Column("name", String(), nullable=False),
    Column("original_prompt_version", String(36)),
    Column("copied_original_prompt_version", String(36)),
    Column("input_keys", JsonDoc),
    Column("dataset_id", String(36)),  # the older API's experiments run over a dataset
    Column("meta", JsonDoc),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_experiment_org", "organization_id", "created_at"),
)

experiment_input_record = Table(
    "experiment_input_record",
    metadata,
    Column("id", String(36), primary_key=True),
    _org(),
    Column(
        "experiment_id", String(36), ForeignKey("experiment.id", ondelete="CASCADE"), index=True
    ),
    Column("prompt_version_id", String(36)),
    Column("inputs", JsonDoc, nullable=False),
    Column("auto_prompt_inputs", JsonDoc, nullable=False),
    Column("source_request", String(36)),
    Column("created_at", UtcDateTime(), nullable=False),
)

experiment_dataset_row = Table(
    "experiment_dataset_row",
    metadata,
    Column("id", String(36), primary_key=True),
    _org(),
    _parent("dataset_id", "helicone_dataset"),
    _parent("input_record_id", "experiment_input_record"),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_experiment_dataset_row_dataset", "dataset_id", "created_at"),
)

experiment_output = Table(
    "experiment_output",
    metadata,
    Column("id", String(36), primary_key=True),
    _org(),
    _parent("experiment_id", "experiment"),
    _parent("input_record_id", "experiment_input_record"),
    Column("prompt_version_id", String(36), nullable=False),
    Column("request_id", String(36)),
    Column("is_original", Boolean, nullable=False, server_default=text("false")),
    # pending -> running -> success | failed (with the error text); a failed cell keeps its row.
    Column("status", String(20), nullable=False, server_default="pending"),
    Column("error", Text),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("experiment_id", "input_record_id", "prompt_version_id"),
)

evaluator = Table(
    "evaluator",
    metadata,
    Column("id", String(36), primary_key=True),
    _org(),
    Column("name", String(), nullable=False),
    Column("scoring_type", String(), nullable=False),
    Column("llm_template", JsonDoc),
    Column("code_template", JsonDoc),
    Column("last_mile_config", JsonDoc),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index("ix_evaluator_org", "organization_id", "created_at"),
)

experiment_evaluator = Table(
    "experiment_evaluator",
    metadata,
    Column(
        "experiment_id",
        String(36),
        ForeignKey("experiment.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "evaluator_id", String(36), ForeignKey("evaluator.id", ondelete="CASCADE"), primary_key=True
    ),
    _org(),
    Column("created_at", UtcDateTime(), nullable=False),
)

online_evaluator = Table(
    "online_evaluator",
    metadata,
    Column("id", String(36), primary_key=True),
    _org(),
    _parent("evaluator_id", "evaluator"),
    Column("config", JsonDoc, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_online_evaluator_org", "organization_id"),
)

experiment_hypothesis = Table(
    "experiment_hypothesis",
    metadata,
    Column("id", String(36), primary_key=True),
    _org(),
    _parent("experiment_id", "experiment"),
    Column("prompt_version_id", String(36), nullable=False),
    Column("model", String(), nullable=False),
    Column("status", String(20), nullable=False),
    Column("provider_key_id", String()),
    Column("created_at", UtcDateTime(), nullable=False),
)

experiment_table = Table(
    "experiment_table",
    metadata,
    Column("id", String(36), primary_key=True),
    _org(),
    _parent("experiment_id", "experiment"),
    Column("name", String(), nullable=False),
    Column("metadata", JsonDoc),
    Column("created_at", UtcDateTime(), nullable=False),
)

experiment_column = Table(
    "experiment_column",
    metadata,
    Column("id", String(36), primary_key=True),
    _org(),
    _parent("table_id", "experiment_table"),
    Column("column_name", String(), nullable=False),
    Column("column_type", String(), nullable=False),
    Column("hypothesis_id", String(36)),
    Column("prompt_version_id", String(36)),
    Column("input_keys", JsonDoc),
    Column("metadata", JsonDoc),
    Column("position", Integer, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

experiment_cell = Table(
    "experiment_cell",
    metadata,
    Column("id", String(36), primary_key=True),
    _org(),
    _parent("column_id", "experiment_column"),
    Column("row_index", Integer, nullable=False),
    Column("value", Text),
    Column("request_id", String(36)),
    Column("status", String(20)),
    Column("metadata", JsonDoc),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("column_id", "row_index"),
)

__all__ = [
    "evaluator",
    "experiment",
    "experiment_cell",
    "experiment_column",
    "experiment_dataset_row",
    "experiment_evaluator",
    "experiment_hypothesis",
    "experiment_input_record",
    "experiment_output",
    "experiment_table",
    "helicone_dataset",
    "helicone_dataset_row",
    "online_evaluator",
]
