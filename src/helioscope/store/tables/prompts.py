"""Prompt tables: legacy prompts and their versions and input records; prompts 2025.

Legacy: ``prompt_v2``, ``prompts_versions``, ``prompt_input_record``. 2025: ``prompts_2025``,
``prompts_2025_versions``.

Helicone keeps a 2025 prompt's body in an S3 bucket; here it is a JSON column of its version.
The inputs of each call made with a prompt are not copied to a table of their own: the request
log row carries ``prompt_id``, ``prompt_version`` and ``prompt_inputs`` (written with the row,
in the writer's batch), and the inputs queries read it there.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table, Text, text

from helioscope.store._dialects import JsonDoc, UtcDateTime
from helioscope.store.tables._metadata import metadata

# A legacy prompt: `user_defined_id` is the Helicone-Prompt-Id its calls carry.
prompt_v2 = Table(
    "prompt_v2",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("organization_id", String(36), nullable=False),
    Column("user_defined_id", String(), nullable=False),
    Column("description", Text),
    Column("pretty_name", Text),
    # createdFromUi, promptFromRequest, emptyPrompt
    Column("metadata", JsonDoc, nullable=False),
    Column("soft_delete", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", UtcDateTime(), nullable=False),
    # One live prompt per Helicone-Prompt-Id: two first calls racing cannot make two prompts.
    Index(
        "ix_prompt_v2_org_user_defined",
        "organization_id",
        "user_defined_id",
        unique=True,
        sqlite_where=text("NOT soft_delete"),
        postgresql_where=text("NOT soft_delete"),
    ),
)

prompts_versions = Table(
    "prompts_versions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("organization_id", String(36), nullable=False),
    Column("prompt_v2", String(36), ForeignKey("prompt_v2.id", ondelete="CASCADE"), nullable=False),
    Column("major_version", Integer, nullable=False),
    Column("minor_version", Integer, nullable=False),
    Column("helicone_template", JsonDoc),
    Column("model", String(), nullable=False, server_default=""),
    # isProduction, label, experimentAssigned, provider, inputs
    Column("metadata", JsonDoc, nullable=False),
    Column("experiment_id", String(36)),
    Column("parent_prompt_version", String(36)),
    Column("soft_delete", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index("ix_prompts_versions_org_prompt", "organization_id", "prompt_v2"),
)

# Inputs kept apart from the request log: rows added by hand or by experiments.
prompt_input_record = Table(
    "prompt_input_record",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("organization_id", String(36), nullable=False),
    Column("prompt_version", String(36), nullable=False),
    Column("inputs", JsonDoc, nullable=False),
    Column("auto_prompt_inputs", JsonDoc, nullable=False),
    Column("source_request", String(36)),
    Column("experiment_id", String(36)),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_prompt_input_record_org_version", "organization_id", "prompt_version"),
)

# A 2025 prompt: `id` is 6 random alphanumeric characters, unique across organizations.
prompts_2025 = Table(
    "prompts_2025",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("organization_id", String(36), nullable=False),
    Column("name", String(), nullable=False),
    Column("tags", JsonDoc, nullable=False),  # a JSON array of strings
    Column("production_version", String(36)),
    Column("soft_delete", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_prompts_2025_org_created", "organization_id", "created_at"),
)

prompts_2025_versions = Table(
    "prompts_2025_versions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column(
        "prompt_id",
        String(16),
        ForeignKey("prompts_2025.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("organization_id", String(36), nullable=False),
    Column("major_version", Integer, nullable=False),
    Column("minor_version", Integer, nullable=False),
    Column("commit_message", Text, nullable=False, server_default=""),
    Column("created_by", String(36)),
    Column("model", String(), nullable=False, server_default=""),
    Column("environments", JsonDoc, nullable=False),  # a JSON array of environment names
    Column("prompt_body", JsonDoc, nullable=False),  # the OpenAI chat body (S3 in Helicone)
    # A random secret in the body's URL (Helicone's SDKs fetch `s3_url` without credentials).
    Column("body_token", String(64), nullable=False),
    Column("soft_delete", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_prompts_2025_versions_org_prompt", "organization_id", "prompt_id"),
)
