"""Plain records for prompts, crossing the store's boundary (no SQLAlchemy types)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class LegacyPrompt:
    """A legacy prompt (Helicone's ``prompt_v2``)."""

    id: str
    organization_id: str
    user_defined_id: str
    description: str | None
    pretty_name: str | None
    metadata: dict[str, Any]
    created_at: dt.datetime


@dataclass(slots=True)
class PromptVersion:
    """A legacy prompt version (``prompts_versions``): a template and its numbering.

    ``prompt_id`` is the ``prompt_v2`` id; ``helicone_template`` is the stored JSON template
    (an OpenAI-style body whose inputs are ``<helicone-prompt-input key="…" />`` tags).
    """

    id: str
    prompt_id: str
    organization_id: str
    major_version: int
    minor_version: int
    model: str
    helicone_template: Any
    metadata: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime
    parent_prompt_version: str | None = None
    experiment_id: str | None = None

    @property
    def is_production(self) -> bool:
        """True for the version calls use by default."""
        return bool(self.metadata.get("isProduction"))


@dataclass(slots=True)
class Prompt2025:
    """A 2025 prompt: a name, tags and the id of its production version."""

    id: str
    organization_id: str
    name: str
    tags: list[str]
    production_version: str | None
    created_at: dt.datetime


@dataclass(slots=True)
class Prompt2025Version:
    """A 2025 prompt version: an OpenAI chat body with ``{{hc:…}}`` variables."""

    id: str
    prompt_id: str
    organization_id: str
    major_version: int
    minor_version: int
    commit_message: str
    model: str
    environments: list[str]
    prompt_body: dict[str, Any]
    created_at: dt.datetime
    created_by: str | None = None
    body_token: str = ""  # the secret of the body's credential-free URL


@dataclass(slots=True)
class InputRecord:
    """The inputs of one call (or one hand-made row) of a prompt version."""

    id: str
    prompt_version: str
    inputs: dict[str, Any]
    auto_prompt_inputs: list[Any] = field(default_factory=list)
    source_request: str | None = None
    created_at: dt.datetime | None = None
    request_body: str | None = None
    response_body: str | None = None
